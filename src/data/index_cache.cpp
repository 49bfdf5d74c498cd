// The cache file of one corpus file's index (format: docs/index-format.md).
// Written in one pass through a temporary file and a rename; read back with
// every count, size and the checksum verified before anything is trusted.

#include <sys/stat.h>
#include <unistd.h>
#include <xxh3.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "data/index_file.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::data::detail {
namespace {

constexpr char kMagic[8] = {'N', 'T', 'K', 'S', 'I', 'D', 'X', '\0'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kByteOrder = 0x01020304;
constexpr size_t kFixedHeader = 88;  // bytes before the id field name

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t byte_order;
  uint64_t file_size;
  int64_t mtime_ns;
  uint64_t head_hash;
  uint64_t tail_hash;
  uint64_t lines;
  uint64_t records;
  uint64_t ids;
  uint64_t hash_kind;
  uint32_t field_length;
  uint32_t reserved;
};
static_assert(sizeof(Header) == kFixedHeader, "cache header layout");

uint64_t pad8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

/// Total cache size implied by the header; 0 when the counts are absurd.
uint64_t expected_size(const Header& h) {
  if (h.records > (uint64_t{1} << 40) || h.ids > h.records || h.field_length > 4096) return 0;
  return kFixedHeader + pad8(h.field_length) + h.records * 16 + pad8(h.records * 4) + h.ids * 16 + 8;
}

std::function<bool(const std::string&)>& writable_hook() {
  static std::function<bool(const std::string&)> hook;
  return hook;
}

/// Writes through a FILE* while hashing every byte.
class HashedWriter {
 public:
  HashedWriter(std::FILE* f, const std::string& path) : f_(f), path_(path), state_(XXH3_createState()) {
    XXH3_64bits_reset(state_);
  }
  ~HashedWriter() { XXH3_freeState(state_); }
  void write(const void* p, size_t n) {
    if (n == 0) return;
    XXH3_64bits_update(state_, p, n);
    if (std::fwrite(p, 1, n, f_) != n)
      throw InputError(fmt::format("{}: cannot be written ({})", path_, std::strerror(errno)));
    count_ += n;
  }
  void pad() {
    static const char zeros[8] = {};
    write(zeros, pad8(written()) - written());
  }
  template <class T>
  void array(const std::vector<T>& v) {
    write(v.data(), v.size() * sizeof(T));
  }
  void finish() {
    uint64_t sum = XXH3_64bits_digest(state_);
    if (std::fwrite(&sum, 1, 8, f_) != 8)
      throw InputError(fmt::format("{}: cannot be written ({})", path_, std::strerror(errno)));
  }
  uint64_t written() const { return count_; }

 private:
  std::FILE* f_;
  const std::string& path_;
  XXH3_state_t* state_;
  uint64_t count_ = 0;
};

/// Reads from a FILE* while hashing every byte.
class HashedReader {
 public:
  explicit HashedReader(std::FILE* f) : f_(f), state_(XXH3_createState()) { XXH3_64bits_reset(state_); }
  ~HashedReader() { XXH3_freeState(state_); }
  bool read(void* p, size_t n) {
    if (n == 0) return true;
    if (std::fread(p, 1, n, f_) != n) return false;
    XXH3_64bits_update(state_, p, n);
    count_ += n;
    return true;
  }
  bool skip_pad() {
    char zeros[8];
    return read(zeros, pad8(count_) - count_);
  }
  template <class T>
  bool array(std::vector<T>& v, uint64_t n) {
    v.resize(n);
    return read(v.data(), n * sizeof(T));
  }
  uint64_t digest() const { return XXH3_64bits_digest(state_); }

 private:
  std::FILE* f_;
  XXH3_state_t* state_;
  uint64_t count_ = 0;
};

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

/// The semantic checks of a cache whose checksum matched; empty when fine.
std::string check_arrays(const FileIndex& ix) {
  const size_t n = ix.records();
  for (size_t i = 0; i < n; ++i) {
    if (ix.offset[i] + ix.length[i] > ix.identity.size) return fmt::format("record {} ends past the file", i);
    if (ix.line[i] == 0 || ix.line[i] > ix.lines) return fmt::format("record {} has line {}", i, ix.line[i]);
    if (i > 0 && (ix.offset[i] <= ix.offset[i - 1] + ix.length[i - 1] || ix.line[i] <= ix.line[i - 1]))
      return fmt::format("record {} is out of order", i);
  }
  for (size_t i = 0; i < ix.ids.size(); ++i) {
    if (ix.ids[i].record >= n) return fmt::format("id entry {} names record {}", i, ix.ids[i].record);
    if (i > 0 && !(ix.ids[i - 1] < ix.ids[i])) return "id table not sorted";
  }
  return {};
}

}  // namespace

