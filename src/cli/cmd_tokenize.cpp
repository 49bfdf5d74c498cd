// `ntk-select tokenize`: token ids of JSONL texts on stdin through a Hugging
// Face tokenizer.json, to check the tokenizer against HF and to feed `forward`.

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

int tokenize_main(Context& ctx) {
  if (!ctx.comm.is_root()) return 0;  // a diagnostic tool: one process does it
  const auto tok = tokenizer::Tokenizer::load(ctx.args["tokenizer"].as<std::string>());
  std::ios::sync_with_stdio(false);
  std::string line;
  for (int64_t n = 1; std::getline(std::cin, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("stdin:{}: not valid JSON ({})", n, e.what()));
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
      throw InputError(fmt::format("stdin:{}: expected {{\"text\": string, \"add_special_tokens\": bool}}", n));
    bool add_special = true;
    if (j.contains("add_special_tokens")) {
      if (!j["add_special_tokens"].is_boolean())
        throw InputError(fmt::format("stdin:{}: add_special_tokens must be true or false", n));
      add_special = j["add_special_tokens"].get<bool>();
    }
    std::vector<int32_t> ids;
    try {
      ids = tok.encode(j["text"].get_ref<const std::string&>(), add_special);
    } catch (const InputError& e) {
      throw InputError(fmt::format("stdin:{}: {}", n, e.what()));
    }
    std::cout << nlohmann::json{{"ids", ids}}.dump() << '\n';
  }
  std::cout.flush();
  return 0;
}

}  // namespace

Command tokenize_command() {
  Command c;
  c.name = "tokenize";
  c.summary = "token ids of JSONL texts (stdin) through a Hugging Face tokenizer.json";
  c.description =
      "Input on stdin: JSONL lines {\"text\": ..., \"add_special_tokens\": bool} (default true).\n"
      "Output on stdout: one {\"ids\": [...]} line per input line, in order. Byte-level BPE\n"
      "tokenizers (GPT-2, Llama-3, Qwen3) give the same ids as Hugging Face's tokenizers.";
  c.options = [](po::options_description& o) {
    o.add_options()("tokenizer", po::value<std::string>()->required(), "Hugging Face tokenizer.json");
  };
  c.run = tokenize_main;
  return c;
}

}  // namespace ntks::cli
