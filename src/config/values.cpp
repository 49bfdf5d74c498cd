#include "values.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ntks::config::values {

bool parse(const std::string& text, std::string& out) {
  out = text;
  return true;
}

bool parse(const std::string& text, bool& out) {
  static const char* yes[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On"};
  static const char* no[] = {"false", "False", "FALSE", "no", "No", "off", "Off"};
  for (const char* y : yes)
    if (text == y) return out = true, true;
  for (const char* n : no)
    if (text == n) return out = false, true;
  return false;
}

bool parse(const std::string& text, std::int64_t& out) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (first != last && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last && first != last;
}

bool parse(const std::string& text, double& out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return errno == 0 && end == text.c_str() + text.size() && std::isfinite(out);
}

std::string format(const std::string& v) { return nlohmann::json(v).dump(); }
std::string format(bool v) { return v ? "true" : "false"; }
std::string format(std::int64_t v) { return std::to_string(v); }
std::string format(double v) { return fmt::format("{}", v); }

std::string format(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += format(v[i]);
  }
  return out + "]";
}

}  // namespace ntks::config::values
