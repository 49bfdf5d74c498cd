// parse_record(): every layout, configurable field names, and a clear error
// for every way a line can be wrong; content_hash() invariances.

#include <gtest/gtest.h>

#include "ntks/data/record.h"
#include "test_util.h"

namespace {

using ntks::config::DataConfig;
using ntks::config::RecordFormat;
using ntks::data::parse_record;
using ntks::data::RecordError;

// The reason and message of the RecordError a line gives.
std::pair<std::string, std::string> error_of(const std::string& line, const DataConfig& cfg = {}) {
  try {
    parse_record(line, cfg);
  } catch (const RecordError& e) {
    return {e.reason(), e.what()};
  }
  ADD_FAILURE() << "no error for: " << line;
  return {};
}

TEST(Record, AlpacaWithAndWithoutInput) {
  auto r = parse_record(R"({"instruction": "Add", "input": "2+2", "output": "4", "id": "a1"})", {});
  EXPECT_EQ(r.format, RecordFormat::alpaca);
  EXPECT_EQ(r.id, "a1");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, "user");
  EXPECT_EQ(r.messages[0].content, "Add\n\n2+2");
  EXPECT_EQ(r.messages[1].role, "assistant");
  EXPECT_EQ(r.messages[1].content, "4");
  auto s = parse_record(R"({"instruction": "Say hi", "input": "", "output": "hi", "system": "Be brief"})", {});
  ASSERT_EQ(s.messages.size(), 3u);
  EXPECT_EQ(s.messages[0].role, "system");
  EXPECT_EQ(s.messages[1].content, "Say hi");
  EXPECT_EQ(s.id, "");
}

TEST(Record, MessagesPromptResponseAndTokens) {
  auto m = parse_record(
      R"({"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q1"},
          {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"},
          {"role": "assistant", "content": "A2"}], "id": 7})",
      {});
  EXPECT_EQ(m.format, RecordFormat::messages);
  EXPECT_EQ(m.id, "7");
  ASSERT_EQ(m.messages.size(), 5u);
  EXPECT_EQ(m.messages[4].content, "A2");

  auto p = parse_record(R"({"prompt": "P", "response": "R"})", {});
  EXPECT_EQ(p.format, RecordFormat::prompt_response);
  ASSERT_EQ(p.messages.size(), 2u);
  EXPECT_EQ(p.messages[0].content, "P");

  auto t = parse_record(R"({"ids": [5, 6, 7], "response_mask": [0, 1, 1]})", {});
  EXPECT_EQ(t.format, RecordFormat::tokens);
  EXPECT_EQ(t.ids, (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(t.response_mask, (std::vector<uint8_t>{0, 1, 1}));
}

TEST(Record, ConfigurableFieldNames) {
  DataConfig cfg;
  cfg.fields.instruction = "question";
  cfg.fields.output = "answer";
  cfg.fields.input = "context";
  cfg.fields.id = "uid";
  auto r = parse_record(R"({"question": "Q", "context": "C", "answer": "A", "uid": "u9"})", cfg);
  EXPECT_EQ(r.format, RecordFormat::alpaca);
  EXPECT_EQ(r.id, "u9");
  EXPECT_EQ(r.messages[0].content, "Q\n\nC");
  EXPECT_EQ(r.messages[1].content, "A");
  // the default names mean nothing now
  EXPECT_EQ(error_of(R"({"instruction": "Q", "output": "A"})", cfg).first, "layout");
}

TEST(Record, ForcedFormatNamesTheMissingField) {
  DataConfig cfg;
  cfg.format = RecordFormat::messages;
  auto [reason, msg] = error_of(R"({"instruction": "Q", "output": "A"})", cfg);
  EXPECT_EQ(reason, "layout");
  EXPECT_NE(msg.find("data.format is messages"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'messages'"), std::string::npos) << msg;
}

TEST(Record, EveryBadLineHasAReasonAndAClearMessage) {
  struct Case {
    std::string line, reason, fragment;
  };
  const std::vector<Case> cases = {
      {R"({"instruction": "Q", "output": "A")", "json", "not valid JSON at byte"},
      {"[1, 2]", "json", "expected a JSON object, found array"},
      {"\"text\"", "json", "found string"},
      {"{\"instruction\": \"\xff\", \"output\": \"A\"}", "utf8", "invalid UTF-8 at byte 18"},
      {R"({"text": "no layout"})", "layout", "no known record layout"},
      {R"({"instruction": "Q"})", "field", "alpaca record without its 'output' field"},
      {R"({"instruction": "Q", "output": 4})", "field", "field 'output' must be a string, not number"},
      {R"({"instruction": ["Q"], "output": "A"})", "field", "field 'instruction' must be a string, not array"},
      {R"({"instruction": "Q", "output": "  \n"})", "empty_response", "empty response (field 'output')"},
      {R"({"prompt": "P", "response": ""})", "empty_response", "empty response (field 'response')"},
      {R"({"prompt": "P"})", "field", "prompt/response record without its 'response' field"},
      {R"({"messages": []})", "field", "non-empty array"},
      {R"({"messages": "hi"})", "field", "non-empty array"},
      {R"({"messages": [{"role": "user", "content": "Q"}]})", "empty_response", "no assistant turn"},
      {R"({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": ""}]})",
       "empty_response", "messages[1].content"},
      {R"({"messages": [{"role": "bot", "content": "Q"}]})", "role", "messages[0].role is 'bot'"},
      {R"({"messages": [{"role": "user"}]})", "field", "messages[0].content must be a string"},
      {R"({"messages": [3]})", "field", "messages[0] must be an object"},
      {R"({"ids": [1, 2], "response_mask": [0]})", "tokens", "'response_mask' has 1 entries but 'ids' has 2"},
      {R"({"ids": [1, -2], "response_mask": [0, 1]})", "tokens", "ids[1] is not a token id"},
      {R"({"ids": [1, 2], "response_mask": [0, 2]})", "tokens", "response_mask[1] must be 0 or 1"},
      {R"({"ids": [1, 2], "response_mask": [0, 0]})", "empty_response", "marks no token"},
      {R"({"ids": [1, 2]})", "tokens", "without a 'response_mask'"},
      {R"({"instruction": "Q", "output": "A", "id": 1.5})", "field", "field 'id' must be a string or an integer"},
      {R"({"instruction": "Q", "output": "A", "id": ""})", "field", "field 'id' is empty"},
  };
  for (const Case& c : cases) {
    auto [reason, msg] = error_of(c.line);
    EXPECT_EQ(reason, c.reason) << c.line << " -> " << msg;
    EXPECT_NE(msg.find(c.fragment), std::string::npos) << c.line << " -> " << msg;
  }
}

