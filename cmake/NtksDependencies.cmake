# Every dependency of ntk-select, found once here. cluster/install-deps installs
# the Debian packages that provide them; a cluster build points Torch_DIR at an
# official LibTorch 2.x (CUDA) instead.

option(NTKS_BUILD_TESTS "Build the GoogleTest suites and register them with ctest" ON)

# --- LibTorch ---------------------------------------------------------------
find_package(Torch REQUIRED)
# Torch's config appends its flags (e.g. -D_GLIBCXX_USE_CXX11_ABI) to a variable,
# not to its target: pass them on to ours.
separate_arguments(NTKS_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
set(_ntks_torch_has_cuda OFF)
if(TARGET torch_cuda OR CAFFE2_USE_CUDA OR TORCH_CUDA_LIBRARIES)
  set(_ntks_torch_has_cuda ON)
endif()
option(NTKS_WITH_CUDA "Build the CUDA paths (follows the LibTorch build)" ${_ntks_torch_has_cuda})
if(NTKS_WITH_CUDA AND NOT _ntks_torch_has_cuda)
  message(FATAL_ERROR "NTKS_WITH_CUDA=ON but the LibTorch at ${Torch_DIR} has no CUDA. "
                      "Point -DTorch_DIR at a CUDA build of LibTorch.")
endif()
if(NTKS_WITH_CUDA)
  find_package(CUDAToolkit REQUIRED)
  # The projector's kernel (src/features/projector_kernel.cu). Default targets:
  # A100 and H100; set -DCMAKE_CUDA_ARCHITECTURES for other GPUs.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80 90)
  endif()
  enable_language(CUDA)
endif()

# --- NCCL (CUDA builds only) -------------------------------------------------
option(NTKS_WITH_NCCL "Use NCCL for collectives on CUDA tensors" OFF)
if(NTKS_WITH_NCCL AND NOT NTKS_WITH_CUDA)
  message(FATAL_ERROR "NTKS_WITH_NCCL=ON needs a CUDA build (NTKS_WITH_CUDA=ON).")
endif()
if(NTKS_WITH_NCCL OR NOT NTKS_WITH_CUDA)
  # Looked up in both cases: to link it, or to compile-check the NCCL sources.
  find_path(NCCL_INCLUDE_DIR nccl.h
            HINTS $ENV{NCCL_HOME} $ENV{CUDA_HOME} /usr/local/cuda
            PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY nccl
               HINTS $ENV{NCCL_HOME} $ENV{CUDA_HOME} /usr/local/cuda
               PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)
endif()
if(NTKS_WITH_NCCL)
  if(NOT NCCL_INCLUDE_DIR OR NOT NCCL_LIBRARY)
    message(FATAL_ERROR "NTKS_WITH_NCCL=ON but nccl.h / libnccl were not found; set NCCL_HOME.")
  endif()
  add_library(ntks::nccl UNKNOWN IMPORTED)
  set_target_properties(ntks::nccl PROPERTIES IMPORTED_LOCATION "${NCCL_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${NCCL_INCLUDE_DIR}")
endif()

# --- Faiss -------------------------------------------------------------------
# Debian's faiss config references OpenMP::OpenMP_CXX without finding it.
find_package(OpenMP REQUIRED)
find_package(faiss REQUIRED)
option(NTKS_WITH_FAISS_GPU "Use Faiss GPU indexes (needs a Faiss built with GPU support)" OFF)
if(NTKS_WITH_FAISS_GPU AND NOT NTKS_WITH_CUDA)
  message(FATAL_ERROR "NTKS_WITH_FAISS_GPU=ON needs a CUDA build (NTKS_WITH_CUDA=ON).")
endif()

# --- MPI, HDF5, config/CLI helpers -------------------------------------------
find_package(MPI REQUIRED COMPONENTS C)
find_package(HDF5 REQUIRED COMPONENTS C CXX)
find_package(yaml-cpp REQUIRED)
find_package(Boost REQUIRED COMPONENTS program_options)
find_package(nlohmann_json 3 REQUIRED)
find_package(fmt REQUIRED)
# LibTorch 2.x (official zip, pip wheel) ships its own, newer fmt headers on
# its include path, ahead of the system's: code compiled against them must not
# link the system's libfmt (undefined fmt::v12 symbols), so fmt goes
# header-only there. Debian's LibTorch uses the system fmt itself.
get_target_property(_ntks_fmt_include fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
set(NTKS_FMT_HEADER_ONLY OFF)
if(EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt/format.h"
   AND NOT "${TORCH_INSTALL_PREFIX}/include" IN_LIST _ntks_fmt_include)
  set(NTKS_FMT_HEADER_ONLY ON)
endif()
find_path(XXHASH_INCLUDE_DIR xxhash.h REQUIRED)
find_library(XXHASH_LIBRARY xxhash REQUIRED)
find_path(PCRE2_INCLUDE_DIR pcre2.h REQUIRED)
find_library(PCRE2_LIBRARY pcre2-8 REQUIRED)
# utf8proc: Unicode NFC for tokenizers whose normalizer asks for it (Qwen3).
find_path(UTF8PROC_INCLUDE_DIR utf8proc.h REQUIRED)
find_library(UTF8PROC_LIBRARY utf8proc REQUIRED)
# zlib: the gzip'd (dictzip) dictionaries the pretraining corpus reads (src/corpora).
find_package(ZLIB REQUIRED)

if(NTKS_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()

# yaml-cpp 0.7 exports a plain "yaml-cpp" target, newer ones yaml-cpp::yaml-cpp.
if(TARGET yaml-cpp::yaml-cpp)
  set(NTKS_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(NTKS_YAML_TARGET yaml-cpp)
endif()