void write_cache(const std::string& cache_path, const FileIndex& ix) {
  std::string tmp = fmt::format("{}.tmp-{}", cache_path, ::getpid());
  FilePtr f(std::fopen(tmp.c_str(), "wb"));
  if (!f) throw InputError(fmt::format("{}: cannot be written ({})", tmp, std::strerror(errno)));
  try {
    Header h{};
    std::memcpy(h.magic, kMagic, 8);
    h.version = kVersion;
    h.byte_order = kByteOrder;
    h.file_size = ix.identity.size;
    h.mtime_ns = ix.identity.mtime_ns;
    h.head_hash = ix.identity.head_hash;
    h.tail_hash = ix.identity.tail_hash;
    h.lines = ix.lines;
    h.records = ix.records();
    h.ids = ix.ids.size();
    h.hash_kind = id_hash_kind();
    h.field_length = static_cast<uint32_t>(ix.id_field.size());
    HashedWriter w(f.get(), tmp);
    w.write(&h, sizeof h);
    w.write(ix.id_field.data(), ix.id_field.size());
    w.pad();
    w.array(ix.offset);
    w.array(ix.line);
    w.array(ix.length);
    w.pad();
    w.array(ix.ids);
    w.finish();
    // No fsync: a cache cut short by a crash fails its checksum and is rebuilt.
    if (std::fflush(f.get()) != 0)
      throw InputError(fmt::format("{}: cannot be written ({})", tmp, std::strerror(errno)));
    f.reset();
    if (std::rename(tmp.c_str(), cache_path.c_str()) != 0)
      throw InputError(fmt::format("cannot rename {} to {} ({})", tmp, cache_path, std::strerror(errno)));
  } catch (...) {
    f.reset();
    std::remove(tmp.c_str());
    throw;
  }
}

CacheLoad read_cache(const std::string& cache_path, const FileIdentity& current, const std::string& id_field) {
  CacheLoad out;
  FilePtr f(std::fopen(cache_path.c_str(), "rb"));
  if (!f) {
    out.state = errno == ENOENT ? CacheState::missing : CacheState::corrupt;
    out.why = std::strerror(errno);
    return out;
  }
  auto corrupt = [&](std::string why) {
    out.state = CacheState::corrupt;
    out.why = std::move(why);
    out.index = {};
    return std::move(out);
  };
  struct stat st {};
  if (::fstat(::fileno(f.get()), &st) != 0) return corrupt(std::strerror(errno));
  HashedReader r(f.get());
  Header h{};
  if (!r.read(&h, sizeof h)) return corrupt("shorter than its header");
  if (std::memcmp(h.magic, kMagic, 8) != 0) return corrupt("not an ntk-select index cache");
  if (h.version != kVersion) return corrupt(fmt::format("format version {}, this build reads {}", h.version, kVersion));
  if (h.byte_order != kByteOrder) return corrupt("written on a machine with another byte order");
  const uint64_t want = expected_size(h);
  if (want == 0) return corrupt("impossible counts in its header");
  if (static_cast<uint64_t>(st.st_size) != want)
    return corrupt(fmt::format("{} bytes where its header implies {} (truncated?)", st.st_size, want));
  std::string field(h.field_length, '\0');
  if (!r.read(field.data(), field.size()) || !r.skip_pad()) return corrupt("truncated");

  // A file that changed makes the cache stale, whatever else it holds; this
  // is decided before the arrays are read.
  FileIdentity cached{h.file_size, h.mtime_ns, h.head_hash, h.tail_hash};
  std::string stale;
  if (cached.size != current.size)
    stale = fmt::format("size {} -> {} bytes", cached.size, current.size);
  else if (cached.mtime_ns != current.mtime_ns)
    stale = "modification time changed";
  else if (cached.head_hash != current.head_hash || cached.tail_hash != current.tail_hash)
    stale = "content of its first or last 64 KiB changed";
  else if (field != id_field)
    stale = fmt::format("indexed with id field '{}', now '{}'", field, id_field);
  else if (h.hash_kind != id_hash_kind())
    stale = "indexed with another id hash";
  if (!stale.empty()) {
    out.state = CacheState::stale;
    out.why = stale;
    return out;
  }

  FileIndex& ix = out.index;
  ix.identity = cached;
  ix.id_field = field;
  ix.lines = h.lines;
  if (!r.array(ix.offset, h.records) || !r.array(ix.line, h.records) || !r.array(ix.length, h.records) ||
      !r.skip_pad() || !r.array(ix.ids, h.ids))
    return corrupt("truncated");
  uint64_t sum = 0;
  if (std::fread(&sum, 1, 8, f.get()) != 8) return corrupt("truncated");
  if (sum != r.digest()) return corrupt("checksum mismatch");
  if (std::string bad = check_arrays(ix); !bad.empty()) return corrupt(bad);
  out.state = CacheState::ok;
  return out;
}

std::string cache_path_beside(const std::string& file) { return file + ".ntksidx"; }

std::string cache_path_in_folder(const std::string& file, const std::string& cache_dir) {
  namespace fs = std::filesystem;
  const fs::path folder = cache_dir.empty() ? user_cache_dir() : cache_dir;
  if (folder.empty()) {
    throw InputError(fmt::format("{}: its folder is not writable and there is no cache folder "
                                 "(set NTKS_CACHE_DIR or HOME)",
                                 file));
  }
  std::error_code ec;
  const std::string absolute = fs::absolute(file, ec).lexically_normal().string();
  const std::string name = fs::path(file).filename().string();
  return (folder / fmt::format("{}-{:016x}.ntksidx", name, xxh3(absolute))).string();
}

bool folder_writable(const std::string& file) {
  std::string folder = std::filesystem::path(file).parent_path().string();
  if (folder.empty()) folder = ".";
  if (writable_hook()) return writable_hook()(folder);
  return ::access(folder.c_str(), W_OK) == 0;
}

void set_folder_writable_for_testing(std::function<bool(const std::string&)> writable) {
  writable_hook() = std::move(writable);
}

}  // namespace ntks::data::detail
