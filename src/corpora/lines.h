#pragma once
// Line-by-line reading of whole files held in memory (the corpora readers).

#include <cstddef>
#include <string_view>

namespace ntks::corpora {

/// Calls f(line, number) for each line of `text`: without its '\n', numbered
/// from 1; a last line without '\n' too, an empty text none.
template <class F>
void for_each_line(std::string_view text, F f) {
  size_t number = 0;
  for (size_t p = 0; p < text.size();) {
    size_t end = text.find('\n', p);
    if (end == std::string_view::npos) end = text.size();
    f(text.substr(p, end - p), ++number);
    p = end + 1;
  }
}

}  // namespace ntks::corpora
