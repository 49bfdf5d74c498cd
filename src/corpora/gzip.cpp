// gzip through zlib's inflate, member after member: a file whose members were
// concatenated (gzip allows it) is read whole, and a truncated one is an error.

#include "corpora/gzip.h"

#include <zlib.h>

#include <fmt/format.h>

#include "ntks/util/error.h"

namespace ntks::corpora {

std::string gunzip(std::string_view bytes, const std::string& path) {
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f || static_cast<unsigned char>(bytes[1]) != 0x8b)
    throw InputError(fmt::format("{}: not a gzip file (no gzip magic bytes 1f 8b at the start)", path));
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw InputError(fmt::format("{}: zlib cannot start", path));
  std::string out;
  char buf[1 << 16];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  int rc = Z_OK;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // the next member
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // input ended inside a member
    const std::string msg = z.msg ? z.msg : fmt::format("zlib error {}", rc);
    const size_t at = bytes.size() - z.avail_in;
    inflateEnd(&z);
    throw InputError(fmt::format("{}: corrupt gzip data at compressed byte {} ({})", path, at, msg));
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    throw InputError(fmt::format("{}: gzip data ends early ({} bytes read, {} uncompressed): the file is truncated",
                                 path, bytes.size(), out.size()));
  return out;
}

}  // namespace ntks::corpora
