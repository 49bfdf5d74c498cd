#pragma once
// Whole-file gzip decompression (dictzip files are gzip; zlib is private to
// the corpora module).

#include <string>
#include <string_view>

namespace ntks::corpora {

/// The uncompressed bytes of every gzip member in `bytes`. Throws InputError
/// naming `path` when `bytes` is not gzip, is corrupt (zlib's message and the
/// compressed byte where it failed) or ends inside a member.
std::string gunzip(std::string_view bytes, const std::string& path);

}  // namespace ntks::corpora
