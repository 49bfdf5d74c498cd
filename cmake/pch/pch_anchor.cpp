// Empty translation unit: CMake needs one source to build the shared
// precompiled header for torch/torch.h (see cmake/NtksPch.cmake).
