#pragma once
// Small file helpers: whole-file reads, atomic writes.

#include <string>

namespace ntks {

/// The whole file; throws InputError naming it if it cannot be read.
std::string read_file(const std::string& path);

/// Writes `text` to `path` through a temporary file in the same folder and a
/// rename, so readers see the old file or the whole new one, never a part.
void write_file_atomic(const std::string& path, const std::string& text);

/// The user's cache folder for ntk-select: $NTKS_CACHE_DIR, else
/// $XDG_CACHE_HOME/ntk-select, else ~/.cache/ntk-select; empty when none of
/// them is set. Not created here.
std::string user_cache_dir();

}  // namespace ntks
