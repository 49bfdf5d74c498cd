// parse_record(): one JSONL line -> ParsedRecord, with a RecordError that
// says exactly which field is missing or has the wrong type.

#include <nlohmann/json.hpp>

#include "ntks/util/utf8.h"
#include "ntks/config/enums.h"
#include "ntks/data/record.h"

namespace ntks::data {
namespace {

using nlohmann::json;

const char* type_name(const json& v) { return v.type_name(); }

[[noreturn]] void fail(const char* reason, const std::string& message) { throw RecordError(reason, message); }

// The string value of `key`, or nullptr when the key is absent or null.
const std::string* optional_string(const json& obj, const std::string& key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  if (!it->is_string()) fail("field", fmt::format("field '{}' must be a string, not {}", key, type_name(*it)));
  return &it->get_ref<const std::string&>();
}

const std::string& required_string(const json& obj, const std::string& key, const char* layout) {
  const std::string* s = optional_string(obj, key);
  if (!s) fail("field", fmt::format("{} record without its '{}' field", layout, key));
  return *s;
}

void add_system(const json& obj, const config::DataFields& f, std::vector<Message>& out) {
  if (const std::string* sys = optional_string(obj, f.system); sys && !sys->empty())
    out.push_back({"system", *sys});
}

void check_response(const std::string& text, const std::string& field) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    fail("empty_response", fmt::format("empty response (field '{}')", field));
}

void parse_alpaca(const json& obj, const config::DataFields& f, ParsedRecord& r) {
  const std::string& instruction = required_string(obj, f.instruction, "alpaca");
  const std::string* input = optional_string(obj, f.input);
  const std::string& output = required_string(obj, f.output, "alpaca");
  check_response(output, f.output);
  add_system(obj, f, r.messages);
  std::string user = instruction;
  if (input && !input->empty()) user += "\n\n" + *input;
  r.messages.push_back({"user", std::move(user)});
  r.messages.push_back({"assistant", output});
}

void parse_prompt_response(const json& obj, const config::DataFields& f, ParsedRecord& r) {
  const std::string& prompt = required_string(obj, f.prompt, "prompt/response");
  const std::string& response = required_string(obj, f.response, "prompt/response");
  check_response(response, f.response);
  add_system(obj, f, r.messages);
  r.messages.push_back({"user", prompt});
  r.messages.push_back({"assistant", response});
}

void parse_messages(const json& obj, const config::DataFields& f, ParsedRecord& r) {
  const json& list = obj.at(f.messages);
  if (!list.is_array() || list.empty())
    fail("field", fmt::format("field '{}' must be a non-empty array of {{\"role\", \"content\"}} objects", f.messages));
  bool has_assistant = false;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& m = list[i];
    const std::string where = fmt::format("{}[{}]", f.messages, i);
    if (!m.is_object()) fail("field", fmt::format("{} must be an object, not {}", where, type_name(m)));
    auto role = m.find("role");
    auto content = m.find("content");
    if (role == m.end() || !role->is_string())
      fail("field", fmt::format("{}.role must be a string", where));
    if (content == m.end() || !content->is_string())
      fail("field", fmt::format("{}.content must be a string", where));
    const std::string& role_name = role->get_ref<const std::string&>();
    if (role_name != "system" && role_name != "user" && role_name != "assistant")
      fail("role", fmt::format("{}.role is '{}': expected system, user or assistant", where, role_name));
    if (role_name == "assistant") {
      check_response(content->get_ref<const std::string&>(), where + ".content");
      has_assistant = true;
    }
    r.messages.push_back({role_name, content->get_ref<const std::string&>()});
  }
  if (!has_assistant) fail("empty_response", fmt::format("field '{}' has no assistant turn", f.messages));
}

