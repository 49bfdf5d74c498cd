#pragma once
// JSON parsing for files this tool must not trust (safetensors headers, shard
// indexes): nlohmann silently keeps the last of two equal keys, which would
// hide a tensor listed twice, and a hostile file could nest arrays millions
// deep. Both are InputErrors here.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ntks::model::detail {

/// Parses `text`; throws InputError "<source>: <what> ..." for invalid JSON, a
/// key that appears twice in one object, or nesting deeper than `max_depth`.
nlohmann::json parse_json_strict(std::string_view text, const std::string& source,
                                 const std::string& what, int max_depth);

}  // namespace ntks::model::detail
