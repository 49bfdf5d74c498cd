// GCIDE entries as plain text (rules in gcide_text.h).

#include "ntks/corpora/gcide_text.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "corpora/lines.h"

namespace ntks::corpora::gcide {
namespace {

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// "[1913 Webster]", "[WordNet 1.5 +PJC]", "[PJC + AS]": a line opening with the
// bracketed sources of the sense above it (GCIDE sometimes lets a stray word
// follow). Editors sign with their initials (PJC, AS, RDH), so an all-capitals
// tag alone on its line counts too; usage labels such as "[Obs.]" do not.
bool source_tag(std::string_view line, std::string_view& tag) {
  line = trim_blanks(line);
  if (line.size() < 3 || line.front() != '[') return false;
  const size_t close = line.find(']');
  if (close == std::string_view::npos) return false;
  tag = line.substr(1, close - 1);
  if (contains(tag, "Webster") || contains(tag, "WordNet") || contains(tag, "Century")) return true;
  if (close + 1 != line.size()) return false;
  bool letter = false;
  for (char c : tag) {
    if (c >= 'A' && c <= 'Z') {
      letter = true;
    } else if (c != ' ' && c != '+' && c != '.') {
      return false;
    }
  }
  return letter;
}

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}

// A respelled pronunciation: "([a^]b*d[o^]m`[i^]*n[o^]s"k[-o]*p[y^])", "(-t[~e]r)".
bool respelling(std::string_view inner) {
  return !inner.empty() && (inner.front() == '-' || inner.find_first_of("[\"`*") != std::string_view::npos);
}

// Pronunciations "\...\" (and a respelling after one) out, with the spaces before them.
std::string drop_pronunciations(std::string_view s) {
  std::string out;
  size_t p = 0;
  while (p < s.size()) {
    const size_t open = s.find('\\', p);
    const size_t close = open == std::string_view::npos ? open : s.find('\\', open + 1);
    if (close == std::string_view::npos || contains(s.substr(open, close - open), "\n\n")) {
      out.append(s.substr(p));
      break;
    }
    out.append(s.substr(p, open - p));
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
    // A line break before it goes too, unless it ends a paragraph.
    if (out.size() >= 2 && out.back() == '\n' && out[out.size() - 2] != '\n') out.pop_back();
    p = close + 1;
    size_t q = p;
    while (q < s.size() && (s[q] == ' ' || s[q] == '\n')) ++q;
    if (q < s.size() && s[q] == '(') {
      const size_t end = s.find(')', q);
      if (end != std::string_view::npos && respelling(s.substr(q + 1, end - q - 1))) p = end + 1;
    }
  }
  return out;
}

// Copies `s`, offering each span from an `open` character to the next of
// `closers` to `replace(span, out)`, which appends what stands for it and
// returns true, or returns false to keep the opening character as text.
template <class Replace>
std::string rewrite_spans(std::string_view s, char open_char, const char* closers, Replace replace) {
  std::string out;
  size_t p = 0;
  while (p < s.size()) {
    const size_t open = s.find(open_char, p);
    const size_t close = open == std::string_view::npos ? open : s.find_first_of(closers, open + 1);
    if (close == std::string_view::npos) {
      out.append(s.substr(p));
      break;
    }
    out.append(s.substr(p, open - p));
    if (replace(s.substr(open, close - open + 1), out)) {
      p = close + 1;
    } else {
      out += open_char;
      p = open + 1;
    }
  }
  return out;
}

// Respellings elsewhere, after plurals and derived forms ("Radices
// (r[a^]d"[i^]*s[=e]z)"): parentheses holding syllable or accent marks.
std::string drop_respellings(std::string_view s) {
  return rewrite_spans(s, '(', "()", [](std::string_view span, std::string& out) {
    const std::string_view inner = span.substr(1, span.size() - 2);
    if (span.back() != ')' || inner.find_first_of("*`") == std::string_view::npos || contains(inner, "\n\n") ||
        inner.size() > 80)
      return false;
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return true;
  });
}

// Braces out; inside them the stress marks too: * and ` always, " between letters.
std::string drop_braces(std::string_view s) {
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '{') {
      ++depth;
    } else if (c == '}') {
      depth = std::max(0, depth - 1);
    } else if (depth > 0 && (c == '*' || c == '`')) {
    } else if (depth > 0 && c == '"' && i > 0 && i + 1 < s.size() && is_letter(s[i - 1]) && is_letter(s[i + 1])) {
    } else {
      out += c;
    }
  }
  return out;
}

