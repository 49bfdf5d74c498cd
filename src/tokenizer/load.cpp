// Reading tokenizer.json into Tokenizer::Impl. Only the parts byte-level BPE
// tokenizers (GPT-2, Llama-3, Qwen3) use are accepted; any other type is an
// InputError naming the file and the type rather than a silent difference
// from HF.

#include <algorithm>
#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ntks/util/error.h"
#include "tokenizer/impl.h"

namespace ntks::tokenizer {
namespace {

using nlohmann::json;

std::string type_of(const json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return "<no type>";
  return j["type"].get<std::string>();
}

bool flag(const json& j, const char* key, bool fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) throw std::invalid_argument(fmt::format("'{}' must be true or false", key));
  return j[key].get<bool>();
}

void load_normalizer(const json& j, Tokenizer::Impl& t) {
  if (j.is_null()) return;
  const std::string type = type_of(j);
  if (type == "NFC") {
    t.nfc = true;
  } else if (type == "Sequence" && j.contains("normalizers") && j["normalizers"].is_array()) {
    for (const auto& n : j["normalizers"]) load_normalizer(n, t);
  } else {
    throw InputError(fmt::format("{}: unsupported normalizer type '{}' (supported: null, NFC, Sequence)",
                                 t.source, type));
  }
}

void load_split(const json& j, Tokenizer::Impl& t) {
  const std::string behavior = j.value("behavior", std::string("<none>"));
  if (behavior != "Isolated" || flag(j, "invert", false))
    throw InputError(fmt::format("{}: unsupported Split pre_tokenizer (behavior '{}', invert {}): "
                                 "only behavior Isolated with invert false is supported",
                                 t.source, behavior, flag(j, "invert", false)));
  const json& p = j.value("pattern", json());
  if (p.contains("Regex") && p["Regex"].is_string()) {
    t.splits.emplace_back(p["Regex"].get<std::string>(), false, t.source);
  } else if (p.contains("String") && p["String"].is_string()) {
    t.splits.emplace_back(p["String"].get<std::string>(), true, t.source);
  } else {
    throw InputError(fmt::format("{}: Split pre_tokenizer needs pattern {{\"Regex\": ...}} or {{\"String\": ...}}",
                                 t.source));
  }
}

void load_pre_tokenizer(const json& j, Tokenizer::Impl& t) {
  std::vector<json> steps;
  if (type_of(j) == "Sequence" && j.contains("pretokenizers") && j["pretokenizers"].is_array()) {
    steps.assign(j["pretokenizers"].begin(), j["pretokenizers"].end());
  } else {
    steps.push_back(j);
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string type = steps[i].is_null() ? "null" : type_of(steps[i]);
    const bool last = i + 1 == steps.size();
    if (type == "Split" && !last) {
      load_split(steps[i], t);
    } else if (type == "ByteLevel" && last) {
      t.prefix_space = flag(steps[i], "add_prefix_space", true);
      if (flag(steps[i], "use_regex", true)) t.byte_level_regex.emplace(detail::kGpt2Pattern, false, t.source);
    } else {
      throw InputError(fmt::format("{}: unsupported pre_tokenizer type '{}' at step {} (supported: Split "
                                   "steps followed by one ByteLevel, alone or in a Sequence)",
                                   t.source, type, i));
    }
  }
}

void load_model(const json& m, Tokenizer::Impl& t) {
  const std::string type = type_of(m);
  if (type != "BPE") throw InputError(fmt::format("{}: unsupported model type '{}' (supported: BPE)", t.source, type));
  auto empty_or_null = [&](const char* key) {
    return !m.contains(key) || m[key].is_null() || (m[key].is_string() && m[key].get<std::string>().empty());
  };
  if (!m.value("dropout", json()).is_null() || flag(m, "byte_fallback", false) ||
      !empty_or_null("continuing_subword_prefix") || !empty_or_null("end_of_word_suffix"))
    throw InputError(fmt::format("{}: unsupported BPE options (dropout, byte_fallback, continuing_subword_prefix "
                                 "or end_of_word_suffix set)", t.source));
  if (!m.contains("vocab") || !m["vocab"].is_object())
    throw InputError(fmt::format("{}: model.vocab must be an object of token: id", t.source));
  for (const auto& [tok, id] : m["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      throw InputError(fmt::format("{}: model.vocab['{}'] is not a valid id", t.source, tok));
    t.bpe.vocab.emplace(tok, id.get<int32_t>());
  }
  t.bpe.ignore_merges = flag(m, "ignore_merges", false);
  if (!m.value("unk_token", json()).is_null()) {
    auto it = t.bpe.vocab.find(m["unk_token"].get<std::string>());
    if (it == t.bpe.vocab.end())
      throw InputError(fmt::format("{}: model.unk_token is not in the vocabulary", t.source));
    t.bpe.unk_id = it->second;
  }
  const json& merges = m.value("merges", json::array());
  if (!merges.is_array()) throw InputError(fmt::format("{}: model.merges must be an array", t.source));
  auto id_of = [&](const std::string& tok, size_t rank) {
    auto it = t.bpe.vocab.find(tok);
    if (it == t.bpe.vocab.end())
      throw InputError(fmt::format("{}: model.merges[{}]: token '{}' is not in the vocabulary", t.source, rank, tok));
    return it->second;
  };
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const json& e = merges[rank];
    std::string a, b;
    if (e.is_string()) {
      const std::string s = e.get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        throw InputError(fmt::format("{}: model.merges[{}] '{}' is not \"a b\"", t.source, rank, s));
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      throw InputError(fmt::format("{}: model.merges[{}] is neither \"a b\" nor [\"a\", \"b\"]", t.source, rank));
    }
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(id_of(a, rank))) << 32) |
                         static_cast<uint32_t>(id_of(b, rank));
    t.bpe.merges.emplace(key, std::make_pair(static_cast<int32_t>(rank), id_of(a + b, rank)));
  }
}

