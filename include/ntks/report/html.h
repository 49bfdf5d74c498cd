#pragma once
// The pieces of the report's HTML page: escaping, shortened text, tables and
// the page around the sections. The page is one self-contained file: its
// style is inline, its plots are inline SVG, and it loads nothing (no script,
// font, style sheet or image from anywhere).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ntks::report {

/// `s` with & < > " ' escaped, for text and attribute values.
std::string escape(std::string_view s);

/// At most `max_bytes` bytes of `s`, cut before a UTF-8 continuation byte,
/// with "…" appended when shortened; control characters become spaces.
std::string shorten(std::string_view s, std::size_t max_bytes);

/// A number for a table: integers as they are, others with `digits`
/// significant digits; "–" for NaN.
std::string number(double v, int digits = 4);

/// <p class="na">not available: WHY</p> (WHY escaped).
std::string not_available(const std::string& why);

/// A table; header and cells are HTML (escape text first). Columns whose
/// header is in `right` are right-aligned (numbers).
std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<std::size_t>& right = {});

/// One section of the page.
struct Section {
  std::string id;     ///< anchor (#id) in the table of contents
  std::string title;  ///< plain text
  std::string body;   ///< HTML
};

/// The whole page: title, a line of context under it (HTML), a table of
/// contents and the sections in order.
std::string page(const std::string& title, const std::string& subtitle_html, const std::vector<Section>& sections);

}  // namespace ntks::report
