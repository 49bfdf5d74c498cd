#pragma once
// Trains a byte-level BPE tokenizer on JSONL text and writes it as a Hugging
// Face tokenizer.json (+ tokenizer_config.json with a ChatML chat template)
// that Tokenizer and HF's tokenizers load alike.
//
// The written pipeline, which training pre-tokenizes with exactly: added
// tokens cut out first, NFC, Split with the Llama-3 (or Qwen3) regex,
// ByteLevel without prefix space or regex; BPE with the 256 byte-level chars
// as ids 0-255 (in code point order, as GPT-2), then one id per merge, then the
// added tokens <|endoftext|>, <|im_start|>, <|im_end|> (special) and <think>,
// </think> (not special), as Qwen3 has them.
//
// Stages, each usable alone (tests): count_words (multi-threaded; the counts
// never depend on the thread count), train_bpe (the merge loop), then
// tokenizer_json / tokenizer_config_json. train_tokenizer runs them all.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ntks::tokenizer {

/// The Split pre-tokenizer regex: Llama-3's (digits in runs of up to 3) or
/// Qwen3's (one digit a pre-token); both as in the models' tokenizer.json.
enum class SplitPattern { llama3, qwen3 };

/// The regex text of `pattern`.
const char* split_pattern_regex(SplitPattern pattern);

/// One token the tokenizer adds after the BPE ids.
struct AddedTokenSpec {
  const char* content;
  bool special;
};

/// <|endoftext|>, <|im_start|>, <|im_end|>, <think>, </think>, in id order.
const std::vector<AddedTokenSpec>& trainer_added_tokens();

struct BpeTrainerOptions {
  int32_t vocab_size = 8192;     ///< total ids: 256 byte chars + merges + added tokens
  int64_t min_frequency = 2;     ///< a pair seen fewer times than this (weighted by word counts) is never merged
  SplitPattern pattern = SplitPattern::llama3;  ///< the Split regex written and trained with
  int threads = 0;               ///< counting threads; 0: std::thread::hardware_concurrency()
  bool allow_smaller = false;    ///< a corpus that runs out of pairs first gives a smaller vocabulary, not an error
  std::string field = "text";    ///< the JSONL string field; records without it may be alpaca records
  int64_t model_max_length = 32768;  ///< tokenizer_config.json's model_max_length
};

/// Distinct pre-tokens (raw bytes, sorted bytewise) and how often each occurs.
struct WordCounts {
  std::vector<std::pair<std::string, int64_t>> words;  ///< (pre-token bytes, occurrences)
  int64_t documents = 0;   ///< records read (non-blank lines)
  int64_t pre_tokens = 0;  ///< sum of the counts
};

/// Pre-tokenizes each text as the written tokenizer will and counts the
/// pre-tokens on `threads` threads. Throws InputError for invalid UTF-8
/// (naming the text's index).
WordCounts count_texts(const std::vector<std::string>& texts, const BpeTrainerOptions& options);

/// The same over JSONL files: each non-blank line a JSON object with the
/// string field options.field, or an alpaca record (instruction, input,
/// output: the non-empty ones joined by "\n"). Files are read in blocks, each
/// block's lines shared among the threads. A bad line (invalid UTF-8 or JSON,
/// no such field) is an InputError naming file:line.
WordCounts count_files(const std::vector<std::string>& files, const BpeTrainerOptions& options);

/// A trained BPE model. Token strings are raw bytes (the byte-level mapping is
/// applied when writing).
struct BpeModel {
  std::vector<std::string> tokens;                  ///< bytes of each BPE id; ids 0-255 the byte alphabet
  std::vector<std::pair<int32_t, int32_t>> merges;  ///< (left, right) ids in rank order
  SplitPattern pattern = SplitPattern::llama3;  ///< as trained (written into tokenizer.json)
  int64_t model_max_length = 32768;             ///< written into tokenizer_config.json
  /// Ids of the added tokens, after the BPE ids.
  int32_t first_added_id() const { return static_cast<int32_t>(tokens.size()); }
  int32_t vocab_size() const;
};

/// Runs the merge loop on `counts`: repeatedly merges the most frequent
/// adjacent pair, ties going to the pair whose merged bytes (then left token
/// bytes) sort first, until the vocabulary reaches options.vocab_size or no
/// pair occurs options.min_frequency times. Throws UsageError when
/// vocab_size is below 256 + the added tokens, InputError when `counts` is
/// empty or (unless allow_smaller) the merges run out first, saying how many
/// were possible and the vocabulary they give.
BpeModel train_bpe(const WordCounts& counts, const BpeTrainerOptions& options);

/// The tokenizer.json text of `model`.
std::string tokenizer_json(const BpeModel& model);
/// The tokenizer_config.json text: chat_template (chatml_template()),
/// eos <|im_end|>, pad <|endoftext|>, no bos, added_tokens_decoder.
std::string tokenizer_config_json(const BpeModel& model);

/// Our ChatML Jinja template: renders system/user/assistant conversations as
/// the qwen3 renderer does (data/chat_template.h, enable_thinking=false).
const std::string& chatml_template();

/// What train_tokenizer did.
struct TrainSummary {
  int64_t documents = 0, pre_tokens = 0, unique_words = 0;  ///< as in WordCounts
  int64_t merges = 0;                                      ///< lines of model.merges
  int32_t vocab_size = 0;                                  ///< ids written, added tokens included
  double count_seconds = 0, merge_seconds = 0, seconds = 0;  ///< counting, merge loop, all (writing included)
};

/// Counts `inputs`, trains, writes `out_dir`/tokenizer.json and
/// tokenizer_config.json (atomically; the folder is created), logs progress.
TrainSummary train_tokenizer(const std::vector<std::string>& inputs, const std::string& out_dir,
                             const BpeTrainerOptions& options);

}  // namespace ntks::tokenizer
