#pragma once
// Byte-offset index of JSONL corpus files: several files form one global
// index of records (non-blank lines), any range [a, b) or list of ids is read
// without scanning, and shard i of n is a contiguous range. The index of each
// file is built once and cached beside it (or in a cache folder when that is
// not writable); the cache is rebuilt when the file's size, mtime or a
// checksum of its head and tail change.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ntks::dist {
class Communicator;
}

namespace ntks::data {

/// Where a record lives.
struct RecordLocation {
  uint32_t file = 0;     ///< index into CorpusIndex::files()
  uint64_t line = 0;     ///< 1-based line number in that file
  uint64_t offset = 0;   ///< byte offset of the line's first byte
};

/// Half-open range of global record indices.
struct Range {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};

/// Shard `shard` of `num_shards` of [0, n): contiguous, sizes differ by at most
/// one, earlier shards take the extra records. UsageError when shard is not in
/// [0, num_shards).
Range shard_range(int64_t n, int shard, int num_shards);

struct IndexOptions {
  /// Top-level JSON string (or integer) field that names a record; records
  /// without it are named "file:line". Part of the cache's validity key.
  std::string id_field = "id";
  /// Folder for caches when the corpus folder is not writable; empty:
  /// $NTKS_CACHE_DIR, else $XDG_CACHE_HOME/ntk-select, else ~/.cache/ntk-select.
  std::string cache_dir;
  bool rebuild = false;  ///< ignore existing caches
};

/// How one file's index was obtained (for logs, `ntk-select index` and tests).
struct FileIndexInfo {
  std::string path;          ///< as given to open()
  std::string cache;         ///< cache file loaded or written; empty when none could be written
  bool built = false;        ///< built by this open() rather than loaded from a cache
  std::string reason;        ///< why it was built: "no cache", "file changed: ...", "cache corrupt: ...", "rebuild requested"
  int64_t records = 0;       ///< non-blank lines
  uint64_t lines = 0;        ///< all lines
  uint64_t bytes = 0;        ///< file size
  uint64_t index_bytes = 0;  ///< memory the file's index takes
  double seconds = 0;        ///< time to build or load it
};

/// Ids (id field values) that name more than one record.
struct DuplicateIds {
  int64_t ids = 0;                    ///< distinct ids that name several records
  int64_t records = 0;                ///< records that carry one of them
  std::vector<std::string> examples;  ///< "'x' at a.jsonl:3 and b.jsonl:9", a few of them
};

class CorpusIndex {
 public:
  /// Loads each file's cache, (re)building the ones that are missing or stale.
  /// Throws InputError naming the file when it cannot be read.
  static CorpusIndex open(const std::vector<std::string>& files, const IndexOptions& options = {});
  /// As open() on every rank, but rank 0 builds stale caches first while the
  /// others wait, so ranks never race to write the same cache; an error on
  /// rank 0 reaches every rank.
  static CorpusIndex open_shared(const std::vector<std::string>& files, const IndexOptions& options,
                                 dist::Communicator& comm);

  CorpusIndex(CorpusIndex&&) noexcept;
  CorpusIndex& operator=(CorpusIndex&&) noexcept;
  ~CorpusIndex();

  const std::vector<std::string>& files() const;
  int64_t size() const;                     ///< records in all files
  Range file_range(size_t file) const;      ///< the global indices of one file's records
  RecordLocation locate(int64_t global) const;
  /// "path:line" of a record, as used in error messages and default ids.
  std::string where(int64_t global) const;
  /// Bytes of the record's line without its line ending, from the index (no
  /// read): a cost estimate before tokenizing, e.g. to balance shards.
  int64_t record_bytes(int64_t global) const;
  /// The record's line, without its line ending ("\n" or "\r\n").
  std::string read(int64_t global) const;
  /// Calls fn(global, line) for every record of `range` in order, reading the
  /// bytes of the range in large sequential blocks.
  void for_each(Range range, const std::function<void(int64_t, std::string_view)>& fn) const;
  /// The record's id: its id field, or where(global) when it has none.
  std::string id(int64_t global) const;
  /// Global index of the record with this id (an id field value or a
  /// "path:line"), nullopt when there is none; InputError when the id field
  /// value names more than one record.
  std::optional<int64_t> find(std::string_view id) const;

  const std::vector<FileIndexInfo>& file_info() const;
  /// Looks for ids that name several records (reads only the lines whose id
  /// hashes collide); up to `max_examples` of them are described.
  DuplicateIds duplicate_ids(size_t max_examples = 3) const;

  /// Opaque state.
  struct Impl;

 private:
  explicit CorpusIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ntks::data
