#pragma once
// dictd databases (Debian's dict-gcide, dict-jargon, dict-foldoc, dict-devil:
// NAME.index and NAME.dict.dz), read whole for the pretraining corpus.
//
// NAME.index holds one line per headword, "headword<TAB>offset<TAB>length",
// offset and length in dictd's base64 (digits A-Z a-z 0-9 + /, most
// significant first) locating the entry's bytes in the uncompressed dict.
// NAME.dict.dz is dictzip: gzip with a random-access table in its header,
// which a plain gzip read ignores. Several headwords may name one entry;
// headwords "00-..." ("00-database-url", "00-gcide-long") and "00database..."
// hold the database's own description and are not entries.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ntks::corpora::dictd {

struct Entry {
  std::string headword;   ///< headword of the entry's first index line
  size_t index_line = 0;  ///< 1-based line of that headword in NAME.index
  std::string text;       ///< the entry's bytes (valid UTF-8)
};

struct Database {
  std::vector<Entry> entries;  ///< distinct entries in dict-file order
  /// Entries left out because their bytes are not valid UTF-8, one line each:
  /// "DICT: entry 'X' (INDEX:12): invalid UTF-8 at byte 40 of the entry".
  std::vector<std::string> skipped;
};

/// dictd's base64 number; false when `s` is empty, holds a non-digit or overflows.
bool decode_number(std::string_view s, uint64_t& out);

/// Cuts the entries named by `index_text` out of the uncompressed dict text.
/// Throws InputError "INDEX:line: problem" for a malformed index line, a
/// headword that is not UTF-8 or an entry past the end of the dict.
Database parse(std::string_view index_text, std::string_view dict_text, const std::string& index_path,
               const std::string& dict_path);

/// Reads DIR/NAME.index and DIR/NAME.dict.dz. A missing file is an
/// InputError naming it and the Debian `package` that installs it; a corrupt
/// one (bad gzip, see parse()) names the file and line or byte; an index
/// without entries is an error too.
Database read(const std::string& dir, const std::string& name, const std::string& package);

/// An entry as plain text: {cross-reference} braces dropped (their words
/// kept), the indentation common to the lines of each paragraph removed,
/// trailing spaces and blank lines at both ends trimmed. Line breaks are kept.
std::string plain_text(std::string_view entry);

}  // namespace ntks::corpora::dictd
