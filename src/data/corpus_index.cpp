// CorpusIndex: the per-file indexes joined into one global numbering, with
// cache lookup/rebuild on open and pread-based access to records.

#include "ntks/data/corpus_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <queue>

#include "data/index_file.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/util/error.h"

namespace ntks::data {

using detail::CacheState;
using detail::FileIndex;

struct CorpusIndex::Impl {
  std::vector<std::string> files;
  std::vector<FileIndex> index;
  std::vector<int64_t> begin;  ///< global index of each file's first record; one past the end last
  std::vector<FileIndexInfo> info;

  size_t file_of(int64_t global) const {
    NTKS_CHECK(global >= 0 && global < begin.back(), "record {} is not in [0, {})", global, begin.back());
    return static_cast<size_t>(std::upper_bound(begin.begin(), begin.end(), global) - begin.begin()) - 1;
  }
  /// InputError when the file is no longer the one that was indexed.
  void check_unchanged(size_t f) const {
    detail::FileIdentity now = detail::stat_identity(files[f]);
    const detail::FileIdentity& then = index[f].identity;
    if (now.size != then.size || now.mtime_ns != then.mtime_ns)
      throw InputError(fmt::format("{}: changed since it was indexed ({}); open the corpus again to re-index it",
                                   files[f],
                                   now.size != then.size ? fmt::format("size {} -> {} bytes", then.size, now.size)
                                                         : std::string("modification time changed")));
  }
  std::string read_local(size_t f, uint64_t r) const;
};

namespace {

constexpr uint64_t kReadBlock = 8u << 20;
constexpr uint64_t kProgressFrom = 256u << 20;  // files smaller than this index without a progress line

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string human_bytes(uint64_t n) {
  if (n >= (uint64_t{1} << 30)) return fmt::format("{:.2f} GiB", n / double(uint64_t{1} << 30));
  if (n >= (uint64_t{1} << 20)) return fmt::format("{:.1f} MiB", n / double(uint64_t{1} << 20));
  if (n >= 1024) return fmt::format("{:.1f} KiB", n / 1024.0);
  return fmt::format("{} bytes", n);
}

FileIndex build_with_progress(const std::string& path, const std::string& field, uint64_t size) {
  if (size < kProgressFrom) return detail::build_file_index(path, field, {});
  log::ProgressOptions po;
  po.unit = "MiB";
  log::Progress progress("index " + path, static_cast<int64_t>(size >> 20), po);
  int64_t shown = 0;
  FileIndex ix = detail::build_file_index(path, field, [&](uint64_t done) {
    int64_t mib = static_cast<int64_t>(done >> 20);
    progress.advance(mib - shown);
    shown = mib;
  });
  progress.finish();
  return ix;
}

/// Writes the cache beside the file, else in the cache folder; returns where,
/// or "" when neither could be written (the run goes on without a cache).
std::string store_cache(const std::string& path, const FileIndex& ix, const IndexOptions& options) {
  std::vector<std::string> targets;
  if (detail::folder_writable(path)) targets.push_back(detail::cache_path_beside(path));
  try {
    targets.push_back(detail::cache_path_in_folder(path, options.cache_dir));
  } catch (const InputError& e) {
    if (targets.empty()) log::warn("{}", e.what());
  }
  for (const std::string& t : targets) {
    try {
      std::error_code ec;
      std::filesystem::path parent = std::filesystem::path(t).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      detail::write_cache(t, ix);
      return t;
    } catch (const InputError& e) {
      log::warn("cannot write the index cache of {}: {}", path, e.what());
    }
  }
  log::warn("{}: its index is not cached and will be built again next time", path);
  return {};
}

std::pair<FileIndex, FileIndexInfo> open_file(const std::string& path, const IndexOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  FileIndexInfo info;
  info.path = path;
  const detail::FileIdentity current = detail::full_identity(path);
  info.reason = options.rebuild ? "rebuild requested" : "no cache";
  // What was wrong with the caches seen, logged only when the file is indexed
  // again (a stale cache beside an unwritable file's valid one is no news).
  std::vector<std::pair<bool, std::string>> notes;  // (warning, text)
  if (!options.rebuild) {
    std::vector<std::string> places{detail::cache_path_beside(path)};
    try {
      places.push_back(detail::cache_path_in_folder(path, options.cache_dir));
    } catch (const InputError&) {
      // no cache folder: only the cache beside the file can exist
    }
    for (const std::string& place : places) {
      detail::CacheLoad load = detail::read_cache(place, current, options.id_field);
      if (load.state == CacheState::ok) {
        info.cache = place;
        info.records = static_cast<int64_t>(load.index.records());
        info.lines = load.index.lines;
        info.bytes = load.index.identity.size;
        info.index_bytes = load.index.memory_bytes();
        info.seconds = seconds_since(t0);
        log::debug("{}: loaded its index from {} ({} records)", path, place, info.records);
        return {std::move(load.index), std::move(info)};
      }
      if (load.state == CacheState::stale) {
        info.reason = "file changed: " + load.why;
        notes.emplace_back(false, fmt::format("{}: index cache {} is stale ({}); rebuilding", path, place, load.why));
      } else if (load.state == CacheState::corrupt) {
        info.reason = "cache corrupt: " + load.why;
        notes.emplace_back(true, fmt::format("{}: index cache {} is unusable ({}); rebuilding it", path, place,
                                             load.why));
      }
    }
  }
  for (const auto& [warning, text] : notes) {
    if (warning)
      log::warn("{}", text);
    else
      log::info("{}", text);
  }
  FileIndex ix = build_with_progress(path, options.id_field, current.size);
  info.built = true;
  info.cache = store_cache(path, ix, options);
  info.records = static_cast<int64_t>(ix.records());
  info.lines = ix.lines;
  info.bytes = ix.identity.size;
  info.index_bytes = ix.memory_bytes();
  info.seconds = seconds_since(t0);
  log::info("{}: indexed {} records ({} lines, {}) in {:.2f} s ({:.0f} lines/s){}", path, info.records, info.lines,
            human_bytes(info.bytes), info.seconds, info.lines / std::max(info.seconds, 1e-9),
            info.cache.empty() ? std::string() : "; cache " + info.cache);
  return {std::move(ix), std::move(info)};
}

/// "path:line" -> (path, line); nullopt when it does not have that shape.
std::optional<std::pair<std::string_view, uint64_t>> split_where(std::string_view id) {
  size_t colon = id.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == id.size() || id.size() - colon > 20)
    return std::nullopt;
  uint64_t line = 0;
  for (char c : id.substr(colon + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    line = line * 10 + static_cast<uint64_t>(c - '0');
  }
  return std::make_pair(id.substr(0, colon), line);
}

bool same_file(const std::string& a, std::string_view b) {
  if (a == b) return true;
  std::error_code ec;
  bool same = std::filesystem::equivalent(a, std::string(b), ec);
  return !ec && same;
}

}  // namespace

std::string CorpusIndex::Impl::read_local(size_t f, uint64_t r) const {
  check_unchanged(f);
  detail::ReadFd fd(files[f]);
  std::string line(index[f].length[r], '\0');
  detail::pread_exact(fd.get(), files[f], line.data(), line.size(), index[f].offset[r]);
  return line;
}

CorpusIndex CorpusIndex::open(const std::vector<std::string>& files, const IndexOptions& options) {
  if (options.id_field.empty()) throw UsageError("the id field name is empty");
  auto impl = std::make_unique<Impl>();
  impl->files = files;
  impl->begin.push_back(0);
  for (const std::string& path : files) {
    auto [ix, info] = open_file(path, options);
    impl->begin.push_back(impl->begin.back() + static_cast<int64_t>(ix.records()));
    impl->index.push_back(std::move(ix));
    impl->info.push_back(std::move(info));
  }
  return CorpusIndex(std::move(impl));
}

CorpusIndex::CorpusIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CorpusIndex::CorpusIndex(CorpusIndex&&) noexcept = default;
CorpusIndex& CorpusIndex::operator=(CorpusIndex&&) noexcept = default;
CorpusIndex::~CorpusIndex() = default;

const std::vector<std::string>& CorpusIndex::files() const { return impl_->files; }
int64_t CorpusIndex::size() const { return impl_->begin.back(); }
const std::vector<FileIndexInfo>& CorpusIndex::file_info() const { return impl_->info; }

Range CorpusIndex::file_range(size_t file) const {
  NTKS_CHECK(file < impl_->files.size(), "file {} of {}", file, impl_->files.size());
  return {impl_->begin[file], impl_->begin[file + 1]};
}

RecordLocation CorpusIndex::locate(int64_t global) const {
  size_t f = impl_->file_of(global);
  uint64_t r = static_cast<uint64_t>(global - impl_->begin[f]);
  return {static_cast<uint32_t>(f), impl_->index[f].line[r], impl_->index[f].offset[r]};
}

std::string CorpusIndex::where(int64_t global) const {
  RecordLocation loc = locate(global);
  return fmt::format("{}:{}", impl_->files[loc.file], loc.line);
}

int64_t CorpusIndex::record_bytes(int64_t global) const {
  const size_t f = impl_->file_of(global);
  return impl_->index[f].length[static_cast<size_t>(global - impl_->begin[f])];
}

std::string CorpusIndex::read(int64_t global) const {
  size_t f = impl_->file_of(global);
  return impl_->read_local(f, static_cast<uint64_t>(global - impl_->begin[f]));
}

void CorpusIndex::for_each(Range range, const std::function<void(int64_t, std::string_view)>& fn) const {
  NTKS_CHECK(range.begin >= 0 && range.begin <= range.end && range.end <= size(), "range [{}, {}) of {} records",
             range.begin, range.end, size());
  std::string block;
  int64_t g = range.begin;
  while (g < range.end) {
    const size_t f = impl_->file_of(g);
    const FileIndex& ix = impl_->index[f];
    const uint64_t first = static_cast<uint64_t>(g - impl_->begin[f]);
    const uint64_t last = static_cast<uint64_t>(std::min(range.end, impl_->begin[f + 1]) - impl_->begin[f]);
    impl_->check_unchanged(f);
    detail::ReadFd fd(impl_->files[f]);
    // One allocation of the block size up front: growing it step by step
    // would hold an old and a new buffer at once.
    const uint64_t total = ix.offset[last - 1] + ix.length[last - 1] - ix.offset[first];
    block.reserve(static_cast<size_t>(std::min(total, kReadBlock)));
    // Each pread covers whole records: as many as fit in a block, at least one.
    for (uint64_t r = first; r < last;) {
      const uint64_t start = ix.offset[r];
      uint64_t stop = r + 1;
      while (stop < last && ix.offset[stop] + ix.length[stop] - start <= kReadBlock) ++stop;
      const uint64_t span = ix.offset[stop - 1] + ix.length[stop - 1] - start;
      block.resize(span);
      detail::pread_exact(fd.get(), impl_->files[f], block.data(), span, start);
      for (; r < stop; ++r, ++g) fn(g, std::string_view(block.data() + (ix.offset[r] - start), ix.length[r]));
    }
  }
}

std::string CorpusIndex::id(int64_t global) const {
  size_t f = impl_->file_of(global);
  std::string value =
      detail::extract_id(impl_->read_local(f, static_cast<uint64_t>(global - impl_->begin[f])), impl_->index[f].id_field);
  return value.empty() ? where(global) : value;
}

std::optional<int64_t> CorpusIndex::find(std::string_view id) const {
  const uint64_t h = detail::id_hash(id);
  std::vector<int64_t> found;
  for (size_t f = 0; f < impl_->files.size(); ++f) {
    const FileIndex& ix = impl_->index[f];
    auto it = std::lower_bound(ix.ids.begin(), ix.ids.end(), detail::IdEntry{h, 0});
    for (; it != ix.ids.end() && it->hash == h; ++it) {
      const uint64_t r = it->record;
      // The hash only narrows the search: the line itself decides.
      if (detail::extract_id(impl_->read_local(f, r), ix.id_field) == id)
        found.push_back(impl_->begin[f] + static_cast<int64_t>(r));
    }
  }
  if (found.size() > 1)
    throw InputError(fmt::format("id '{}' names {} records: {} and {}{}; ids must be unique", id, found.size(),
                                 where(found[0]), where(found[1]),
                                 found.size() > 2 ? fmt::format(" and {} more", found.size() - 2) : std::string()));
  if (found.size() == 1) return found[0];
  if (auto w = split_where(id)) {
    for (size_t f = 0; f < impl_->files.size(); ++f) {
      if (!same_file(impl_->files[f], w->first)) continue;
      const auto& lines = impl_->index[f].line;
      auto it = std::lower_bound(lines.begin(), lines.end(), w->second);
      if (it != lines.end() && *it == w->second) return impl_->begin[f] + (it - lines.begin());
    }
  }
  return std::nullopt;
}

DuplicateIds CorpusIndex::duplicate_ids(size_t max_examples) const {
  // A merge of the files' sorted id tables (no copy of them): a heap holds
  // each file's next entry, smallest hash on top.
  struct Cursor {
    size_t file, next;
  };
  const auto hash_of = [&](const Cursor& c) { return impl_->index[c.file].ids[c.next].hash; };
  const auto later = [&](const Cursor& a, const Cursor& b) { return hash_of(a) > hash_of(b); };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> heap(later);
  for (size_t f = 0; f < impl_->files.size(); ++f)
    if (!impl_->index[f].ids.empty()) heap.push({f, 0});

  DuplicateIds out;
  std::vector<int64_t> same_hash;
  while (!heap.empty()) {
    const uint64_t h = hash_of(heap.top());
    same_hash.clear();
    while (!heap.empty() && hash_of(heap.top()) == h) {
      Cursor c = heap.top();
      heap.pop();
      const auto& ids = impl_->index[c.file].ids;
      for (; c.next < ids.size() && ids[c.next].hash == h; ++c.next)
        same_hash.push_back(impl_->begin[c.file] + static_cast<int64_t>(ids[c.next].record));
      if (c.next < ids.size()) heap.push(c);
    }
    if (same_hash.size() < 2) continue;
    // Equal hashes: group by the actual id (a collision is not a duplicate).
    std::map<std::string, std::vector<int64_t>> by_id;
    for (int64_t g : same_hash) {
      const size_t f = impl_->file_of(g);
      by_id[detail::extract_id(read(g), impl_->index[f].id_field)].push_back(g);
    }
    for (auto& [value, records] : by_id) {
      if (records.size() < 2) continue;
      std::sort(records.begin(), records.end());
      ++out.ids;
      out.records += static_cast<int64_t>(records.size());
      if (out.examples.size() < max_examples)
        out.examples.push_back(fmt::format("'{}' at {} and {}{}", value, where(records[0]), where(records[1]),
                                           records.size() > 2 ? fmt::format(" (+{})", records.size() - 2)
                                                              : std::string()));
    }
  }
  return out;
}

}  // namespace ntks::data
