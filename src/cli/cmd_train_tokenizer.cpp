// `ntk-select train-tokenizer`: a byte-level BPE tokenizer trained on JSONL
// text, written as a Hugging Face tokenizer.json + tokenizer_config.json.

#include "command.h"
#include "ntks/log/log.h"
#include "ntks/tokenizer/bpe_trainer.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

tokenizer::SplitPattern pattern_option(const std::string& s) {
  if (s == "llama3") return tokenizer::SplitPattern::llama3;
  if (s == "qwen3") return tokenizer::SplitPattern::qwen3;
  throw UsageError(fmt::format("--pattern '{}': expected llama3 or qwen3", s));
}

int64_t int_at_least(const po::variables_map& a, const char* name, int64_t low) {
  const int64_t v = a[name].as<int64_t>();
  if (v < low) throw UsageError(fmt::format("--{} must be at least {}, got {}", name, low, v));
  return v;
}

int train_tokenizer_main(Context& ctx) {
  if (!ctx.comm.is_root()) return 0;  // one process trains; the counting is threaded
  const auto& a = ctx.args;
  tokenizer::BpeTrainerOptions o;
  o.vocab_size = static_cast<int32_t>(std::min<int64_t>(int_at_least(a, "vocab-size", 1), INT32_MAX));
  o.min_frequency = int_at_least(a, "min-frequency", 1);
  o.pattern = pattern_option(a["pattern"].as<std::string>());
  o.threads = static_cast<int>(int_at_least(a, "threads", 0));
  o.allow_smaller = a["allow-smaller"].as<bool>();
  o.field = a["field"].as<std::string>();
  o.model_max_length = int_at_least(a, "model-max-length", 1);
  std::vector<std::string> inputs;
  if (a.count("input")) inputs = a["input"].as<std::vector<std::string>>();
  const std::string out = a["out"].as<std::string>();

  const tokenizer::TrainSummary s = tokenizer::train_tokenizer(inputs, out, o);
  log::info0("trained on {} records: {} pre-tokens, {} distinct; {} merges, vocabulary {}; {:.1f} s (counting "
             "{:.1f} s, merging {:.1f} s) -> {}/tokenizer.json, {}/tokenizer_config.json",
             s.documents, s.pre_tokens, s.unique_words, s.merges, s.vocab_size, s.seconds, s.count_seconds,
             s.merge_seconds, out, out);
  return 0;
}

}  // namespace

Command train_tokenizer_command() {
  Command c;
  c.name = "train-tokenizer";
  c.summary = "train a byte-level BPE tokenizer on JSONL text (Hugging Face tokenizer.json)";
  c.description =
      "Reads JSONL files (one record a line: the string field --field, or an alpaca record whose\n"
      "instruction, input and output are joined by newlines) and writes OUT/tokenizer.json and\n"
      "OUT/tokenizer_config.json. The tokenizer: NFC, the Llama-3 (or Qwen3) split regex, byte-level\n"
      "BPE whose first 256 ids are the byte alphabet (so any text encodes), then the merges, then the\n"
      "added tokens <|endoftext|> <|im_start|> <|im_end|> (special) and <think> </think>. The config\n"
      "has a ChatML chat template that renders as `model.template: qwen3` (which `auto` picks for it).\n"
      "Merges take the most frequent adjacent pair, ties to the smallest merged bytes: the same corpus\n"
      "and options give the same files for any --threads.\n"
      "Exit status 1 for bad input (file:line named) or a corpus too small for --vocab-size, 2 for bad\n"
      "options.";
  c.positional = "input";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("input", po::value<std::vector<std::string>>()->composing(), "JSONL files to train on (also positional)")
        ("out", po::value<std::string>()->required(), "output folder (created); tokenizer.json and "
         "tokenizer_config.json are replaced atomically")
        ("vocab-size", po::value<int64_t>()->default_value(8192),
         "total vocabulary: 256 byte-level chars + merged tokens + 5 added tokens (at least 261)")
        ("min-frequency", po::value<int64_t>()->default_value(2),
         "never merge a pair that occurs fewer times than this in the corpus")
        ("allow-smaller", po::bool_switch(),
         "when the corpus runs out of pairs of --min-frequency before --vocab-size, write the smaller "
         "vocabulary (with a warning) instead of failing")
        ("pattern", po::value<std::string>()->default_value("llama3"),
         "split regex: llama3 (numbers in runs of up to 3 digits) or qwen3 (one digit per pre-token)")
        ("field", po::value<std::string>()->default_value("text"), "the JSONL string field that holds the text")
        ("threads", po::value<int64_t>()->default_value(0),
         "threads counting pre-tokens (0: one per core); the result never depends on it")
        ("model-max-length", po::value<int64_t>()->default_value(32768),
         "model_max_length written into tokenizer_config.json");
  };
  c.run = train_tokenizer_main;
  return c;
}

}  // namespace ntks::cli
