// The content hash of a record: XXH3-64 over a canonical text that depends
// only on what the model sees (roles, contents or token ids), so it stays the
// same when a corpus is re-exported with other field names, key order or
// JSON spacing — the key under which feature rows are reused on a refresh.

#include <xxhash.h>

#include "ntks/config/enums.h"
#include "ntks/data/record.h"

namespace ntks::data {
namespace {

// "<length>:<bytes>;" so that no content can fake a part boundary.
void append_part(std::string& out, std::string_view part) {
  out += std::to_string(part.size());
  out += ':';
  out.append(part);
  out += ';';
}

}  // namespace

std::string canonical_text(const ParsedRecord& record) {
  std::string out;
  if (record.format == config::RecordFormat::tokens) {
    out = "tokens;";
    for (size_t i = 0; i < record.ids.size(); ++i) {
      out += std::to_string(record.ids[i]);
      out += record.response_mask[i] ? '+' : '-';
    }
    return out;
  }
  out = "chat;";
  for (const Message& m : record.messages) {
    append_part(out, m.role);
    append_part(out, m.content);
  }
  return out;
}

uint64_t content_hash(const ParsedRecord& record) {
  const std::string text = canonical_text(record);
  return XXH3_64bits(text.data(), text.size());
}

}  // namespace ntks::data
