// Multiple-choice test lines (choices.h).

#include "ntks/data/choices.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ntks/data/chat_template.h"
#include "ntks/data/record.h"
#include "ntks/util/error.h"

namespace ntks::data {
namespace {

using nlohmann::json;

/// Keeps only the last run of response tokens: the last assistant turn (and
/// its end-of-turn token), not the earlier turns of a conversation.
void keep_last_turn(std::vector<uint8_t>& mask) {
  size_t end = mask.size();
  while (end > 0 && mask[end - 1] == 0) --end;
  size_t begin = end;
  while (begin > 0 && mask[begin - 1] == 1) --begin;
  for (size_t i = 0; i < begin; ++i) mask[i] = 0;
}

}  // namespace

std::optional<Choices> parse_choices(std::string_view line, const std::string& where) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON ({})", where, e.what()));
  }
  if (!j.is_object()) throw InputError(fmt::format("{}: not a JSON object", where));
  const auto options = j.find("options");
  const auto answer = j.find("answer");
  if (options == j.end() || options->is_null()) {
    if (answer != j.end() && !answer->is_null())
      throw InputError(fmt::format("{}: has an \"answer\" but no \"options\"", where));
    return std::nullopt;
  }
  if (!options->is_array() || options->size() < 2)
    throw InputError(fmt::format("{}: \"options\" must be a list of at least two strings, not {}", where,
                                 options->dump().substr(0, 80)));
  Choices c;
  for (size_t k = 0; k < options->size(); ++k) {
    const json& o = (*options)[k];
    if (!o.is_string() || o.get_ref<const std::string&>().find_first_not_of(" \t\r\n") == std::string::npos)
      throw InputError(fmt::format("{}: options[{}] must be a non-empty string, not {}", where, k, o.dump()));
    c.options.push_back(o.get<std::string>());
  }
  if (answer == j.end() || !answer->is_number_integer())
    throw InputError(fmt::format("{}: has \"options\" but no integer \"answer\" (the index of the right option){}",
                                 where, answer == j.end() ? "" : ", not " + answer->dump()));
  c.answer = answer->get<int64_t>();
  if (c.answer < 0 || c.answer >= static_cast<int64_t>(c.options.size()))
    throw InputError(fmt::format("{}: \"answer\" {} is not an index of its {} options (0 to {})", where, c.answer,
                                 c.options.size(), c.options.size() - 1));
  return c;
}

std::vector<Sample> choice_samples(std::string_view line, const Choices& choices, const config::Config& cfg,
                                   const tokenizer::Tokenizer& tok, config::Template tmpl, int64_t index,
                                   const std::string& where) {
  const ParsedRecord rec = parse_record(line, cfg.data);
  if (rec.format == config::RecordFormat::tokens)
    throw InputError(fmt::format("{}: a pre-tokenized record cannot carry text options", where));
  size_t last = rec.messages.size();
  for (size_t i = 0; i < rec.messages.size(); ++i)
    if (rec.messages[i].role == "assistant") last = i;
  NTKS_CHECK(last < rec.messages.size(), "{}: a parsed record without an assistant turn", where);
  std::vector<Sample> out;
  const auto max_len = static_cast<size_t>(cfg.model.max_seq_len);
  for (size_t k = 0; k < choices.options.size(); ++k) {
    std::vector<Message> messages = rec.messages;
    messages.resize(last + 1);  // the scored turn is the last one
    messages[last].content = choices.options[k];
    TokenizedSample t;
    try {
      t = tokenize_chat(tok, tmpl, messages);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: options[{}]: {}", where, k, e.what()));
    }
    Sample s;
    s.index = index;
    s.source_tokens = static_cast<int64_t>(t.ids.size());
    s.ids = std::move(t.ids);
    s.response_mask = std::move(t.response_mask);
    keep_last_turn(s.response_mask);
    if (s.ids.size() > max_len) {
      s.ids.resize(max_len);
      s.response_mask.resize(max_len);
      s.truncated = true;
    }
    // Position 0 predicts nothing: a response token must follow it.
    if (s.response_mask.size() < 2 ||
        std::find(s.response_mask.begin() + 1, s.response_mask.end(), 1) == s.response_mask.end())
      throw InputError(fmt::format("{}: options[{}] keeps no response token within model.max_seq_len {} ({} tokens)",
                                   where, k, max_len, s.source_tokens));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ntks::data
