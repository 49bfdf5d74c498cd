#pragma once
// Debian's CPU-only LibTorch ships the c10/cuda headers but not this
// generated one; the official CUDA LibTorch has it with this content. Used
// only to compile-check the CUDA sources (cmake/gpu_check), never linked.
#define C10_CUDA_BUILD_SHARED_LIBS