void parse_tokens(const json& obj, ParsedRecord& r) {
  const json& ids = obj.at("ids");
  auto mask_it = obj.find("response_mask");
  if (!ids.is_array() || ids.empty()) fail("tokens", "field 'ids' must be a non-empty array of token ids");
  if (mask_it == obj.end() || !mask_it->is_array())
    fail("tokens", "pre-tokenized record without a 'response_mask' array");
  if (mask_it->size() != ids.size())
    fail("tokens", fmt::format("'response_mask' has {} entries but 'ids' has {}", mask_it->size(), ids.size()));
  r.ids.reserve(ids.size());
  r.response_mask.reserve(ids.size());
  bool any = false;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_number_integer() || ids[i].get<int64_t>() < 0 || ids[i].get<int64_t>() > INT32_MAX)
      fail("tokens", fmt::format("ids[{}] is not a token id (a non-negative integer)", i));
    const json& m = (*mask_it)[i];
    if (!m.is_number_integer() || (m.get<int64_t>() != 0 && m.get<int64_t>() != 1))
      fail("tokens", fmt::format("response_mask[{}] must be 0 or 1", i));
    r.ids.push_back(static_cast<int32_t>(ids[i].get<int64_t>()));
    r.response_mask.push_back(static_cast<uint8_t>(m.get<int64_t>()));
    any = any || m.get<int64_t>() == 1;
  }
  if (!any) fail("empty_response", "response_mask marks no token");
}

// The layout of `obj` under data.format (auto: by the fields present).
config::RecordFormat layout_of(const json& obj, const config::DataConfig& data) {
  const config::DataFields& f = data.fields;
  using F = config::RecordFormat;
  if (data.format != F::auto_) {
    const std::string& key = data.format == F::messages ? f.messages
                             : data.format == F::alpaca ? f.instruction
                             : data.format == F::prompt_response ? f.prompt
                                                                 : std::string("ids");
    if (!obj.contains(key))
      fail("layout", fmt::format("data.format is {} but the line has no '{}' field", config::to_string(data.format), key));
    return data.format;
  }
  if (obj.contains(f.messages)) return F::messages;
  if (obj.contains(f.instruction)) return F::alpaca;
  if (obj.contains(f.prompt)) return F::prompt_response;
  if (obj.contains("ids")) return F::tokens;
  fail("layout", fmt::format("no known record layout: expected a '{}', '{}', '{}' or 'ids' field", f.messages,
                             f.instruction, f.prompt));
}

}  // namespace

ParsedRecord parse_record(std::string_view line, const config::DataConfig& data) {
  if (size_t bad = find_invalid_utf8(line); bad != std::string_view::npos)
    fail("utf8", fmt::format("invalid UTF-8 at byte {} of the line", bad + 1));
  json obj;
  try {
    obj = json::parse(line);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based; the message after "parse error at ..." says what was expected.
    std::string what = e.what();
    if (auto colon = what.find("syntax error"); colon != std::string::npos) what = what.substr(colon);
    fail("json", fmt::format("not valid JSON at byte {}: {}", e.byte, what));
  }
  if (!obj.is_object()) fail("json", fmt::format("expected a JSON object, found {}", type_name(obj)));
  ParsedRecord r;
  const config::DataFields& f = data.fields;
  if (auto it = obj.find(f.id); it != obj.end() && !it->is_null()) {
    if (it->is_string()) {
      r.id = it->get<std::string>();
    } else if (it->is_number_integer()) {
      r.id = it->dump();
    } else {
      fail("field", fmt::format("field '{}' must be a string or an integer, not {}", f.id, type_name(*it)));
    }
    if (r.id.empty()) fail("field", fmt::format("field '{}' is empty", f.id));
  }
  r.format = layout_of(obj, data);
  switch (r.format) {
    case config::RecordFormat::messages: parse_messages(obj, f, r); break;
    case config::RecordFormat::alpaca: parse_alpaca(obj, f, r); break;
    case config::RecordFormat::prompt_response: parse_prompt_response(obj, f, r); break;
    case config::RecordFormat::tokens: parse_tokens(obj, r); break;
    case config::RecordFormat::auto_: break;
  }
  return r;
}

}  // namespace ntks::data
