#pragma once
// fortune(6) cookie files (Debian's fortunes and fortunes-min:
// /usr/share/games/fortunes/NAME), read for the pretraining corpus.
//
// A file holds records separated by lines that are a single "%". NAME.dat
// (strfile's index) and NAME.u8 (a link to NAME) are not read. A record's
// text: backspace overstrikes resolved as a terminal shows them ("_\bA" and
// "A\bA" are "A"), other control characters except tab dropped, trailing
// spaces and blank lines at both ends trimmed; empty records are dropped.

#include <string>
#include <string_view>
#include <vector>

namespace ntks::corpora::fortunes {

struct Record {
  std::string file;  ///< the file's name, without its folder
  size_t number = 0; ///< 1-based position among the file's non-empty records
  size_t line = 0;   ///< 1-based line of its first line in the file
  std::string text;
};

struct Collection {
  std::vector<std::string> files;  ///< files read, sorted by name
  std::vector<Record> records;     ///< in file order, then record order
  /// Records left out because they are not valid UTF-8: "FILE:LINE: invalid UTF-8 ...".
  std::vector<std::string> skipped;
};

/// The records of one file's text; `file` names it in Record and messages.
void parse(std::string_view text, const std::string& file, const std::string& path, Collection& out);

/// Every fortune file in `dir` (regular files; not *.dat, not *.u8, not links),
/// by name. InputError when `dir` is missing or holds none, naming the Debian
/// packages fortunes and fortunes-min.
Collection read_dir(const std::string& dir);

}  // namespace ntks::corpora::fortunes
