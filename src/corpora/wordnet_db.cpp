// WordNet data files: the line parser, gloss splitting and the database.

#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <sstream>

#include "ntks/corpora/wordnet.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::corpora::wordnet {
namespace {

bool all_of(const std::string& s, int (*pred)(int)) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!pred(c)) return false;
  return true;
}

// A fixed-width field: `width` digits of base 10 or 16 (width 0: any length).
long parse_number(const std::string& tok, size_t width, int base, const char* what, const std::string& where) {
  const bool ok = (width == 0 || tok.size() == width) && all_of(tok, base == 16 ? ::isxdigit : ::isdigit);
  if (!ok)
    throw InputError(fmt::format("{}: {} '{}' is not a {}{}-digit {} number", where, what, tok, width ? "" : "multi-",
                                 width ? std::to_string(width) : "", base == 16 ? "hexadecimal" : "decimal"));
  return std::stol(tok, nullptr, base);
}

char parse_pos(const std::string& tok, const char* what, const std::string& where) {
  if (tok.size() != 1 || std::string("nvasr").find(tok[0]) == std::string::npos)
    throw InputError(fmt::format("{}: {} '{}' is not one of n, v, a, s, r", where, what, tok));
  return tok[0] == 's' ? 'a' : tok[0];
}

// Adjectives carry a syntactic marker: "galore(ip)", "elect(p)", "former(a)".
std::string strip_marker(const std::string& w) {
  for (const char* m : {"(a)", "(p)", "(ip)"}) {
    const std::string marker = m;
    if (w.size() > marker.size() && w.compare(w.size() - marker.size(), marker.size(), marker) == 0)
      return w.substr(0, w.size() - marker.size());
  }
  return w;
}