std::string characters(std::string_view s) {
  return rewrite_spans(s, '[', "]", [](std::string_view span, std::string& out) {
    const std::string_view u = span.size() <= 10 ? character(span.substr(1, span.size() - 2)) : std::string_view();
    out.append(u);
    return !u.empty();
  });
}

// Paragraphs (blank-line separated) each on one line, whitespace runs as one space.
void reflow(std::string_view block, std::string& out) {
  std::string para;
  auto flush = [&] {
    while (!para.empty() && para.back() == ' ') para.pop_back();
    if (para.empty()) return;
    if (!out.empty()) out += '\n';
    out += para;
    para.clear();
  };
  for_each_line(block, [&](std::string_view raw, size_t) {
    const std::string_view line = trim_blanks(raw);
    if (line.empty()) return flush();
    for (char c : line) {
      const bool space = c == ' ' || c == '\t';
      if (space && (para.empty() || para.back() == ' ')) continue;
      para += space ? ' ' : c;
    }
    para += ' ';
  });
  flush();
}

}  // namespace

std::string_view character(std::string_view code) {
  static const std::vector<std::pair<std::string_view, std::string_view>> table = {
      {"=a", "ā"},   {"=e", "ē"},    {"=i", "ī"},     {"=o", "ō"},      {"=u", "ū"},    {"=y", "ȳ"},
      {"=ae", "ǣ"},  {"=oo", "ōō"},  {"imac", "ī"},   {"a^", "ă"},      {"e^", "ĕ"},    {"i^", "ĭ"},
      {"o^", "ŏ"},   {"u^", "ŭ"},    {"y^", "y̆"},     {"oo^", "ŏŏ"},    {"^a", "â"},    {"^e", "ê"},
      {"^i", "î"},   {"^o", "ô"},    {"^u", "û"},     {"'a", "á"},      {"'e", "é"},    {"'i", "í"},
      {"'o", "ó"},   {"'u", "ú"},    {"'E", "É"},     {"`a", "à"},      {"`e", "è"},    {"`o", "ò"},
      {"aum", "ä"},  {"add", "ä"},   {"\"a", "ä"},    {"\"e", "ë"},     {"\"i", "ï"},   {"\"o", "ö"},
      {"\"u", "ü"},  {"udd", "ṳ"},   {"~n", "ñ"},     {"~a", "ã"},      {"~e", "ẽ"},    {"~o", "õ"},
      {".a", "ȧ"},   {".e", "ė"},    {".u", "u̇"},     {".n", "ṅ"},      {".r", "ṛ"},    {".t", "ṭ"},
      {"-a", "a"},   {"-e", "e"},    {"-i", "i"},     {"-o", "o"},      {"-u", "u"},    {"asl", "a"},
      {"*a", "å"},   {"ae", "æ"},    {"AE", "Æ"},     {"oe", "œ"},      {"OE", "Œ"},    {"eth", "ð"},
      {"thorn", "þ"}, {"th", "th"},  {"ng", "ŋ"},     {"yogh", "ȝ"},    {"deg", "°"},   {"sect", "§"},
      {"pounds", "£"}, {"root", "√"}, {"prime", "′"}, {"bprime", "″"},  {"dsdot", "ḍ"}, {"alpha", "α"},
      {"beta", "β"}, {"gamma", "γ"}, {"delta", "δ"},  {"Delta", "Δ"},   {"epsilon", "ε"}, {"theta", "θ"},
      {"lambda", "λ"}, {"mu", "μ"},  {"pi", "π"},     {"sigma", "σ"},   {"Sigma", "Σ"}, {"phi", "φ"},
      {"chi", "χ"},  {"psi", "ψ"},   {"omega", "ω"},  {"Omega", "Ω"},   {"frac12", "½"}, {"frac14", "¼"},
      {"frac34", "¾"}, {"frac13", "⅓"}, {"frac23", "⅔"}, {"times", "×"},
  };
  for (const auto& [k, v] : table)
    if (k == code) return v;
  return {};
}

std::string entry_text(std::string_view entry) {
  // Senses: the lines up to and without each source line; those credited to WordNet go.
  std::string kept, sense;
  for_each_line(entry, [&](std::string_view line, size_t) {
    std::string_view tag;
    if (!source_tag(line, tag)) {
      sense.append(line) += '\n';
      return;
    }
    if (!contains(tag, "WordNet")) kept += sense + "\n";  // a sense ends a paragraph
    sense.clear();
  });
  kept += sense;
  std::string out;
  reflow(characters(drop_braces(drop_respellings(drop_pronunciations(kept)))), out);
  return out;
}

}  // namespace ntks::corpora::gcide
