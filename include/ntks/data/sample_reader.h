#pragma once
// Reads corpus records as model-ready samples: index -> line -> record ->
// chat template -> token ids and response mask, with the bad-input policy of
// the config applied in one place. Nothing is dropped silently: every line
// that does not become a sample is counted by reason and written, with its
// location and the reason, to the skip log.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/corpus_index.h"

namespace ntks::tokenizer {
class Tokenizer;
}

namespace ntks::data {

struct Sample {
  int64_t index = 0;                   ///< global index in the corpus
  std::string id;                      ///< the record's id field, or "path:line"
  uint64_t content_hash = 0;           ///< content_hash() of the record
  std::vector<int32_t> ids;            ///< at most model.max_seq_len tokens
  std::vector<uint8_t> response_mask;  ///< 1 for the tokens the loss trains on
  bool truncated = false;              ///< cut to model.max_seq_len
  int64_t source_tokens = 0;           ///< tokens before truncation
};

/// What happened to the lines read.
struct ReadStats {
  int64_t records = 0;    ///< lines read
  int64_t samples = 0;    ///< delivered as samples
  int64_t skipped = 0;    ///< bad lines skipped (data.on_error: skip)
  int64_t truncated = 0;  ///< delivered, cut to model.max_seq_len
  int64_t dropped = 0;    ///< over model.max_seq_len and dropped (data.overlong: drop, or no response left)
  int64_t tokens = 0;     ///< tokens delivered
  std::map<std::string, int64_t> reasons;  ///< skipped and dropped lines by reason

  void merge(const ReadStats& other);
  /// One line: "1000 records: 990 samples (3 truncated), 7 skipped (5 json, 2 field), 3 dropped (3 overlong)".
  std::string summary() const;
};

/// JSONL file of the lines that did not become samples, one object per line:
/// {"index", "file", "line", "offset", "reason", "message", "text"} ("index" is
/// the global record index; "text" is the line, with invalid UTF-8 replaced by
/// U+FFFD and "invalid_utf8": true then). It is written to "<path>.partial" and
/// renamed by close(), so a crash never leaves a file that looks complete.
class SkipLog {
 public:
  explicit SkipLog(std::string path);
  /// Continues the "<path>.partial" of an interrupted run, keeping only its
  /// entries with index < `keep_below` (the records whose outcome was
  /// committed); starts a new file when there is none.
  static std::unique_ptr<SkipLog> resume(const std::string& path, int64_t keep_below);
  ~SkipLog();  ///< removes an unclosed .partial file
  SkipLog(const SkipLog&) = delete;
  SkipLog& operator=(const SkipLog&) = delete;

  void add(int64_t index, const std::string& file, uint64_t line, uint64_t offset, std::string_view reason,
           std::string_view message, std::string_view text);
  /// Makes the entries so far durable (before the rows they account for are committed).
  void flush();
  void close();
  const std::string& path() const { return path_; }
  int64_t count() const { return count_; }

 private:
  std::string path_;
  SkipLog(std::string path, std::FILE* out, int64_t count) : path_(std::move(path)), out_(out), count_(count) {}
  std::FILE* out_ = nullptr;
  int64_t count_ = 0;
};

class SampleReader {
 public:
  /// `skip_log` may be null: lines that do not become samples are then only
  /// counted and logged as warnings.
  SampleReader(const CorpusIndex& index, const config::Config& cfg, const tokenizer::Tokenizer& tok,
               SkipLog* skip_log);

  /// Calls fn for every sample of `range`, in order. A bad line throws
  /// InputError "path:line: problem" under data.on_error: fail, and is skipped
  /// (counted, logged, written to the skip log) under skip.
  void read(Range range, const std::function<void(Sample&&)>& fn);
  /// The same for a list of global indices, in the given order.
  void read(const std::vector<int64_t>& indices, const std::function<void(Sample&&)>& fn);

  const ReadStats& stats() const { return stats_; }
  config::Template chat_template() const { return template_; }

 private:
  void handle(int64_t global, std::string_view line, const std::function<void(Sample&&)>& fn);
  void reject(int64_t global, std::string_view line, const std::string& reason, const std::string& message);

  const CorpusIndex& index_;
  const config::Config& cfg_;
  const tokenizer::Tokenizer& tok_;
  SkipLog* skip_log_;
  config::Template template_;
  ReadStats stats_;
};

}  // namespace ntks::data
