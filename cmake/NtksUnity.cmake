# Unity builds: sources compiled several to a translation unit.
#
# On the 2-core CI machine a source that includes torch spends ~5 s loading
# the 570 MB precompiled header before its first line, and then instantiates
# and optimizes the same torch templates as every other torch source; a test
# source spends ~2 s on GoogleTest's headers alone. Batching them pays those
# costs once per batch: a full build takes about a third of the CPU time (see
# docs/architecture.md, "Build speed"). Torch and torch-free sources are batched
# apart, so that the torch-free batches never load the precompiled header.
#
# A batch is one translation unit: names at namespace scope in a .cpp (its
# anonymous namespace included) must not clash with another source's. The
# build fails loudly when they do; rename the helper. -DNTKS_UNITY_BUILD=OFF
# compiles file by file (quicker to rebuild after editing one source).

option(NTKS_UNITY_BUILD "Compile sources in batches (unity build): about a third of the CPU time of a file-by-file build" ON)
set(NTKS_UNITY_TORCH_BATCH 8 CACHE STRING "Sources per unity batch among those that include torch")
set(NTKS_UNITY_PLAIN_BATCH 16 CACHE STRING "Sources per unity batch among those that do not include torch")

# ntks_add_objects(<name> <build-settings> <source>...)
# Compiles the sources into the object libraries <name>_torch (sources that
# include torch, with the shared precompiled header) and <name>_plain (the
# others, without it), both with the usage requirements of the INTERFACE
# target <build-settings>. Sets <name>_OBJECTS in the caller to their objects,
# for add_library/add_executable.
function(ntks_add_objects name settings)
  set(torch_sources "")
  set(plain_sources "")
  foreach(src IN LISTS ARGN)
    if(NOT src MATCHES "\\.cpp$")
      # CUDA sources: not batched (CMake batches C and C++ only); with the
      # torch sources, which carry the CUDA settings.
      list(APPEND torch_sources ${src})
      set_source_files_properties(${src} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
      continue()
    endif()
    ntks_includes_torch(${src} uses_torch)
    if(uses_torch)
      list(APPEND torch_sources ${src})
    else()
      list(APPEND plain_sources ${src})
    endif()
  endforeach()

  set(objects "")
  foreach(kind torch plain)
    if(NOT ${kind}_sources)
      continue()
    endif()
    set(target ${name}_${kind})
    add_library(${target} OBJECT ${${kind}_sources})
    target_link_libraries(${target} PRIVATE ${settings})
    string(TOUPPER ${kind} kind_upper)
    set_target_properties(${target} PROPERTIES
      UNITY_BUILD ${NTKS_UNITY_BUILD}
      UNITY_BUILD_BATCH_SIZE ${NTKS_UNITY_${kind_upper}_BATCH})
    if(kind STREQUAL torch)
      ntks_use_torch_pch(${target})
    endif()
    list(APPEND objects $<TARGET_OBJECTS:${target}>)
  endforeach()
  set(${name}_OBJECTS ${objects} PARENT_SCOPE)
endfunction()