TEST(Record, ContentHashIgnoresLayoutFieldNamesFormattingAndId) {
  using ntks::data::content_hash;
  const auto a = parse_record(R"({"instruction": "Q", "output": "A", "id": "x"})", {});
  const auto b = parse_record(R"({ "output" :"A","instruction":"Q" , "id": "y", "extra": 1})", {});
  const auto c = parse_record(R"({"prompt": "Q", "response": "A"})", {});
  const auto d = parse_record(
      R"({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]})", {});
  DataConfig renamed;
  renamed.fields.instruction = "q";
  renamed.fields.output = "a";
  const auto e = parse_record(R"({"q": "Q", "a": "A"})", renamed);
  EXPECT_EQ(content_hash(a), content_hash(b));
  EXPECT_EQ(content_hash(a), content_hash(c));
  EXPECT_EQ(content_hash(a), content_hash(d));
  EXPECT_EQ(content_hash(a), content_hash(e));
  // ...but any change of what the model sees changes it.
  EXPECT_NE(content_hash(a), content_hash(parse_record(R"({"instruction": "Q", "output": "A "})", {})));
  EXPECT_NE(content_hash(a), content_hash(parse_record(R"({"instruction": "Q", "output": "A", "system": "S"})", {})));
  // Parts cannot imitate boundaries: moving text between turns changes the hash.
  const auto f = parse_record(R"({"instruction": "Q4:", "output": "A"})", {});
  const auto g = parse_record(R"({"instruction": "Q", "output": "4:A"})", {});
  EXPECT_NE(content_hash(f), content_hash(g));
  // Pre-tokenized: ids and mask both count.
  const auto t1 = parse_record(R"({"ids": [1, 2], "response_mask": [0, 1]})", {});
  const auto t2 = parse_record(R"({"ids": [1, 2], "response_mask": [1, 1]})", {});
  const auto t3 = parse_record(R"({"ids": [12], "response_mask": [1]})", {});
  EXPECT_NE(content_hash(t1), content_hash(t2));
  EXPECT_NE(content_hash(t1), content_hash(t3));
  // Pinned value: the hash is a cache key on disk, so it must not change by accident.
  EXPECT_EQ(ntks::data::canonical_text(a), "chat;4:user;1:Q;9:assistant;1:A;");
}

}  // namespace
