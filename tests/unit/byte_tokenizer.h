#pragma once
// A tokenizer.json for tests that need every byte to be a token: byte-level
// BPE with the 256 byte tokens and no merges (so a text of n bytes is n
// tokens), plus the chat templates' special tokens as added tokens.

#include <nlohmann/json.hpp>
#include <string>

#include "ntks/tokenizer/tokenizer.h"

namespace ntks::testing {

inline std::string byte_tokenizer_json() {
  // GPT-2's byte-to-unicode table: printable bytes map to themselves, the
  // others to U+0100 upwards in byte order.
  nlohmann::json vocab = nlohmann::json::object();
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    const int cp = printable ? b : next++;
    std::string utf8;
    if (cp < 0x80) {
      utf8 = std::string(1, static_cast<char>(cp));
    } else {
      utf8 = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    }
    vocab[utf8] = b;
  }
  nlohmann::json added = nlohmann::json::array();
  int id = 256;
  for (const char* t : {"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                        "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<|endoftext|>"}) {
    added.push_back({{"id", id++}, {"content", t}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", std::string(t).find("think") == std::string::npos}});
  }
  nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}, {"ignore_merges", false}}}};
  return j.dump();
}

inline tokenizer::Tokenizer byte_tokenizer() { return tokenizer::Tokenizer::from_json(byte_tokenizer_json(), "byte-tokenizer"); }

}  // namespace ntks::testing
