// GoogleTest main of the unit tests. ctest runs them a suite at a time
// (cmake/NtksGtestSuites.cmake): a suite whose every case skipped itself
// (GTEST_SKIP: a tool or data file not installed) exits with kAllSkipped, which
// ctest reports as skipped rather than passed. Any failure still exits 1.

#include <gtest/gtest.h>

#include "ntks/util/blas_kernels.h"

namespace {

constexpr int kAllSkipped = 77;  // the SKIP_RETURN_CODE of the suites' ctest tests

}  // namespace

int main(int argc, char** argv) {
  ntks::util::prefer_right_blas_kernels(argv);  // the kernels the binary would run
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  const ::testing::UnitTest& run = *::testing::UnitTest::GetInstance();
  if (rc == 0 && run.successful_test_count() == 0 && run.skipped_test_count() > 0) return kAllSkipped;
  return rc;
}
