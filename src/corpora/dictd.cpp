// dictd databases: the index, entries cut from the uncompressed dict, and
// entries as plain text (format in dictd.h).

#include "ntks/corpora/dictd.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "corpora/gzip.h"
#include "corpora/lines.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "ntks/util/utf8.h"

namespace ntks::corpora::dictd {
namespace {

int digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// "00-database-url", "00-gcide-long", "00databaseinfo": the database's own description.
bool is_metadata(std::string_view headword) {
  return headword.rfind("00-", 0) == 0 || headword.rfind("00database", 0) == 0;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool decode_number(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 10) return false;  // 10 digits: 60 bits, no overflow
  out = 0;
  for (char c : s) {
    const int d = digit(c);
    if (d < 0) return false;
    out = out * 64 + static_cast<uint64_t>(d);
  }
  return true;
}

Database parse(std::string_view index_text, std::string_view dict_text, const std::string& index_path,
               const std::string& dict_path) {
  // (offset, length) -> entry; the first headword naming it gives its name.
  std::map<std::pair<uint64_t, uint64_t>, Entry> by_range;
  for_each_line(index_text, [&](std::string_view raw, size_t lineno) {
    const std::string_view line = trim_right(raw);
    if (line.empty()) return;
    const std::string where = fmt::format("{}:{}", index_path, lineno);
    const size_t t1 = line.find('\t'), t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos)
      throw InputError(fmt::format("{}: expected 'headword<TAB>offset<TAB>length', got '{}'", where, line));
    const size_t t3 = line.find('\t', t2 + 1);  // dictd allows a 4th column (original headword)
    const std::string_view head = line.substr(0, t1), off = line.substr(t1 + 1, t2 - t1 - 1),
                           len = line.substr(t2 + 1, t3 == std::string_view::npos ? t3 : t3 - t2 - 1);
    uint64_t offset = 0, length = 0;
    if (!decode_number(off, offset) || !decode_number(len, length))
      throw InputError(fmt::format("{}: offset '{}' or length '{}' is not a dictd base64 number", where, off, len));
    if (const size_t bad = find_invalid_utf8(head); bad != std::string_view::npos)
      throw InputError(fmt::format("{}: headword is not valid UTF-8 (byte {})", where, bad + 1));
    if (offset > dict_text.size() || length > dict_text.size() - offset)
      throw InputError(fmt::format("{}: entry '{}' at bytes {}..{} ends past the end of {} ({} bytes uncompressed)",
                                   where, head, offset, offset + length, dict_path, dict_text.size()));
    if (is_metadata(head)) return;
    auto [it, added] = by_range.try_emplace({offset, length});
    if (added) it->second = Entry{std::string(head), lineno, {}};
  });
  Database db;
  for (auto& [range, e] : by_range) {
    const std::string_view text = dict_text.substr(range.first, range.second);
    if (const size_t bad = find_invalid_utf8(text); bad != std::string_view::npos) {
      db.skipped.push_back(fmt::format("{}: entry '{}' ({}:{}): invalid UTF-8 at byte {} of the entry", dict_path,
                                       e.headword, index_path, e.index_line, bad + 1));
      continue;
    }
    e.text = std::string(text);
    db.entries.push_back(std::move(e));
  }
  return db;
}

Database read(const std::string& dir, const std::string& name, const std::string& package) {
  const std::string index = (std::filesystem::path(dir) / (name + ".index")).string();
  const std::string dict = (std::filesystem::path(dir) / (name + ".dict.dz")).string();
  for (const std::string& f : {index, dict})
    if (!std::filesystem::is_regular_file(f))
      throw InputError(fmt::format("{} is missing (Debian: apt-get install {}; or give --dictd DIR)", f, package));
  const Database db = parse(read_file(index), gunzip(read_file(dict), dict), index, dict);
  if (db.entries.empty() && db.skipped.empty())
    throw InputError(fmt::format("{} lists no entries: not a dictd index, or an empty one", index));
  return db;
}

std::string plain_text(std::string_view entry) {
  std::vector<std::string> lines;
  for_each_line(entry, [&](std::string_view raw, size_t) {
    std::string line;
    for (char c : raw)
      if (c != '{' && c != '}') line += c;
    lines.emplace_back(trim_right(line));
  });
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;
  // Each paragraph loses its own indentation: the headword and the body are
  // indented apart (the Jargon File: 0 and 4).
  std::string out;
  for (size_t i = first; i < lines.size();) {
    size_t end = i, indent = std::string::npos;
    for (; end < lines.size() && !lines[end].empty(); ++end)
      indent = std::min(indent, lines[end].find_first_not_of(" \t"));
    for (; i < end; ++i) out.append(lines[i], indent, std::string::npos) += '\n';
    for (; i < lines.size() && lines[i].empty(); ++i) out += '\n';
  }
  if (!out.empty()) out.pop_back();
  return out;
}

}  // namespace ntks::corpora::dictd
