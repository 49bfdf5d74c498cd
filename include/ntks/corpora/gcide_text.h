#pragma once
// GCIDE entries (the Collaborative International Dictionary of English,
// Debian's dict-gcide, read through dictd.h) as plain text.
//
// An entry is a run of senses, each closed by a line naming its source:
// "[1913 Webster]", "[PJC]", "[Webster 1913 Suppl.]", "[WordNet 1.5]", ...
// entry_text():
//   - drops the senses whose source line names WordNet: they restate WordNet
//     glosses, which the corpus has from WordNet 3.0 itself and which must not
//     slip past the exclusion of held-out synsets in a slightly older wording;
//   - drops the source lines, the pronunciations "\Pro*nun`ci*a"tion\" and the
//     respelled pronunciation in parentheses right after one or anywhere
//     else ("Radices (r[a^]d"[i^]*s[=e]z)": parentheses with * or `);
//   - keeps the words of {cross-references} without braces or stress marks
//     ("{Life"less*ly}" -> "Lifelessly");
//   - writes GCIDE's character codes ("[=a]", "['e]", "[ae]", ...) as Unicode;
//   - joins the wrapped lines of a paragraph with single spaces, one
//     paragraph a line. Attributions ("--Shak.") stay.

#include <string>
#include <string_view>

namespace ntks::corpora::gcide {

/// The plain text of one entry; empty when nothing is left (every sense came
/// from WordNet).
std::string entry_text(std::string_view entry);

/// The Unicode of a GCIDE character code without its brackets ("=a" -> "ā");
/// empty when the code is not one of them.
std::string_view character(std::string_view code);

}  // namespace ntks::corpora::gcide