std::string trim_space(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* pos_name(char pos) {
  switch (pos) {
    case 'n': return "noun";
    case 'v': return "verb";
    case 'a': return "adjective";
    default: return "adverb";
  }
}

std::string sentence(const std::string& text) {
  if (!text.empty() && std::string(".!?").find(text.back()) != std::string::npos) return text;
  return text + ".";
}

std::string display_word(const std::string& word) {
  std::string out = word;
  for (char& c : out)
    if (c == '_') c = ' ';
  return out;
}

void split_gloss(const std::string& gloss, std::string& definition, std::vector<std::string>& examples) {
  // "def part; def part; \"example\"; \"example\" - Author". Parts are cut at
  // "; "; a part that opens with a quote is an example up to its closing quote
  // (what follows it, such as an attribution, is dropped), so a "; " inside
  // an example does not cut it.
  definition.clear();
  examples.clear();
  std::vector<std::string> def_parts;
  const std::string g = trim_space(gloss);
  size_t p = 0;
  while (p < g.size()) {
    while (p < g.size() && g[p] == ' ') ++p;
    if (p >= g.size()) break;
    size_t end;
    if (g[p] == '"') {
      const size_t close = g.find('"', p + 1);
      if (close == std::string::npos) {  // unbalanced: keep the rest as the example
        const std::string ex = trim_space(g.substr(p + 1));
        if (!ex.empty()) examples.push_back(ex);
        break;
      }
      const std::string ex = trim_space(g.substr(p + 1, close - p - 1));
      if (!ex.empty()) examples.push_back(ex);
      end = g.find("; ", close);
    } else {
      end = g.find("; ", p);
      const std::string part = trim_space(g.substr(p, end == std::string::npos ? std::string::npos : end - p));
      if (!part.empty()) def_parts.push_back(part);
    }
    if (end == std::string::npos) break;
    p = end + 2;
  }
  for (size_t i = 0; i < def_parts.size(); ++i) definition += (i ? "; " : "") + def_parts[i];
  // A lone trailing ';' before the examples ("def;" at the end) is not content.
  while (!definition.empty() && (definition.back() == ';' || definition.back() == ' ')) definition.pop_back();
}

Synset parse_data_line(const std::string& line, char pos, const std::string& where) {
  const size_t bar = line.find(" | ");
  if (bar == std::string::npos) throw InputError(fmt::format("{}: no ' | ' before the gloss", where));
  std::istringstream in(line.substr(0, bar));
  std::vector<std::string> t;
  for (std::string tok; in >> tok;) t.push_back(tok);
  size_t i = 0;
  auto next = [&](const char* what) -> const std::string& {
    if (i >= t.size()) throw InputError(fmt::format("{}: line ends before its {}", where, what));
    return t[i++];
  };
  Synset s;
  s.pos = pos;
  s.offset = static_cast<uint32_t>(parse_number(next("synset_offset"), 8, 10, "synset_offset", where));
  parse_number(next("lex_filenum"), 2, 10, "lex_filenum", where);
  const std::string& ss = next("ss_type");
  s.ss_type = ss.empty() ? '?' : ss[0];
  if (parse_pos(ss, "ss_type", where) != pos)
    throw InputError(fmt::format("{}: ss_type '{}' does not belong in the data file of '{}'", where, ss, pos));
  const long w_cnt = parse_number(next("w_cnt"), 2, 16, "w_cnt", where);
  if (w_cnt < 1) throw InputError(fmt::format("{}: w_cnt is 0 (a synset has at least one word)", where));
  for (long w = 0; w < w_cnt; ++w) {
    s.words.push_back(strip_marker(next("word")));
    parse_number(next("lex_id"), 1, 16, "lex_id", where);
  }
  const long p_cnt = parse_number(next("p_cnt"), 3, 10, "p_cnt", where);
  for (long k = 0; k < p_cnt; ++k) {
    Pointer ptr;
    ptr.symbol = next("pointer symbol");
    ptr.offset = static_cast<uint32_t>(parse_number(next("pointer offset"), 8, 10, "pointer offset", where));
    ptr.pos = parse_pos(next("pointer pos"), "pointer pos", where);
    const long st = parse_number(next("pointer source/target"), 4, 16, "pointer source/target", where);
    ptr.source = static_cast<int>(st >> 8);
    ptr.target = static_cast<int>(st & 0xff);
    if (ptr.source > w_cnt)
      throw InputError(fmt::format("{}: pointer {} names source word {} of a synset of {} words", where, k + 1,
                                   ptr.source, w_cnt));
    s.pointers.push_back(std::move(ptr));
  }
  if (pos == 'v' && i < t.size()) {  // verb frames: f_cnt + f_num w_num ...
    const long f_cnt = parse_number(next("f_cnt"), 2, 10, "f_cnt", where);
    for (long f = 0; f < f_cnt; ++f) {
      if (next("frame") != "+") throw InputError(fmt::format("{}: verb frame {} does not start with '+'", where, f + 1));
      parse_number(next("frame number"), 2, 10, "frame number", where);
      parse_number(next("frame word"), 2, 16, "frame word", where);
    }
  }
  if (i != t.size())
    throw InputError(fmt::format("{}: unexpected '{}' after the {} pointers (p_cnt wrong?)", where, t[i], p_cnt));
  split_gloss(line.substr(bar + 3), s.definition, s.examples);
  return s;
}

void Database::add_file_text(const std::string& text, char pos, const std::string& file) {
  std::istringstream in(text);
  size_t lineno = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    if (line.rfind("  ", 0) == 0) continue;  // license header
    const std::string where = fmt::format("{}:{}", file, lineno);
    Synset s = parse_data_line(line, pos, where);
    const uint64_t key = synset_key(pos, s.offset);
    if (!index_.emplace(key, synsets_.size()).second)
      throw InputError(fmt::format("{}: synset {} appears twice (first at {})", where, s.offset,
                                   where_[index_.at(key)]));
    synsets_.push_back(std::move(s));
    where_.push_back(where);
  }
}

long Database::find(char pos, uint32_t offset) const {
  auto it = index_.find(synset_key(pos == 's' ? 'a' : pos, offset));
  return it == index_.end() ? -1 : static_cast<long>(it->second);
}

void Database::check_pointers() const {
  for (size_t i = 0; i < synsets_.size(); ++i) {
    for (const Pointer& p : synsets_[i].pointers) {
      const long j = find(p.pos, p.offset);
      if (j < 0)
        throw InputError(fmt::format("{}: pointer '{}' to synset {:08d} ({}) that no data file holds", where_[i],
                                     p.symbol, p.offset, p.pos));
      if (p.target > static_cast<int>(synsets_[j].words.size()))
        throw InputError(fmt::format("{}: pointer '{}' names word {} of synset {:08d}, which has {}", where_[i],
                                     p.symbol, p.target, p.offset, synsets_[j].words.size()));
    }
  }
}

Database Database::load(const std::string& dir) {
  Database db;
  for (auto [pos, name] : {std::pair{'n', "data.noun"}, {'v', "data.verb"}, {'a', "data.adj"}, {'r', "data.adv"}}) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    if (!std::filesystem::is_regular_file(path))
      throw InputError(fmt::format("{} is missing: the WordNet database is not in {} (Debian: apt-get install "
                                   "wordnet-base; or give --wordnet DIR)",
                                   path, dir));
    db.add_file_text(read_file(path), pos, path);
  }
  db.check_pointers();
  return db;
}

}  // namespace ntks::corpora::wordnet
