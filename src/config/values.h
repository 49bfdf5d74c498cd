#pragma once
// Typed config values <-> text. Parsing is strict (the whole scalar must be a
// value of the field's type) so "8192x" or "1e3" for an integer are errors,
// not silent truncations. Formatting is canonical: the dump and the hash
// both use it, so equal configs print and hash the same.

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "ntks/config/enums.h"

namespace ntks::config::values {

/// Name of the expected type, for error messages ("an integer").
template <class T>
std::string expected() {
  if constexpr (std::is_same_v<T, std::string>) return "a string";
  else if constexpr (std::is_same_v<T, bool>) return "true or false";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "an integer";
  else if constexpr (std::is_same_v<T, double>) return "a number";
  else if constexpr (std::is_same_v<T, std::vector<std::string>>) return "a list of strings";
  else return "one of " + enum_choices<T>();
}

bool parse(const std::string& text, std::string& out);
bool parse(const std::string& text, bool& out);
bool parse(const std::string& text, std::int64_t& out);
bool parse(const std::string& text, double& out);

template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
bool parse(const std::string& text, E& out) {
  auto e = parse_enum<E>(text);
  if (e) out = *e;
  return e.has_value();
}

std::string format(const std::string& v);  // double-quoted, JSON escapes (valid YAML)
std::string format(bool v);
std::string format(std::int64_t v);
std::string format(double v);              // shortest text that reads back exactly
std::string format(const std::vector<std::string>& v);  // ["a", "b"]

template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
std::string format(E e) {
  return std::string(to_string(e));
}

}  // namespace ntks::config::values
