// Pre-token counting for the BPE trainer: each text is pre-tokenized as the
// written tokenizer.json will do it (added tokens cut out, NFC, the Split
// regex; ByteLevel then keeps each piece whole) and its pieces counted. Threads
// count contiguous chunks into their own maps, which are summed at the end, so
// the counts are the same for any thread count.

#include <algorithm>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "ntks/log/progress.h"
#include "ntks/tokenizer/bpe_trainer.h"
#include "ntks/util/error.h"
#include "ntks/util/utf8.h"
#include "tokenizer/parts.h"

namespace ntks::tokenizer {
namespace {

// Lines are handed to the threads in blocks of about this many bytes.
constexpr size_t kBlockBytes = 8u << 20;

struct ThreadState {
  std::unordered_map<std::string, int64_t> words;
  std::vector<std::string_view> parts, pieces;
  std::string normalized, key;
};

class PreTokenizer {
 public:
  explicit PreTokenizer(SplitPattern pattern) : split_(split_pattern_regex(pattern), false, "train-tokenizer") {}

  /// Counts the pre-tokens of valid UTF-8 `text` into s.words.
  void count(std::string_view text, ThreadState& s) const {
    s.parts.clear();
    cut_added_tokens(text, s.parts);
    for (std::string_view part : s.parts) {
      if (detail::needs_nfc(part)) {
        s.normalized = detail::nfc(part);
        part = s.normalized;
      }
      s.pieces.clear();
      split_.split(part, s.pieces);
      for (std::string_view piece : s.pieces) {
        s.key.assign(piece);
        ++s.words[s.key];
      }
    }
  }

 private:
  // The text between added tokens: HF matches them (normalized: false) in the
  // raw text, leftmost-longest, before anything else. Every one of ours
  // starts with '<'.
  static void cut_added_tokens(std::string_view text, std::vector<std::string_view>& parts) {
    size_t start = 0;
    for (size_t pos = text.find('<'); pos != std::string_view::npos; pos = text.find('<', pos)) {
      size_t len = 0;
      for (const AddedTokenSpec& a : trainer_added_tokens()) {
        const size_t n = std::strlen(a.content);
        if (n > len && text.compare(pos, n, a.content) == 0) len = n;
      }
      if (len == 0) {
        ++pos;
        continue;
      }
      if (pos > start) parts.push_back(text.substr(start, pos - start));
      start = pos = pos + len;
    }
    if (start < text.size()) parts.push_back(text.substr(start));
  }

