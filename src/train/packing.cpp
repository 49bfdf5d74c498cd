#include "ntks/train/packing.h"

#include <xxhash.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"
#include "ntks/util/utf8.h"

namespace ntks::train {
namespace {

struct Document {
  std::string text;
  bool eval = false;
};

bool blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

void read_documents(const std::string& path, const PackOptions& o, std::vector<Document>& docs, PackedCorpus& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot be read (pretrain.corpus)", path));
  std::string line;
  const auto threshold = static_cast<uint64_t>(o.eval_share * 1e6);
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (blank(line)) {
      ++out.blank_lines;
      continue;
    }
    const size_t bad = find_invalid_utf8(line);
    if (bad != std::string::npos)
      throw InputError(fmt::format("{}:{}: not valid UTF-8 (byte {} of the line)", path, n, bad));
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}:{}: not a JSON line ({})", path, n, e.what()));
    }
    if (!j.is_object() || !j.contains(o.text_field) || !j[o.text_field].is_string())
      throw InputError(fmt::format("{}:{}: expected a JSON object with a string field '{}' (pretrain.text_field)",
                                   path, n, o.text_field));
    Document d;
    d.text = j[o.text_field].get<std::string>();
    if (d.text.empty()) {
      ++out.empty_texts;
      continue;
    }
    d.eval = XXH3_64bits(d.text.data(), d.text.size()) % 1000000 < threshold;
    out.bytes += static_cast<int64_t>(d.text.size());
    docs.push_back(std::move(d));
  }
  if (in.bad()) throw InputError(fmt::format("{}: read failed", path));
}

/// Token ids of every document, in order, over `threads` threads.
std::vector<std::vector<int32_t>> tokenize_all(const std::vector<Document>& docs, const tokenizer::Tokenizer& tok,
                                               int threads) {
  std::vector<std::vector<int32_t>> ids(docs.size());
  const size_t t = static_cast<size_t>(std::max(1, threads));
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(t);
  for (size_t w = 0; w < t; ++w)
    pool.emplace_back([&, w] {
      try {
        for (size_t i = w; i < docs.size(); i += t) ids[i] = tok.encode(docs[i].text, /*add_special_tokens=*/false);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return ids;
}

/// Cuts `stream` into sequences of `len` tokens; the tail is counted as dropped.
void cut(const std::vector<int32_t>& stream, int64_t len, int64_t keep, const char* name,
         std::vector<data::Sample>& out, int64_t& dropped) {
  const auto L = static_cast<size_t>(len);
  size_t k = 0;
  for (; (k + 1) * L <= stream.size() && static_cast<int64_t>(k) < keep; ++k) {
    data::Sample s;
    s.index = static_cast<int64_t>(k);
    s.id = fmt::format("{}:{}", name, k);
    s.ids.assign(stream.begin() + static_cast<std::ptrdiff_t>(k * L), stream.begin() + static_cast<std::ptrdiff_t>((k + 1) * L));
    s.response_mask.assign(L, 1);
    s.source_tokens = len;
    out.push_back(std::move(s));
  }
  dropped += static_cast<int64_t>(stream.size() - k * L);
}

}  // namespace

int32_t end_of_text_id(const tokenizer::Tokenizer& tok, const std::string& tokenizer_path) {
  for (const char* name : {"<|endoftext|>", "<|end_of_text|>", "</s>"}) {
    const int32_t id = tok.token_id(name);
    if (id >= 0) return id;
  }
  throw InputError(fmt::format("{}: the tokenizer has no end-of-text token (<|endoftext|>, <|end_of_text|> or </s>) "
                               "to separate packed documents",
                               tokenizer_path));
}

PackedCorpus pack_corpus(const std::vector<std::string>& files, const tokenizer::Tokenizer& tok,
                         const std::string& tokenizer_path, const PackOptions& o) {
  if (files.empty()) throw ConfigError("pretrain.corpus is empty: name the JSONL files of documents to pretrain on");
  PackedCorpus out;
  out.end_of_text = end_of_text_id(tok, tokenizer_path);
  std::vector<Document> docs;
  for (const std::string& f : files) read_documents(f, o, docs, out);
  out.documents = static_cast<int64_t>(docs.size());
  const std::vector<std::vector<int32_t>> ids = tokenize_all(docs, tok, o.threads);
  std::vector<int32_t> train_stream, eval_stream;
  for (size_t i = 0; i < docs.size(); ++i) {
    std::vector<int32_t>& stream = docs[i].eval ? eval_stream : train_stream;
    stream.insert(stream.end(), ids[i].begin(), ids[i].end());
    stream.push_back(out.end_of_text);
    out.eval_documents += docs[i].eval ? 1 : 0;
  }
  out.train_tokens = static_cast<int64_t>(train_stream.size());
  out.eval_tokens = static_cast<int64_t>(eval_stream.size());
  cut(train_stream, o.seq_len, INT64_MAX, "train", out.train, out.dropped_tokens);
  cut(eval_stream, o.seq_len, o.eval_sequences, "eval", out.eval, out.dropped_tokens);
  const std::string where = files.size() == 1 ? files.front() : fmt::format("{} and {} more", files.front(), files.size() - 1);
  if (out.train.empty())
    throw InputError(fmt::format("{}: {} documents, {} training tokens: fewer than one training sequence of "
                                 "pretrain.seq_len = {} tokens; add text or lower pretrain.seq_len",
                                 where, out.documents, out.train_tokens, o.seq_len));
  if (o.eval_share > 0 && o.eval_sequences > 0 && out.eval.empty())
    throw InputError(fmt::format("{}: {} of {} documents held out ({} tokens): fewer than one held-out sequence of {} "
                                 "tokens; raise pretrain.eval_share (now {}) or add text",
                                 where, out.eval_documents, out.documents, out.eval_tokens, o.seq_len, o.eval_share));
  return out;
}

}  // namespace ntks::train
