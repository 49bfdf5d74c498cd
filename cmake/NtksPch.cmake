# torch/torch.h costs ~16 s per translation unit. It is precompiled once, in
# ntks_pch, and every target that compiles torch code reuses that header
# (ntks_use_torch_pch). Sources that do not include torch (ntks_includes_torch)
# are compiled in targets without it (cmake/NtksUnity.cmake), so they neither
# wait for the PCH nor pay for loading it.
add_library(ntks_pch OBJECT ${CMAKE_CURRENT_LIST_DIR}/pch/pch_anchor.cpp)
# OpenMP too: a PCH is only used by compiles with the same -fopenmp setting,
# and faiss brings -fopenmp to every target that links the library.
target_link_libraries(ntks_pch PUBLIC torch OpenMP::OpenMP_CXX)
target_compile_options(ntks_pch PUBLIC ${NTKS_TORCH_CXX_FLAGS})
if(NTKS_FMT_HEADER_ONLY)
  target_compile_definitions(ntks_pch PUBLIC FMT_HEADER_ONLY)  # see NtksDependencies.cmake
endif()
target_precompile_headers(ntks_pch PUBLIC <torch/torch.h>)

function(ntks_use_torch_pch target)
  target_precompile_headers(${target} REUSE_FROM ntks_pch)
endfunction()

# Sets `out` to ON when `file` includes torch (<torch/...>, <ATen/...>,
# <c10/...>) directly or through the project's own quoted includes, followed
# recursively (from the file's folder, include/ and src/). Looking only at the
# file itself missed sources that get torch through their header, and those
# compiled torch from scratch (~30 s each instead of a few with the PCH).
function(ntks_includes_torch file out)
  get_property(known GLOBAL PROPERTY "NTKS_TORCH_${file}" SET)
  if(known)
    get_property(value GLOBAL PROPERTY "NTKS_TORCH_${file}")
    set(${out} ${value} PARENT_SCOPE)
    return()
  endif()
  set_property(GLOBAL PROPERTY "NTKS_TORCH_${file}" OFF)  # guards include cycles
  file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  get_filename_component(dir ${file} DIRECTORY)
  set(result OFF)
  foreach(line IN LISTS lines)
    if(line MATCHES "include[ \t]*<(torch|ATen|c10)/")
      set(result ON)
    elseif(line MATCHES "include[ \t]*\"([^\"]+)\"")
      set(inc ${CMAKE_MATCH_1})
      foreach(base ${dir} ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
        if(EXISTS ${base}/${inc})
          ntks_includes_torch(${base}/${inc} sub)
          if(sub)
            set(result ON)
          endif()
          break()
        endif()
      endforeach()
    endif()
    if(result)
      break()
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY "NTKS_TORCH_${file}" ${result})
  set(${out} ${result} PARENT_SCOPE)
endfunction()