  detail::RegexSplitter split_;
};

int thread_count(const BpeTrainerOptions& options) {
  if (options.threads > 0) return options.threads;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Runs fn(i, state) for every i in [0, n), thread t over the t-th contiguous
// chunk with states[t]. A thread stops at its first exception; the one of the
// lowest i is rethrown once all are done, so the error reported does not
// depend on the thread count either.
void for_chunks(size_t n, std::vector<ThreadState>& states, const std::function<void(size_t, ThreadState&)>& fn) {
  const size_t threads = std::min(states.size(), std::max<size_t>(n, 1));
  std::vector<size_t> failed_at(threads, n);
  std::vector<std::exception_ptr> errors(threads);
  auto work = [&](size_t t) {
    const size_t begin = n * t / threads, end = n * (t + 1) / threads;
    for (size_t i = begin; i < end; ++i) {
      try {
        fn(i, states[t]);
      } catch (...) {
        failed_at[t] = i;
        errors[t] = std::current_exception();
        return;
      }
    }
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) pool.emplace_back(work, t);
    for (std::thread& th : pool) th.join();
  }
  const size_t first = static_cast<size_t>(std::min_element(failed_at.begin(), failed_at.end()) - failed_at.begin());
  if (errors[first]) std::rethrow_exception(errors[first]);
}

WordCounts sum_counts(std::vector<ThreadState>& states, int64_t documents) {
  auto& all = states[0].words;
  for (size_t t = 1; t < states.size(); ++t) {
    for (auto& [word, n] : states[t].words) all[word] += n;
    states[t].words = {};
  }
  WordCounts out;
  out.documents = documents;
  out.words.reserve(all.size());
  for (auto& [word, n] : all) {
    out.words.emplace_back(word, n);
    out.pre_tokens += n;
  }
  all = {};
  std::sort(out.words.begin(), out.words.end());
  return out;
}

// The text of one JSONL record; throws std::invalid_argument saying what is wrong.
std::string record_text(const nlohmann::json& j, const std::string& field) {
  if (!j.is_object()) throw std::invalid_argument("not a JSON object");
  if (const auto it = j.find(field); it != j.end()) {
    if (!it->is_string()) throw std::invalid_argument(fmt::format("field '{}' is not a string", field));
    return it->get<std::string>();
  }
  const auto string_field = [&](const char* name) {
    const auto it = j.find(name);
    if (it == j.end() || it->is_null()) return std::string();
    if (!it->is_string()) throw std::invalid_argument(fmt::format("alpaca field '{}' is not a string", name));
    return it->get<std::string>();
  };
  if (!j.contains("instruction") || !j.contains("output"))
    throw std::invalid_argument(
        fmt::format("no string field '{}' (and not an alpaca record with instruction and output)", field));
  std::string text;
  for (const char* name : {"instruction", "input", "output"}) {
    const std::string part = string_field(name);
    if (part.empty()) continue;
    if (!text.empty()) text += '\n';
    text += part;
  }
  return text;
}

// Whole lines of about kBlockBytes of a file, as views into one buffer.
struct LineBlock {
  std::vector<std::string_view> lines;  ///< the non-blank ones, without line ending
  std::vector<int64_t> numbers;         ///< their 1-based line numbers
  size_t bytes = 0;                     ///< bytes of the file the block covers
};

void for_line_blocks(std::istream& in, const std::function<void(const LineBlock&)>& fn) {
  std::string buffer;
  LineBlock block;
  int64_t line_number = 0;
  for (bool eof = false; !eof;) {
    const size_t kept = buffer.size();  // a partial line from the last read
    buffer.resize(kept + kBlockBytes);
    in.read(&buffer[kept], static_cast<std::streamsize>(kBlockBytes));
    buffer.resize(kept + static_cast<size_t>(in.gcount()));
    eof = !in;
    const size_t last = buffer.rfind('\n');
    if (!eof && last == std::string::npos) continue;  // a line longer than a block
    const size_t end = eof ? buffer.size() : last + 1;
    block.lines.clear();
    block.numbers.clear();
    block.bytes = end;
    for (size_t pos = 0; pos < end;) {
      const size_t stop = std::min(buffer.find('\n', pos), end);
      std::string_view line(buffer.data() + pos, stop - pos);
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") != std::string_view::npos) {
        block.lines.push_back(line);
        block.numbers.push_back(line_number);
      }
      pos = stop + 1;
    }
    fn(block);
    buffer.erase(0, end);
  }
}

}  // namespace

WordCounts count_texts(const std::vector<std::string>& texts, const BpeTrainerOptions& options) {
  const PreTokenizer pre(options.pattern);
  std::vector<ThreadState> states(static_cast<size_t>(thread_count(options)));
  for_chunks(texts.size(), states, [&](size_t i, ThreadState& s) {
    if (const size_t bad = find_invalid_utf8(texts[i]); bad != std::string::npos)
      throw InputError(fmt::format("text {}: not valid UTF-8 (byte {})", i, bad));
    pre.count(texts[i], s);
  });
  return sum_counts(states, static_cast<int64_t>(texts.size()));
}

WordCounts count_files(const std::vector<std::string>& files, const BpeTrainerOptions& options) {
  const PreTokenizer pre(options.pattern);
  std::vector<ThreadState> states(static_cast<size_t>(thread_count(options)));
  int64_t total_kib = 0;
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary | std::ios::ate);
    if (!in) throw InputError(fmt::format("{}: cannot be read", f));
    total_kib += static_cast<int64_t>(in.tellg()) / 1024;
  }
  log::ProgressOptions po;
  po.unit = "KiB";
  log::Progress progress("count", total_kib, po);
  int64_t documents = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot be read", file));
    for_line_blocks(in, [&](const LineBlock& block) {
      for_chunks(block.lines.size(), states, [&](size_t i, ThreadState& s) {
        const std::string_view line = block.lines[i];
        const auto where = [&] { return fmt::format("{}:{}", file, block.numbers[i]); };
        if (const size_t bad = find_invalid_utf8(line); bad != std::string::npos)
          throw InputError(fmt::format("{}: not valid UTF-8 (byte {})", where(), bad));
        std::string text;
        try {
          text = record_text(nlohmann::json::parse(line), options.field);
        } catch (const nlohmann::json::exception& e) {
          throw InputError(fmt::format("{}: not valid JSON ({})", where(), e.what()));
        } catch (const std::invalid_argument& e) {
          throw InputError(fmt::format("{}: {}", where(), e.what()));
        }
        pre.count(text, s);
      });
      documents += static_cast<int64_t>(block.lines.size());
      progress.advance(static_cast<int64_t>(block.bytes / 1024));
    });
  }
  progress.finish();
  return sum_counts(states, documents);
}

}  // namespace ntks::tokenizer
