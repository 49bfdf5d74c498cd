// fortune(6) cookie files (format in fortunes.h).

#include "ntks/corpora/fortunes.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "corpora/lines.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "ntks/util/utf8.h"
#include "ntks/util/strings.h"

namespace ntks::corpora::fortunes {
namespace {

// One record's lines as shown on a terminal, trimmed.
std::string clean(const std::vector<std::string_view>& lines) {
  std::vector<std::string> out;
  for (std::string_view l : lines) {
    std::string line;
    for (char c : l) {
      if (c == '\b') {  // erases one character: a UTF-8 lead byte and its continuation bytes
        while (!line.empty() && (static_cast<unsigned char>(line.back()) & 0xC0) == 0x80) line.pop_back();
        if (!line.empty()) line.pop_back();
      } else if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') {
        if (c != 0x7f) line += c;
      }
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    out.push_back(std::move(line));
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  size_t first = 0;
  while (first < out.size() && out[first].empty()) ++first;
  std::string text;
  for (size_t i = first; i < out.size(); ++i) text += (i > first ? "\n" : "") + out[i];
  return text;
}

}  // namespace

void parse(std::string_view text, const std::string& file, const std::string& path, Collection& out) {
  std::vector<std::string_view> lines;
  size_t first_line = 1, number = 0;
  auto flush = [&] {
    std::string t = clean(lines);
    lines.clear();
    if (t.empty()) return;
    if (const size_t bad = find_invalid_utf8(t); bad != std::string::npos) {
      out.skipped.push_back(
          fmt::format("{}:{}: invalid UTF-8 at byte {} of the record; record skipped", path, first_line, bad + 1));
      return;
    }
    out.records.push_back(Record{file, ++number, first_line, std::move(t)});
  };
  for_each_line(text, [&](std::string_view line, size_t lineno) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == "%") {
      flush();
      first_line = lineno + 1;
    } else {
      lines.push_back(line);
    }
  });
  flush();
}

Collection read_dir(const std::string& dir) {
  const std::string install = "Debian: apt-get install fortunes fortunes-min; or give --fortunes DIR";
  if (!std::filesystem::is_directory(dir)) throw InputError(fmt::format("{} is missing ({})", dir, install));
  Collection c;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_symlink() || !e.is_regular_file() || ends_with(name, ".dat") || ends_with(name, ".u8")) continue;
    c.files.push_back(name);
  }
  std::sort(c.files.begin(), c.files.end());
  if (c.files.empty()) throw InputError(fmt::format("{} holds no fortune files ({})", dir, install));
  for (const std::string& f : c.files) {
    const std::string path = (std::filesystem::path(dir) / f).string();
    parse(read_file(path), f, path, c);
  }
  return c;
}

}  // namespace ntks::corpora::fortunes
