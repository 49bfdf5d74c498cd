#include "ntks/select/outputs.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ntks/util/error.h"

namespace ntks::select {

LineFile::LineFile(std::string path) : path_(std::move(path)) {
  const std::string partial = path_ + ".partial";
  out_ = std::fopen(partial.c_str(), "wb");
  if (!out_) throw InputError(fmt::format("{}: cannot be written ({})", partial, std::strerror(errno)));
}

LineFile::~LineFile() {
  if (out_) {
    std::fclose(out_);
    std::remove((path_ + ".partial").c_str());
  }
}

void LineFile::add(std::string_view line) {
  NTKS_CHECK(out_ != nullptr, "{}: add after commit", path_);
  if (std::fwrite(line.data(), 1, line.size(), out_) != line.size() || std::fputc('\n', out_) == EOF)
    throw InputError(fmt::format("{}.partial: write failed ({})", path_, std::strerror(errno)));
  bytes_ += line.size() + 1;
}

std::uint64_t LineFile::commit() {
  NTKS_CHECK(out_ != nullptr, "{}: committed twice", path_);
  const std::string partial = path_ + ".partial";
  const bool ok = std::fflush(out_) == 0 && ::fsync(::fileno(out_)) == 0;
  const int err = errno;
  const bool closed = std::fclose(out_) == 0;
  out_ = nullptr;
  if (!ok || !closed || std::rename(partial.c_str(), path_.c_str()) != 0) {
    std::remove(partial.c_str());
    throw InputError(fmt::format("{}: cannot be completed ({})", path_, std::strerror(ok ? errno : err)));
  }
  return bytes_;
}

}  // namespace ntks::select
