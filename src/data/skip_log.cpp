// SkipLog: the file where lines that did not become samples are kept, with
// their location and reason, so nothing is lost without a trace.

#include <cerrno>
#include <cstring>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "ntks/data/sample_reader.h"
#include "ntks/util/error.h"
#include "ntks/util/utf8.h"

namespace ntks::data {

SkipLog::SkipLog(std::string path) : path_(std::move(path)) {
  const std::string partial = path_ + ".partial";
  out_ = std::fopen(partial.c_str(), "wb");
  if (!out_) throw InputError(fmt::format("{}: cannot be written ({})", partial, std::strerror(errno)));
}

SkipLog::~SkipLog() {
  if (out_) {
    std::fclose(out_);
    std::remove((path_ + ".partial").c_str());
  }
}

std::unique_ptr<SkipLog> SkipLog::resume(const std::string& path, int64_t keep_below) {
  const std::string partial = path + ".partial";
  std::string kept;
  int64_t count = 0;
  if (std::FILE* in = std::fopen(partial.c_str(), "rb")) {
    std::string text;
    char buf[1 << 16];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, in)) > 0;) text.append(buf, n);
    std::fclose(in);
    // Only whole lines count: a kill may have cut the last one short.
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string_view line(text.data() + start, nl - start);
      const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("index") && j["index"].is_number_integer() &&
          j["index"].get<int64_t>() < keep_below) {
        kept.append(line);
        kept += '\n';
        ++count;
      }
    }
  }
  std::FILE* out = std::fopen(partial.c_str(), "wb");
  if (!out || std::fwrite(kept.data(), 1, kept.size(), out) != kept.size())
    throw InputError(fmt::format("{}: cannot be written ({})", partial, std::strerror(errno)));
  return std::unique_ptr<SkipLog>(new SkipLog(path, out, count));
}

void SkipLog::flush() {
  if (out_ && (std::fflush(out_) != 0 || ::fsync(fileno(out_)) != 0))
    throw InputError(fmt::format("{}.partial: write failed ({})", path_, std::strerror(errno)));
}

void SkipLog::add(int64_t index, const std::string& file, uint64_t line, uint64_t offset, std::string_view reason,
                  std::string_view message, std::string_view text) {
  NTKS_CHECK(out_ != nullptr, "SkipLog::add after close() of {}", path_);
  nlohmann::json j = {{"index", index},   {"file", file},       {"line", line},
                      {"offset", offset}, {"reason", reason}, {"message", message}};
  if (find_invalid_utf8(text) == std::string_view::npos) {
    j["text"] = text;
  } else {
    j["text"] = utf8_lossy(text);
    j["invalid_utf8"] = true;
  }
  const std::string s = j.dump() + "\n";
  if (std::fwrite(s.data(), 1, s.size(), out_) != s.size())
    throw InputError(fmt::format("{}.partial: write failed ({})", path_, std::strerror(errno)));
  ++count_;
}

void SkipLog::close() {
  if (!out_) return;
  const std::string partial = path_ + ".partial";
  const bool ok = std::fflush(out_) == 0 && ::fsync(fileno(out_)) == 0;
  std::fclose(out_);
  out_ = nullptr;
  if (!ok || std::rename(partial.c_str(), path_.c_str()) != 0)
    throw InputError(fmt::format("{}: cannot be finished ({})", path_, std::strerror(errno)));
}

}  // namespace ntks::data
