// What a trained tokenizer's pipeline is made of, shared by the counting (which
// must pre-tokenize exactly as the written file will) and the writer.

#include "ntks/tokenizer/bpe_trainer.h"

namespace ntks::tokenizer {

const char* split_pattern_regex(SplitPattern pattern) {
  // Copied from the models' tokenizer.json; tests/scripts/bpe_trainer_parity.sh
  // checks them against the real files.
  switch (pattern) {
    case SplitPattern::qwen3:
      return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    case SplitPattern::llama3:
      break;
  }
  return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

const std::vector<AddedTokenSpec>& trainer_added_tokens() {
  static const std::vector<AddedTokenSpec> tokens = {
      {"<|endoftext|>", true}, {"<|im_start|>", true}, {"<|im_end|>", true}, {"<think>", false}, {"</think>", false},
  };
  return tokens;
}

int32_t BpeModel::vocab_size() const {
  return first_added_id() + static_cast<int32_t>(trainer_added_tokens().size());
}

}  // namespace ntks::tokenizer
