#include "ntks/report/html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ntks::report {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string shorten(std::string_view s, std::size_t max_bytes) {
  std::string out(s.substr(0, std::min(s.size(), max_bytes)));
  if (s.size() > max_bytes) {
    std::size_t cut = out.size();
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "\u2026";
  }
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return out;
}

std::string number(double v, int digits) {
  if (std::isnan(v)) return "\u2013";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::round(v) && std::abs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{:.{}g}", v, digits);
}

std::string not_available(const std::string& why) { return "<p class=\"na\">not available: " + escape(why) + "</p>\n"; }

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<std::size_t>& right) {
  auto cls = [&](std::size_t col) {
    return std::find(right.begin(), right.end(), col) != right.end() ? " class=\"num\"" : "";
  };
  std::string out = "<table>\n<tr>";
  for (std::size_t c = 0; c < header.size(); ++c) out += fmt::format("<th{}>{}</th>", cls(c), header[c]);
  out += "</tr>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < row.size(); ++c) out += fmt::format("<td{}>{}</td>", cls(c), row[c]);
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

namespace {

constexpr const char* kStyle =
    R"(body{font-family:sans-serif;margin:0 auto;max-width:1180px;padding:0 16px 40px;color:#222}
h1{font-size:1.6em;margin:18px 0 4px}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:32px}
h3{font-size:1.05em;margin:18px 0 6px}.sub{color:#555;margin:0 0 10px}
nav a{margin-right:14px;color:#1f4e9c;text-decoration:none}
table{border-collapse:collapse;margin:8px 0;font-size:0.92em}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.na{color:#a33;font-style:italic}.note{color:#555;font-size:0.92em}
.bar{display:inline-block;height:10px;background:#4c78a8;vertical-align:middle}
.plots{display:flex;flex-wrap:wrap;gap:12px}svg{max-width:100%;height:auto}
code{background:#f5f5f5;padding:0 3px}td{max-width:640px;overflow-wrap:anywhere}td:first-child{white-space:nowrap}
)";

}  // namespace

std::string page(const std::string& title, const std::string& subtitle_html, const std::vector<Section>& sections) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + escape(title) +
                    "</title>\n<style>\n" + kStyle + "</style>\n</head>\n<body>\n";
  out += "<h1>" + escape(title) + "</h1>\n<p class=\"sub\">" + subtitle_html + "</p>\n<nav>";
  for (const Section& s : sections) out += fmt::format("<a href=\"#{}\">{}</a>", escape(s.id), escape(s.title));
  out += "</nav>\n";
  for (const Section& s : sections)
    out += fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n", escape(s.id), escape(s.title), s.body);
  return out + "</body>\n</html>\n";
}

}  // namespace ntks::report
