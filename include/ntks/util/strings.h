#pragma once
// Small string helpers shared across the modules.

#include <string>
#include <string_view>
#include <vector>

namespace ntks {

/// Levenshtein distance (insert, delete, substitute: cost 1 each).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `s` by edit distance (first one on ties); empty if none.
std::string nearest(std::string_view s, const std::vector<std::string>& candidates);

/// Splits on every `sep` ("a.b.c" -> {"a","b","c"}); keeps empty parts.
std::vector<std::string> split(std::string_view s, char sep);

std::string join(const std::vector<std::string>& parts, std::string_view sep);

/// Whether `s` begins with `prefix` (std::string's own starts_with is C++20).
bool starts_with(std::string_view s, std::string_view prefix);

/// Whether `s` ends with `suffix`.
bool ends_with(std::string_view s, std::string_view suffix);

}  // namespace ntks
