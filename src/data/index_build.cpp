// Building one file's index: stream the file in large blocks, find line ends
// with memchr, keep the offset, line number and length of every non-blank
// line and the hash of its id field. Memory is the index plus one block (and
// one line when a line is longer than a block).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "data/index_file.h"
#include "ntks/util/error.h"

namespace ntks::data::detail {
namespace {

constexpr size_t kBlock = 16u << 20;
constexpr uint64_t kHeadTail = 64u << 10;

FileIdentity identity_of(const struct stat& st) {
  FileIdentity id;
  id.size = static_cast<uint64_t>(st.st_size);
  id.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return id;
}

FileIdentity fstat_identity(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw InputError(fmt::format("{}: cannot stat ({})", path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw InputError(fmt::format("{}: not a regular file", path));
  return identity_of(st);
}

void add_head_tail(int fd, const std::string& path, FileIdentity& id) {
  std::string buf(static_cast<size_t>(std::min(id.size, kHeadTail)), '\0');
  pread_exact(fd, path, buf.data(), buf.size(), 0);
  id.head_hash = xxh3(buf);
  pread_exact(fd, path, buf.data(), buf.size(), id.size - buf.size());
  id.tail_hash = xxh3(buf);
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

/// Collects records as lines are found.
struct Builder {
  const std::string& path;
  const std::string& field;
  FileIndex& out;
  std::string quoted_field;

  void line(uint64_t offset, uint64_t number, std::string_view text) {
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.empty() || ((text[0] == ' ' || text[0] == '\t' || text[0] == '\r') && blank(text))) return;
    if (text.size() > UINT32_MAX)
      throw InputError(fmt::format("{}:{}: line of {} bytes; lines are limited to 4 GiB", path, number, text.size()));
    const uint64_t local = out.offset.size();
    out.offset.push_back(offset);
    out.line.push_back(number);
    out.length.push_back(static_cast<uint32_t>(text.size()));
    // Most lines without the field are skipped without parsing. A key spelled
    // with \u escapes does not contain the name literally, so such lines are
    // parsed too.
    if (text.find(quoted_field) == std::string_view::npos && text.find("\\u") == std::string_view::npos) return;
    std::string id = extract_id(text, field);
    if (!id.empty()) out.ids.push_back({id_hash(id), local});
  }
};

}  // namespace

uint64_t FileIndex::memory_bytes() const {
  return offset.size() * (sizeof(uint64_t) * 2 + sizeof(uint32_t)) + ids.size() * sizeof(IdEntry);
}

void pread_exact(int fd, const std::string& path, char* out, size_t n, uint64_t offset) {
  while (n > 0) {
    ssize_t got = ::pread(fd, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw InputError(fmt::format("{}: read failed at byte {} ({})", path, offset, std::strerror(errno)));
    if (got == 0)
      throw InputError(fmt::format("{}: ends before byte {} (the file shrank since it was indexed?)", path,
                                   offset + n));
    out += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

FileIdentity stat_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(fmt::format("{}: cannot be read ({})", path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw InputError(fmt::format("{}: not a regular file", path));
  return identity_of(st);
}

FileIdentity full_identity(const std::string& path) {
  ReadFd fd(path);
  FileIdentity id = fstat_identity(fd.get(), path);
  add_head_tail(fd.get(), path, id);
  return id;
}

FileIndex build_file_index(const std::string& path, const std::string& id_field,
                           const std::function<void(uint64_t)>& progress) {
  ReadFd fd(path);
  FileIndex out;
  out.id_field = id_field;
  out.identity = fstat_identity(fd.get(), path);
  add_head_tail(fd.get(), path, out.identity);
  // Room for lines of ~512 bytes on average: only the pages that get used
  // become resident, and regrowth (a copy) is rare.
  const size_t guess = static_cast<size_t>(out.identity.size / 512 + 16);
  out.offset.reserve(guess);
  out.line.reserve(guess);
  out.length.reserve(guess);
  out.ids.reserve(guess);

  Builder b{path, id_field, out, "\"" + id_field + "\""};
  std::string block(static_cast<size_t>(std::min<uint64_t>(kBlock, out.identity.size + 1)), '\0');
  std::string carry;        // the start of a line that continues in the next block
  uint64_t pos = 0;         // file offset of block[0]
  uint64_t line_start = 0;  // file offset of the current line
  uint64_t number = 1;      // its line number
  for (;;) {
    ssize_t got = ::read(fd.get(), block.data(), block.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw InputError(fmt::format("{}: read failed at byte {} ({})", path, pos, std::strerror(errno)));
    if (got == 0) break;
    const char* data = block.data();
    const char* end = data + got;
    const char* p = data;
    while (const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) {
      if (carry.empty()) {
        b.line(line_start, number, std::string_view(p, static_cast<size_t>(nl - p)));
      } else {
        carry.append(p, static_cast<size_t>(nl - p));
        b.line(line_start, number, carry);
        carry.clear();
      }
      ++number;
      line_start = pos + static_cast<uint64_t>(nl + 1 - data);
      p = nl + 1;
    }
    carry.append(p, static_cast<size_t>(end - p));
    pos += static_cast<uint64_t>(got);
    if (progress) progress(pos);
  }
  out.lines = number - 1;
  if (!carry.empty()) {  // a last line without "\n"
    b.line(line_start, number, carry);
    out.lines = number;
  }
  FileIdentity after = fstat_identity(fd.get(), path);
  if (pos != out.identity.size || after.size != out.identity.size || after.mtime_ns != out.identity.mtime_ns)
    throw InputError(fmt::format("{}: changed while it was being indexed (size {} -> {} bytes); index it again "
                                 "once it is complete",
                                 path, out.identity.size, after.size));

  // Sorted in place: equal hashes end up adjacent, with no second copy.
  std::sort(out.ids.begin(), out.ids.end());
  return out;
}

}  // namespace ntks::data::detail
