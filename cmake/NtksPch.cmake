# torch/torch.h costs ~16 s per translation unit. It is precompiled once, in
# ntks_pch, and every target that compiles torch code reuses that header
# (ntks_use_torch_pch). Sources that do not include torch opt out with
# ntks_skip_pch(), so they neither wait for the PCH nor pay for loading it.
add_library(ntks_pch OBJECT ${CMAKE_CURRENT_LIST_DIR}/pch/pch_anchor.cpp)
# OpenMP too: a PCH is only used by compiles with the same -fopenmp setting,
# and faiss brings -fopenmp to every target that links the library.
target_link_libraries(ntks_pch PUBLIC torch OpenMP::OpenMP_CXX)
target_compile_options(ntks_pch PUBLIC ${NTKS_TORCH_CXX_FLAGS})
target_precompile_headers(ntks_pch PUBLIC <torch/torch.h>)

function(ntks_use_torch_pch target)
  target_precompile_headers(${target} REUSE_FROM ntks_pch)
endfunction()

function(ntks_skip_pch)
  set_source_files_properties(${ARGN} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
endfunction()
