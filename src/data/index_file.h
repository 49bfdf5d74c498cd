#pragma once
// The index of one corpus file, its identity (what makes a cache stale), how
// it is built by streaming the file, and how it is kept in a cache file.
// Private to src/data: CorpusIndex (corpus_index.cpp) joins several of them.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ntks/util/error.h"

namespace ntks::data::detail {

/// A file opened read-only, closed on scope exit.
class ReadFd {
 public:
  explicit ReadFd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw InputError(fmt::format("{}: cannot be read ({})", path, std::strerror(errno)));
  }
  ~ReadFd() { ::close(fd_); }
  ReadFd(const ReadFd&) = delete;
  ReadFd& operator=(const ReadFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

/// What a cache must match to be trusted for a file.
struct FileIdentity {
  uint64_t size = 0;      ///< bytes
  int64_t mtime_ns = 0;   ///< st_mtim in nanoseconds since the epoch
  uint64_t head_hash = 0; ///< XXH3-64 of the first min(size, 64 KiB) bytes
  uint64_t tail_hash = 0; ///< XXH3-64 of the last min(size, 64 KiB) bytes
  bool operator==(const FileIdentity& o) const {
    return size == o.size && mtime_ns == o.mtime_ns && head_hash == o.head_hash && tail_hash == o.tail_hash;
  }
};

/// Size and mtime only (a stat, no reads): checked before every read.
FileIdentity stat_identity(const std::string& path);
/// stat_identity plus the head and tail checksums.
FileIdentity full_identity(const std::string& path);

/// A record's id hash and its index in the file.
struct IdEntry {
  uint64_t hash = 0;
  uint64_t record = 0;
  bool operator<(const IdEntry& o) const { return hash != o.hash ? hash < o.hash : record < o.record; }
};
static_assert(sizeof(IdEntry) == 16, "IdEntry is stored as two uint64 in caches");

/// One file's records, in file order. Parallel arrays keep it at 20 bytes a
/// record plus 16 bytes per record that has an id field.
struct FileIndex {
  FileIdentity identity;
  std::string id_field;
  uint64_t lines = 0;              ///< every line, blank ones included
  std::vector<uint64_t> offset;    ///< byte offset of each record's first byte
  std::vector<uint64_t> line;      ///< 1-based line number of each record
  std::vector<uint32_t> length;    ///< bytes of each record without "\n" / "\r\n"
  /// Every record with an id field, sorted by (hash, record): find() is a
  /// binary search, confirmed against the line itself.
  std::vector<IdEntry> ids;

  size_t records() const { return offset.size(); }
  /// Bytes these arrays take in memory (and roughly in the cache).
  uint64_t memory_bytes() const;
};

/// Streams the file in large blocks and indexes it. `progress` (may be empty)
/// gets the bytes consumed so far. Throws InputError naming the file.
FileIndex build_file_index(const std::string& path, const std::string& id_field,
                           const std::function<void(uint64_t)>& progress);

/// Writes the cache atomically (temporary file + rename). Throws InputError
/// when it cannot be written.
void write_cache(const std::string& cache_path, const FileIndex& index);

/// Outcome of reading a cache.
enum class CacheState { ok, missing, stale, corrupt };
struct CacheLoad {
  CacheState state = CacheState::missing;
  std::string why;  ///< for stale/corrupt: what did not match
  FileIndex index;  ///< valid when state == ok
};
/// Reads and verifies a cache against the file's current identity and id field.
CacheLoad read_cache(const std::string& cache_path, const FileIdentity& current, const std::string& id_field);

/// "<file>.ntksidx" beside the file.
std::string cache_path_beside(const std::string& file);
/// The cache path in the cache folder (`cache_dir`, else $NTKS_CACHE_DIR,
/// $XDG_CACHE_HOME/ntk-select, ~/.cache/ntk-select), named from the file's
/// absolute path.
std::string cache_path_in_folder(const std::string& file, const std::string& cache_dir);
/// Whether caches may be written beside `file` (its folder is writable).
bool folder_writable(const std::string& file);

/// The id field value of one line: a top-level string (non-empty) or integer
/// (as decimal text) named `field`; empty when the line has none, is not a
/// JSON object, or the value has another type.
std::string extract_id(std::string_view line, const std::string& field);

/// XXH3-64 of an id; tests replace it to force collisions.
uint64_t id_hash(std::string_view id);
/// Which function id_hash() is: 1 for XXH3-64, 0 while a test hook replaces
/// it. Stored in caches, so a cache is only trusted under the same hash.
uint64_t id_hash_kind();
/// XXH3-64 of bytes.
uint64_t xxh3(std::string_view bytes);

/// Test hooks: replace the id hash, and say which folders count as writable
/// (empty function: the real ones).
void set_id_hash_for_testing(std::function<uint64_t(std::string_view)> hash);
void set_folder_writable_for_testing(std::function<bool(const std::string&)> writable);

/// pread of exactly `n` bytes at `offset` of an open descriptor; InputError
/// naming `path` on failure or short read.
void pread_exact(int fd, const std::string& path, char* out, size_t n, uint64_t offset);

}  // namespace ntks::data::detail
