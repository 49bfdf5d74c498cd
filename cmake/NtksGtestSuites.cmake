# One ctest test per GoogleTest suite, not per test case.
#
# Every test process loads LibTorch and the ~290 libraries Debian's build pulls
# in: about 0.47 s before main() on the 2-core CI machine. Run case by case,
# the unit tests' ~480 cases spent more than half their time starting up.
# A suite (Suite.*) runs in one process, and every case in it still runs and is
# reported by name in the output; ctest --output-on-failure shows which failed.
# Run one case with the binary itself: ntks_unit_tests --gtest_filter=Suite.Case
#
# ntks_add_gtest_suites(<target> [TIMEOUT <s>] [SKIP_RETURN_CODE <code>] [ENVIRONMENT <var=value>...])
# After each build of <target>, lists its suites (--gtest_list_tests) into a
# file ctest includes (the mechanism of CMake's gtest_discover_tests). A suite
# that exits with SKIP_RETURN_CODE is reported as skipped (tests/unit/unit_main.cpp
# returns it when every case of the run skipped itself).
function(ntks_add_gtest_suites target)
  cmake_parse_arguments(arg "" "TIMEOUT;SKIP_RETURN_CODE" "ENVIRONMENT" ${ARGN})
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 600)
  endif()
  set(listing ${CMAKE_CURRENT_BINARY_DIR}/${target}_suites.cmake)
  set(loader ${CMAKE_CURRENT_BINARY_DIR}/${target}_suites_include.cmake)
  string(REPLACE ";" "|" environment "${arg_ENVIRONMENT}")  # one -D argument; the script splits it
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -D "BINARY=$<TARGET_FILE:${target}>" -D "OUTPUT=${listing}"
            -D "TIMEOUT=${arg_TIMEOUT}" -D "SKIP_RETURN_CODE=${arg_SKIP_RETURN_CODE}" -D "ENVIRONMENT=${environment}"
            -P ${PROJECT_SOURCE_DIR}/cmake/scripts/list_gtest_suites.cmake
    BYPRODUCTS ${listing}
    COMMENT "Listing the GoogleTest suites of ${target}"
    VERBATIM)
  # Until the binary is built there is nothing to list: a test that says so.
  file(WRITE ${loader}
    "if(EXISTS \"${listing}\")\n"
    "  include(\"${listing}\")\n"
    "else()\n"
    "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${loader})
endfunction()
