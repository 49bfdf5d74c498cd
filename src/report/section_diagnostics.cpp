// RUN/diagnose/: the JSON results of `ntk-select diagnose` (their scalar
// values in a table) and every SVG plot there, inline.

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "ntks/util/files.h"
#include "sections.h"

namespace ntks::report {
namespace {

namespace fs = std::filesystem;

// Removes every element `tag` (with its content) from `svg`.
void drop_elements(std::string& svg, const std::string& tag) {
  for (size_t at = svg.find("<" + tag); at != std::string::npos; at = svg.find("<" + tag, at)) {
    const size_t close = svg.find("</" + tag + ">", at);
    const size_t self = svg.find("/>", at);
    const size_t gt = svg.find('>', at);
    size_t end = close != std::string::npos ? close + tag.size() + 3 : std::string::npos;
    if (gt != std::string::npos && self != std::string::npos && self + 1 == gt) end = gt + 1;
    if (end == std::string::npos) end = svg.size();
    svg.erase(at, end - at);
  }
}

// An SVG file made fit to sit inside the page: from its <svg> tag on (no XML
// prolog or doctype), without scripts, and without references that would
// load anything from elsewhere.
std::string inline_svg(std::string svg) {
  const size_t start = svg.find("<svg");
  if (start == std::string::npos) return "";
  svg.erase(0, start);
  drop_elements(svg, "script");
  drop_elements(svg, "foreignObject");
  // href/src values other than in-document references (#id) and data: URIs go, value and all.
  for (const std::string attr : {"href=", "src="})
    for (size_t at = svg.find(attr); at != std::string::npos; at = svg.find(attr, at + 1)) {
      const size_t open = at + attr.size();
      if (open >= svg.size() || (svg[open] != '"' && svg[open] != '\'')) continue;
      const size_t close = svg.find(svg[open], open + 1);
      if (close == std::string::npos) break;
      const std::string value = svg.substr(open + 1, close - open - 1);
      if (value.rfind('#', 0) == 0 || value.rfind("data:", 0) == 0) continue;
      svg.replace(at, close + 1 - at, "data-removed=\"\"");
    }
  return svg;
}

void scalars(const json& j, const std::string& prefix, int depth, std::vector<std::vector<std::string>>& rows) {
  for (const auto& [k, v] : j.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_number())
      rows.push_back({escape(key), number(v.get<double>(), 6)});
    else if (v.is_boolean())
      rows.push_back({escape(key), v.get<bool>() ? "true" : "false"});
    else if (v.is_string())
      rows.push_back({escape(key), escape(shorten(v.get<std::string>(), 160))});
    else if (v.is_object() && depth > 0)
      scalars(v, key, depth - 1, rows);
  }
}

}  // namespace

Section diagnostics_section(const RunData& run) {
  Section s{"diagnostics", "Diagnostics", ""};
  const fs::path dir = run.path("diagnose");
  std::error_code ec;
  std::vector<fs::path> jsons, svgs;
  if (fs::is_directory(dir, ec))
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (!e.is_regular_file()) continue;
      const std::string ext = e.path().extension().string();
      if (ext == ".json") jsons.push_back(e.path());
      if (ext == ".svg") svgs.push_back(e.path());
    }
  std::sort(jsons.begin(), jsons.end());
  std::sort(svgs.begin(), svgs.end());
  if (jsons.empty() && svgs.empty()) {
    s.body = not_available(
        fmt::format("{} holds no diagnostics (run `ntk-select diagnose stability|fidelity|entk`)", dir.string()));
    return s;
  }
  for (const fs::path& p : jsons) {
    s.body += "<h3>" + escape(p.filename().string()) + "</h3>\n";
    try {
      const json j = json::parse(read_file(p.string()));
      std::vector<std::vector<std::string>> rows;
      if (j.is_object()) scalars(j, "", 1, rows);
      s.body += rows.empty() ? not_available("no scalar values at its top level") : table({"key", "value"}, rows, {1});
    } catch (const std::exception& e) {
      s.body += not_available(fmt::format("{}: not JSON ({})", p.string(), e.what()));
    }
  }
  if (!svgs.empty()) {
    s.body += "<h3>Plots</h3>\n<div class=\"plots\">\n";
    for (const fs::path& p : svgs) {
      const std::string svg = inline_svg(read_file(p.string()));
      s.body += fmt::format("<figure>{}<figcaption class=\"note\">{}</figcaption></figure>\n",
                            svg.empty() ? not_available("not an SVG document") : svg, escape(p.filename().string()));
    }
    s.body += "</div>\n";
  }
  return s;
}

}  // namespace ntks::report
