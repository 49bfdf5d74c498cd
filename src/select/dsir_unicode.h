#pragma once
// Python's character classes and lower-casing as DSIR's tokenizer sees them
// (tables generated from Python by tests/scripts/dsir_unicode_tables.py into
// dsir_unicode.cpp). Private to src/select.

#include <cstddef>
#include <cstdint>

namespace ntks::select::dsir_detail {

struct CodeRange {
  char32_t first, last;
};

/// c in first..last, stepping by stride, lower-cases to c + delta.
struct LowerRun {
  char32_t first, last;
  std::int32_t stride, delta;
};

extern const CodeRange kWord[];
extern const std::size_t kWordSize;
extern const CodeRange kSpace[];
extern const std::size_t kSpaceSize;
extern const CodeRange kCased[];
extern const std::size_t kCasedSize;
extern const CodeRange kCaseIgnorable[];
extern const std::size_t kCaseIgnorableSize;
extern const LowerRun kLower[];
extern const std::size_t kLowerSize;

}  // namespace ntks::select::dsir_detail
