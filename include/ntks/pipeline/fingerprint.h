#pragma once
// Fingerprints of the files a stage reads, for deciding whether a stage's
// outputs still match its inputs (RUN/<stage>/manifest.json).
//
// Size, modification time and XXH3-64 of the first and last 64 KiB — the
// identity the corpus index caches use (src/data/index_file.h) — plus a hash
// of the whole file when that is cheap (up to kFullHashBytes). A file with a
// whole-file hash is "unchanged" when its size and hash are; a larger one also
// needs the same modification time, so an edit in the middle of a huge corpus
// that keeps its size and both ends is still noticed through the mtime.

#include <cstdint>
#include <string>

namespace ntks::pipeline {

/// Files up to this size are hashed whole.
constexpr uint64_t kFullHashBytes = uint64_t{8} << 20;

struct FileFingerprint {
  std::string path;        ///< absolute
  bool exists = false;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string hash;        ///< 16 hex digits: whole file, or head and tail combined
  bool whole = false;      ///< `hash` covers the whole file

  /// The same bytes as far as the fingerprint can tell, ignoring the mtime
  /// (a copy of a model folder is the same model).
  bool same_content(const FileFingerprint& o) const;
  /// What a rerun compares: same path, same content, and for files hashed
  /// only at head and tail also the same mtime.
  bool unchanged(const FileFingerprint& o) const;
};

/// The fingerprint of `path` (made absolute); exists = false when it is not a
/// regular file. InputError when it exists but cannot be read.
FileFingerprint fingerprint_file(const std::string& path);

/// 16 hex digits naming a Hugging Face model folder's contents: its
/// config.json and *.safetensors files by name, size and content hash
/// (head and tail for large files), whatever the folder's path or mtimes;
/// "missing" when it has none. Rows made from equal digests came from the
/// same model, so feature files record it (features/row_reuse.h).
std::string model_digest(const std::string& folder);

}  // namespace ntks::pipeline
