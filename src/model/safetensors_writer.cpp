// Writing safetensors files and sharded checkpoints. Every file is written
// under a temporary name and renamed, so a reader never sees half a file; a
// sharded checkpoint writes its index last, so an index implies complete shards.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ntks/model/safetensors.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::model {

namespace {

namespace fs = std::filesystem;

// A file written under a temporary name; commit() syncs and renames it into
// place, the destructor removes it if commit() never ran. Unlike
// write_file_atomic it streams: shards of several GB are never one string.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)), partial_(path_ + ".partial") {
    fd_ = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot create");
  }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(partial_.c_str());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t done = ::write(fd_, p, std::min<std::size_t>(n, std::size_t{1} << 30));
      if (done < 0) {
        if (errno == EINTR) continue;
        fail("cannot write");
      }
      p += done;
      n -= static_cast<std::size_t>(done);
    }
  }
  void write(const std::string& s) { write(s.data(), s.size()); }

  void commit() {
    if (::fsync(fd_) != 0) fail("cannot sync");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot close");
    if (std::rename(partial_.c_str(), path_.c_str()) != 0) {
      throw InputError(fmt::format("{}: cannot rename to {}: {}", partial_, path_,
                                   std::strerror(errno)));
    }
    committed_ = true;
  }

 private:
  [[noreturn]] void fail(const char* what) {
    throw InputError(fmt::format("{}: {}: {}", partial_, what, std::strerror(errno)));
  }
  std::string path_;
  std::string partial_;
  int fd_ = -1;
  bool committed_ = false;
};

std::uint64_t expected_bytes(const TensorBytes& t) {
  std::uint64_t n = st_dtype_size(t.dtype);
  for (const auto d : t.shape) {
    NTKS_CHECK(d >= 0, "tensor '{}': negative dimension {}", t.name, d);
    n *= static_cast<std::uint64_t>(d);
  }
  return n;
}

void check_tensors(const std::vector<TensorBytes>& tensors) {
  std::set<std::string> seen;
  for (const auto& t : tensors) {
    NTKS_CHECK(!t.name.empty() && t.name != "__metadata__", "invalid tensor name '{}'", t.name);
    NTKS_CHECK(seen.insert(t.name).second, "tensor '{}' given twice", t.name);
    NTKS_CHECK(t.bytes.size() == expected_bytes(t), "tensor '{}': {} bytes for {} of {} elements",
               t.name, t.bytes.size(), st_dtype_name(t.dtype), expected_bytes(t) / st_dtype_size(t.dtype));
  }
}

std::string shard_file_name(int i, int n) {
  return fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, n);
}

// Splits `tensors` into `n` contiguous non-empty groups of roughly equal
// bytes: a tensor joins the current group while its middle lies before the
// group's share of the total. Returns the index one past each group's end.
std::vector<std::size_t> split_evenly(const std::vector<TensorBytes>& tensors, int n) {
  std::uint64_t total = 0;
  for (const auto& t : tensors) total += t.bytes.size();
  std::vector<std::size_t> ends;
  std::size_t next = 0;
  std::uint64_t written = 0;
  for (int k = 0; k < n; ++k) {
    const std::size_t groups_after = static_cast<std::size_t>(n - k - 1);
    const std::size_t last_allowed = tensors.size() - groups_after;  // leave one per later group
    // share of bytes that groups 0..k should hold, computed without overflow
    const double target = static_cast<double>(total) * (k + 1) / n;
    do {
      written += tensors[next].bytes.size();
      ++next;
    } while (next < last_allowed &&
             (k == n - 1 ||
              static_cast<double>(written) + tensors[next].bytes.size() / 2.0 <= target));
    ends.push_back(next);
  }
  return ends;
}

// One safetensors file holding the tensors [first, last), already checked.
void write_file(const std::string& path, const TensorBytes* first, const TensorBytes* last,
                const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const TensorBytes* t = first; t != last; ++t) {
    header[t->name] = {{"dtype", st_dtype_name(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->bytes.size()}}};
    offset += t->bytes.size();
  }
  std::string text = header.dump();
  // Pad with spaces so that the data starts 8-byte aligned, as the reference
  // implementation does.
  text.append((8 - text.size() % 8) % 8, ' ');
  unsigned char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(text.size() >> (8 * i));

  AtomicFile out(path);
  out.write(length, sizeof length);
  out.write(text);
  for (const TensorBytes* t = first; t != last; ++t) out.write(t->bytes);
  out.commit();
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  check_tensors(tensors);
  write_file(path, tensors.data(), tensors.data() + tensors.size(), metadata);
}

void write_checkpoint(const std::string& dir, const std::vector<TensorBytes>& tensors, int shards,
                      const std::map<std::string, std::string>& metadata) {
  NTKS_CHECK(shards >= 1, "write_checkpoint: {} shards", shards);
  NTKS_CHECK(shards == 1 || static_cast<std::size_t>(shards) <= tensors.size(),
             "write_checkpoint: {} shards for {} tensors", shards, tensors.size());
  check_tensors(tensors);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create folder: {}", dir, ec.message()));

  const fs::path folder(dir);
  const fs::path single = folder / "model.safetensors";
  const fs::path index_path = folder / "model.safetensors.index.json";
  if (shards == 1) {
    write_safetensors(single.string(), tensors, metadata);
    fs::remove(index_path, ec);  // a stale index would name shards of another checkpoint
    return;
  }

  nlohmann::json weight_map = nlohmann::json::object();
  std::uint64_t total = 0;
  std::size_t begin = 0;
  const std::vector<std::size_t> ends = split_evenly(tensors, shards);
  for (int k = 0; k < shards; ++k) {
    const std::string name = shard_file_name(k, shards);
    write_file((folder / name).string(), tensors.data() + begin, tensors.data() + ends[k], metadata);
    for (std::size_t i = begin; i < ends[k]; ++i) {
      weight_map[tensors[i].name] = name;
      total += tensors[i].bytes.size();
    }
    begin = ends[k];
  }
  const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  // transformers loads model.safetensors before an index: remove a stale one first.
  fs::remove(single, ec);
  write_file_atomic(index_path.string(), index.dump(2) + "\n");
}

}  // namespace ntks::model
