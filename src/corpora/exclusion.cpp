// The samples a pretraining corpus must not contain (exclusion.h).

#include "ntks/corpora/exclusion.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "corpora/lines.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::corpora {
namespace {

// "wn-n06043075-define" -> ('n', 6043075).
bool synset_of(const std::string& id, char& pos, uint32_t& offset) {
  if (id.size() < 13 || id.compare(0, 3, "wn-") != 0 || std::string("nvar").find(id[3]) == std::string::npos)
    return false;
  for (size_t i = 4; i < 12; ++i)
    if (id[i] < '0' || id[i] > '9') return false;
  if (id.size() > 12 && id[12] != '-') return false;
  pos = id[3];
  offset = static_cast<uint32_t>(std::stoul(id.substr(4, 8)));
  return true;
}

void add_text(const nlohmann::json& v, std::vector<std::string>& out) {
  if (v.is_string() && !v.get_ref<const std::string&>().empty()) out.push_back(v.get<std::string>());
}

void read_jsonl(const std::string& path, Excluded& ex, std::set<std::pair<char, uint32_t>>& seen) {
  const std::string text = read_file(path);
  ex.files.push_back(path);
  for_each_line(text, [&](std::string_view line, size_t lineno) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}:{}: not JSON ({})", path, lineno, e.what()));
    }
    if (!j.is_object()) throw InputError(fmt::format("{}:{}: not a JSON object", path, lineno));
    ++ex.samples;
    for (const char* k : {"instruction", "input", "output", "prompt", "response", "text"})
      if (j.contains(k)) add_text(j[k], ex.fields);
    if (j.contains("messages") && j["messages"].is_array())
      for (const auto& m : j["messages"])
        if (m.is_object() && m.contains("content")) add_text(m["content"], ex.fields);
    char pos = 0;
    uint32_t offset = 0;
    if (j.contains("id") && j["id"].is_string() && synset_of(j["id"].get<std::string>(), pos, offset) &&
        seen.insert({pos, offset}).second)
      ex.synsets.push_back(ExcludedSynset{pos, offset, fmt::format("{}:{}", path, lineno)});
  });
}

}  // namespace

Excluded read_excluded(const std::vector<std::string>& paths) {
  Excluded ex;
  std::set<std::pair<char, uint32_t>> seen;
  for (const std::string& path : paths) {
    if (std::filesystem::is_directory(path)) {
      size_t found = 0;
      for (const char* f : {"domain.jsonl", "pool.jsonl", "test.jsonl"}) {
        const std::string file = (std::filesystem::path(path) / f).string();
        if (!std::filesystem::is_regular_file(file)) continue;
        read_jsonl(file, ex, seen);
        ++found;
      }
      if (found == 0)
        throw InputError(fmt::format("--exclude {}: a folder without domain.jsonl, pool.jsonl or test.jsonl "
                                     "(not one demo-data wrote)",
                                     path));
    } else if (std::filesystem::is_regular_file(path)) {
      read_jsonl(path, ex, seen);
    } else {
      throw InputError(fmt::format("--exclude {}: no such file or folder", path));
    }
  }
  return ex;
}

}  // namespace ntks::corpora
