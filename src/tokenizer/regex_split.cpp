// Split pre-tokenizer regexes through PCRE2. With PCRE2_UTF | PCRE2_UCP,
// \p{L}, \p{N}, \s, (?i:...) and the lookahead \s+(?!\S) behave as in the
// Oniguruma engine HF's tokenizers uses.

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <new>

#include "ntks/util/error.h"
#include "tokenizer/parts.h"

namespace ntks::tokenizer::detail {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct RegexSplitter::Code {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// One match block per thread, for every pattern: only the whole match's
// offsets are read, and creating one per split() cost an allocation per
// pre-token piece.
struct MatchData {
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  ~MatchData() { pcre2_match_data_free(md); }
};

pcre2_match_data* thread_match_data() {
  thread_local MatchData data;
  return data.md;
}

}  // namespace

RegexSplitter::RegexSplitter(const std::string& pattern, bool literal, const std::string& source)
    : code_(std::make_unique<Code>()) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  uint32_t options = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
  code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                              &err, &err_offset, nullptr);
  if (!code_->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw InputError(fmt::format("{}: pre_tokenizer Split pattern '{}' does not compile at offset {}: {}",
                                 source, pattern, err_offset, reinterpret_cast<const char*>(msg)));
  }
  // Optional: without JIT support the interpreter runs.
  code_->jit = pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE) == 0;
}

RegexSplitter::RegexSplitter(RegexSplitter&&) noexcept = default;
RegexSplitter::~RegexSplitter() = default;

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& out) const {
  pcre2_match_data* md = thread_match_data();
  if (!md) throw std::bad_alloc();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t offset = 0, gap_start = 0;
  while (offset <= text.size()) {
    int rc = code_->jit ? pcre2_jit_match(code_->code, subject, text.size(), offset, 0, md, nullptr)
                        : pcre2_match(code_->code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)  // very long runs: the interpreter has no such limit
      rc = pcre2_match(code_->code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md,
                       nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      throw InputError(fmt::format("pre_tokenizer regex failed on a text of {} bytes (PCRE2 error {})",
                                   text.size(), rc));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t start = ov[0], end = ov[1];
    if (start > gap_start) out.push_back(text.substr(gap_start, start - gap_start));
    if (end > start) out.push_back(text.substr(start, end - start));
    gap_start = end;
    if (end > offset) {
      offset = end;
    } else {  // empty match: step over one char
      if (offset >= text.size()) break;
      offset += utf8_length(static_cast<unsigned char>(text[offset]));
    }
  }
  if (gap_start < text.size()) out.push_back(text.substr(gap_start));
}

}  // namespace ntks::tokenizer::detail
