#pragma once
// Text outputs of `select`, written as "<path>.partial" and renamed when
// complete, so a crash never leaves a file a rerun mistakes for complete.
//
// Newline rule for corpus lines (selected.jsonl, mixture.jsonl): every line is
// the record's bytes exactly as in the corpus file, without its line ending,
// followed by "\n". So a CRLF line loses only its "\r" (part of the line
// ending), and a last line without a newline gets one; the JSON text itself,
// including any unicode or escapes, is never re-encoded.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace ntks::select {

class LineFile {
 public:
  /// Creates "<path>.partial" (replacing a stale one); InputError when it cannot.
  explicit LineFile(std::string path);
  /// Without commit(): removes the partial file. Never throws.
  ~LineFile();
  LineFile(const LineFile&) = delete;
  LineFile& operator=(const LineFile&) = delete;

  /// Writes `line` and then "\n".
  void add(std::string_view line);
  /// Flushes to disk and renames "<path>.partial" to <path>; returns the file's size in bytes.
  std::uint64_t commit();

 private:
  std::string path_;
  std::FILE* out_ = nullptr;
  std::uint64_t bytes_ = 0;
};

}  // namespace ntks::select