void load_added_tokens(const json& list, Tokenizer::Impl& t) {
  if (list.is_null()) return;
  if (!list.is_array()) throw InputError(fmt::format("{}: added_tokens must be an array", t.source));
  for (size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    if (!e.is_object() || !e.contains("id") || !e["id"].is_number_integer() || !e.contains("content") ||
        !e["content"].is_string() || e["content"].get<std::string>().empty())
      throw InputError(fmt::format("{}: added_tokens[{}] needs an integer id and a non-empty content", t.source, i));
    AddedToken a;
    a.id = e["id"].get<int32_t>();
    a.content = e["content"].get<std::string>();
    a.single_word = flag(e, "single_word", false);
    a.lstrip = flag(e, "lstrip", false);
    a.rstrip = flag(e, "rstrip", false);
    a.special = flag(e, "special", false);
    a.normalized = flag(e, "normalized", !a.special);
    if (a.id < 0) throw InputError(fmt::format("{}: added_tokens[{}] has a negative id", t.source, i));
    t.added.push_back(std::move(a));
  }
  for (const AddedToken& a : t.added) {
    AddedTokenSet& set = a.normalized ? t.normalized_added : t.raw_added;
    set.by_first_byte[static_cast<unsigned char>(a.content[0])].push_back(&a);
    set.empty = false;
    t.added_ids[a.content] = a.id;
  }
  for (AddedTokenSet* set : {&t.raw_added, &t.normalized_added})
    for (auto& v : set->by_first_byte)
      std::stable_sort(v.begin(), v.end(),
                       [](const AddedToken* x, const AddedToken* y) { return x->content.size() > y->content.size(); });
}

void load_post_processor(const json& j, Tokenizer::Impl& t) {
  if (j.is_null()) return;
  const std::string type = type_of(j);
  if (type == "ByteLevel") return;  // only moves offsets
  if (type == "Sequence" && j.contains("processors") && j["processors"].is_array()) {
    for (const auto& p : j["processors"]) load_post_processor(p, t);
    return;
  }
  if (type != "TemplateProcessing")
    throw InputError(fmt::format("{}: unsupported post_processor type '{}' (supported: null, ByteLevel, "
                                 "TemplateProcessing, Sequence)", t.source, type));
  const json& specials = j.value("special_tokens", json::object());
  std::vector<TemplateItem> items;
  for (const auto& piece : j.value("single", json::array())) {
    TemplateItem item;
    if (piece.contains("Sequence")) {
      if (piece["Sequence"].value("id", std::string()) != "A")
        throw InputError(fmt::format("{}: post_processor.single may only use sequence A", t.source));
      item.is_sequence = true;
    } else if (piece.contains("SpecialToken")) {
      const std::string name = piece["SpecialToken"].value("id", std::string());
      if (!specials.contains(name) || !specials[name].contains("ids") || !specials[name]["ids"].is_array())
        throw InputError(fmt::format("{}: post_processor special token '{}' is not in special_tokens", t.source, name));
      for (const auto& id : specials[name]["ids"]) item.ids.push_back(id.get<int32_t>());
    } else {
      throw InputError(fmt::format("{}: post_processor.single has an item that is neither Sequence nor "
                                   "SpecialToken", t.source));
    }
    items.push_back(std::move(item));
  }
  t.templates.push_back(std::move(items));
}

void load_decoder(const json& j, Tokenizer::Impl& t) {
  if (j.is_null() || type_of(j) == "ByteLevel") return;
  throw InputError(fmt::format("{}: unsupported decoder type '{}' (supported: null, ByteLevel)", t.source, type_of(j)));
}

void build_id_table(Tokenizer::Impl& t) {
  int32_t size = 0;
  for (const auto& [tok, id] : t.bpe.vocab) size = std::max(size, id + 1);
  for (const auto& a : t.added) size = std::max(size, a.id + 1);
  t.id_to_token.assign(static_cast<size_t>(size), std::string());
  t.is_special.assign(static_cast<size_t>(size), 0);
  for (const auto& [tok, id] : t.bpe.vocab) t.id_to_token[static_cast<size_t>(id)] = tok;
  for (const auto& a : t.added) {
    t.id_to_token[static_cast<size_t>(a.id)] = a.content;
    t.is_special[static_cast<size_t>(a.id)] = a.special;
  }
}

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON ({})", source, e.what()));
  }
  if (!j.is_object() || !j.contains("model"))
    throw InputError(fmt::format("{}: not a tokenizer.json (no 'model')", source));
  auto impl = std::make_unique<Impl>();
  impl->source = source;
  try {
    load_model(j["model"], *impl);
    load_added_tokens(j.value("added_tokens", json()), *impl);
    load_normalizer(j.value("normalizer", json()), *impl);
    load_pre_tokenizer(j.value("pre_tokenizer", json()), *impl);
    load_post_processor(j.value("post_processor", json()), *impl);
    load_decoder(j.value("decoder", json()), *impl);
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: malformed tokenizer.json ({})", source, e.what()));
  } catch (const std::invalid_argument& e) {
    throw InputError(fmt::format("{}: {}", source, e.what()));
  }
  build_id_table(*impl);
  impl->bpe.prepare();
  static std::atomic<uint64_t> instances{0};
  impl->instance = ++instances;
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot be read", path));
  std::ostringstream text;
  text << in.rdbuf();
  return from_json(text.str(), path);
}

}  // namespace ntks::tokenizer
