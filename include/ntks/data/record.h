#pragma once
// One JSONL line of a corpus, parsed into a conversation (or pre-tokenized
// ids), and the content hash that lets later stages reuse work when a corpus
// is refreshed.
//
// Layouts (config data.format; auto picks per line by the fields present,
// in this order):
//   messages         {"messages": [{"role": ..., "content": ...}, ...]}
//   alpaca           {"instruction": ..., "input": ..., "output": ...}
//                    -> user: instruction, or instruction + "\n\n" + input
//                       when input is not empty; assistant: output
//   prompt_response  {"prompt": ..., "response": ...}
//   tokens           {"ids": [...], "response_mask": [0|1, ...]}
// Field names come from data.fields; alpaca and prompt_response also take an
// optional system field. Every layout may carry an id field.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/chat_template.h"
#include "ntks/util/error.h"

namespace ntks::data {

/// Why a line is not a usable record. The message says what is wrong with
/// the line; callers prefix "file:line: ".
class RecordError : public InputError {
 public:
  RecordError(std::string reason, const std::string& message) : InputError(message), reason_(std::move(reason)) {}
  /// Short category for counts: "json", "utf8", "layout", "field", "empty_response", "role", "tokens".
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

struct ParsedRecord {
  config::RecordFormat format = config::RecordFormat::auto_;  ///< the layout found (never auto)
  std::string id;                  ///< id field value (integers as decimal text); empty when absent
  std::vector<Message> messages;   ///< every layout but tokens
  std::vector<int32_t> ids;        ///< tokens layout
  std::vector<uint8_t> response_mask;  ///< tokens layout
};

/// Parses one line (without its line ending). Throws RecordError.
ParsedRecord parse_record(std::string_view line, const config::DataConfig& data);

/// The text the content hash is taken over: independent of the layout, the
/// field names, the JSON formatting and the id, so the same sample in another
/// file or spelling has the same hash. Every part is length-prefixed, so no
/// content can imitate a boundary between parts.
std::string canonical_text(const ParsedRecord& record);

/// XXH3-64 of canonical_text().
uint64_t content_hash(const ParsedRecord& record);

}  // namespace ntks::data
