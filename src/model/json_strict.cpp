#include "json_strict.h"

#include <set>
#include <vector>

#include <fmt/format.h>

#include "ntks/util/error.h"

namespace ntks::model::detail {

nlohmann::json parse_json_strict(std::string_view text, const std::string& source,
                                 const std::string& what, int max_depth) {
  using nlohmann::json;
  // Per open container: the key it is the value of, and the keys seen in it.
  struct Frame {
    std::string name;
    std::set<std::string> keys;
  };
  std::vector<Frame> frames;
  std::string last_key;
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= max_depth) {
          throw InputError(fmt::format("{}: {} nests deeper than {} levels", source, what, max_depth));
        }
        frames.push_back({depth == 0 ? std::string() : last_key, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames.empty()) frames.pop_back();
        break;
      case json::parse_event_t::key: {
        last_key = parsed.get_ref<const std::string&>();
        if (!frames.empty() && !frames.back().keys.insert(last_key).second) {
          const std::string& in = frames.back().name;
          throw InputError(fmt::format("{}: {} has the key '{}' twice{}", source, what, last_key,
                                       in.empty() ? "" : fmt::format(" (in '{}')", in)));
        }
        break;
      }
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check);
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: {} is not valid JSON: {}", source, what, e.what()));
  }
}

}  // namespace ntks::model::detail
