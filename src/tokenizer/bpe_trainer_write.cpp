// tokenizer.json and tokenizer_config.json of a trained model. The pipeline
// written is the one bpe_trainer_count.cpp pre-tokenized with; vocab and
// merges are written line by line (an ordered JSON object of 100k entries
// costs quadratic time in nlohmann's ordered_map).

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "ntks/tokenizer/bpe_trainer.h"
#include "tokenizer/parts.h"

namespace ntks::tokenizer {
namespace {

using nlohmann::ordered_json;

ordered_json byte_level_step() {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
}

ordered_json added_token_json(const AddedTokenSpec& a, int32_t id) {
  ordered_json j;
  if (id >= 0) j["id"] = id;
  j["content"] = a.content;
  j["single_word"] = false;
  j["lstrip"] = false;
  j["rstrip"] = false;
  j["normalized"] = false;
  j["special"] = a.special;
  return j;
}

std::string quoted(const std::string& s) { return ordered_json(s).dump(); }

}  // namespace

std::string tokenizer_json(const BpeModel& model) {
  ordered_json head;
  head["version"] = "1.0";
  head["truncation"] = nullptr;
  head["padding"] = nullptr;
  ordered_json added = ordered_json::array();
  int32_t id = model.first_added_id();
  for (const AddedTokenSpec& a : trainer_added_tokens()) added.push_back(added_token_json(a, id++));
  head["added_tokens"] = added;
  head["normalizer"] = {{"type", "NFC"}};
  ordered_json split = {{"type", "Split"},
                        {"pattern", {{"Regex", split_pattern_regex(model.pattern)}}},
                        {"behavior", "Isolated"},
                        {"invert", false}};
  head["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {split, byte_level_step()}}};
  head["post_processor"] = byte_level_step();
  head["decoder"] = byte_level_step();
  ordered_json bpe = {{"type", "BPE"},
                      {"dropout", nullptr},
                      {"unk_token", nullptr},
                      {"continuing_subword_prefix", ""},
                      {"end_of_word_suffix", ""},
                      {"fuse_unk", false},
                      {"byte_fallback", false},
                      {"ignore_merges", false}};

  // head and bpe without their closing braces, then vocab and merges.
  std::string out = head.dump(2);
  out.resize(out.size() - 2);
  out += ",\n  \"model\": ";
  std::string model_head = bpe.dump(2, ' ');
  model_head.resize(model_head.size() - 2);
  for (char c : model_head) {
    out += c;
    if (c == '\n') out += "  ";
  }
  std::vector<std::string> names;
  names.reserve(model.tokens.size());
  for (const std::string& t : model.tokens) names.push_back(quoted(detail::bytes_to_unicode(t)));
  out += ",\n    \"vocab\": {";
  for (size_t i = 0; i < names.size(); ++i) out += fmt::format("{}\n      {}: {}", i ? "," : "", names[i], i);
  out += "\n    },\n    \"merges\": [";
  for (size_t i = 0; i < model.merges.size(); ++i) {
    const auto [a, b] = model.merges[i];
    out += fmt::format("{}\n      [{}, {}]", i ? "," : "", names.at(static_cast<size_t>(a)),
                       names.at(static_cast<size_t>(b)));
  }
  out += "\n    ]\n  }\n}\n";
  return out;
}

std::string tokenizer_config_json(const BpeModel& model) {
  ordered_json decoder = ordered_json::object();
  int32_t id = model.first_added_id();
  for (const AddedTokenSpec& a : trainer_added_tokens()) decoder[std::to_string(id++)] = added_token_json(a, -1);
  ordered_json j;
  j["add_bos_token"] = false;
  j["add_prefix_space"] = false;
  j["added_tokens_decoder"] = decoder;
  j["bos_token"] = nullptr;
  j["chat_template"] = chatml_template();
  j["clean_up_tokenization_spaces"] = false;
  j["eos_token"] = "<|im_end|>";
  j["errors"] = "replace";
  j["model_max_length"] = model.model_max_length;
  j["pad_token"] = "<|endoftext|>";
  j["split_special_tokens"] = false;
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  j["unk_token"] = nullptr;
  return j.dump(2) + "\n";
}

}  // namespace ntks::tokenizer
