#pragma once
// Multiple-choice test lines: a record that also carries
//   "options": ["...", "...", ...]   (at least two non-empty strings)
//   "answer":  k                     (the index of the right option)
// is scored by the likelihood of each option as its response: the same
// prompt through the same chat template, the record's last assistant turn
// (alpaca output, prompt/response response, last assistant message) replaced
// by the option (`ntk-select demo-data` writes such test sets).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/sample_reader.h"

namespace ntks::tokenizer {
class Tokenizer;
}

namespace ntks::data {

struct Choices {
  std::vector<std::string> options;
  int64_t answer = 0;
};

/// The options and answer of `line`; nullopt when it has no "options" key.
/// InputError naming `where` (a "path:line") when they are malformed: not a
/// list of at least two non-empty strings, an answer that is missing, not an
/// integer or out of range, or an answer without options.
std::optional<Choices> parse_choices(std::string_view line, const std::string& where);

/// One sample per option (global index `index`): the record of `line` with
/// its last assistant turn replaced by the option, tokenized with `tmpl`,
/// cut to model.max_seq_len; only that turn's tokens are response tokens.
/// InputError naming `where` and the option when the record is
/// pre-tokenized or an option keeps no response token within max_seq_len.
std::vector<Sample> choice_samples(std::string_view line, const Choices& choices, const config::Config& cfg,
                                   const tokenizer::Tokenizer& tok, config::Template tmpl, int64_t index,
                                   const std::string& where);

}  // namespace ntks::data
