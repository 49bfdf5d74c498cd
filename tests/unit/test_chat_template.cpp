// Chat templates against goldens rendered from each model's
// tokenizer_config.json by @huggingface/jinja (tests/data/make_chat_golden.js),
// the plain template, errors, and the response mask: with a byte tokenizer
// (always) and with the real Llama-3 / Qwen3 tokenizers (the
// ChatTemplateTokenizerGolden suite, run by ctest's tokenizer_golden with
// NTKS_TOKENIZER_DIR set; skipped without it).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "byte_tokenizer.h"
#include "ntks/data/chat_template.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"
#include "test_util.h"
#include "tokenizer/parts.h"

using ntks::config::Template;
using ntks::data::Message;
using ntks::data::render_chat;
using ntks::data::resolve_template;
using ntks::data::tokenize_chat;
using ntks::testing::error_of;
using ntks::tokenizer::Tokenizer;

namespace {

struct GoldenChat {
  std::string name;
  std::vector<Message> messages;
  std::string text;
};

std::vector<GoldenChat> read_golden(const std::string& name) {
  const std::string path = std::string(NTKS_SOURCE_DIR) + "/tests/data/chat_golden/" + name + ".jsonl";
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<GoldenChat> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    GoldenChat g{j.at("name").get<std::string>(), {}, j.at("text").get<std::string>()};
    for (const auto& m : j.at("messages"))
      g.messages.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
    out.push_back(std::move(g));
  }
  return out;
}

size_t count_assistants(const std::vector<Message>& messages) {
  size_t n = 0;
  for (const Message& m : messages) n += m.role == "assistant";
  return n;
}

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string span_text(const ntks::data::RenderedChat& chat, size_t k) {
  const auto [b, e] = chat.response_spans.at(k);
  return chat.text.substr(b, e - b);
}

// The text equals the golden; there is one span per assistant turn, in order
// and disjoint, each right after the template's assistant header (any of
// `headers`) and ending with `end_token`.
void expect_golden_render(Template tmpl, const std::string& name, const std::vector<std::string>& headers,
                          const std::string& end_token) {
  const auto golden = read_golden(name);
  ASSERT_GE(golden.size(), 25u);
  for (const GoldenChat& g : golden) {
    const auto chat = render_chat(tmpl, g.messages);
    EXPECT_EQ(chat.text, g.text) << name << " " << g.name;
    ASSERT_EQ(chat.response_spans.size(), count_assistants(g.messages)) << g.name;
    size_t previous_end = 0;
    for (size_t k = 0; k < chat.response_spans.size(); ++k) {
      const auto [b, e] = chat.response_spans[k];
      ASSERT_TRUE(previous_end < b && b < e && e <= chat.text.size()) << g.name << " span " << k;
      const std::string before = chat.text.substr(0, b);
      bool after_header = false;
      for (const std::string& h : headers) after_header = after_header || ends_with(before, h);
      EXPECT_TRUE(after_header) << g.name << " span " << k << " starts after "
                                << nlohmann::json(before.substr(before.size() - std::min<size_t>(before.size(), 30))).dump();
      EXPECT_TRUE(ends_with(span_text(chat, k), end_token)) << g.name << " span " << k;
      previous_end = e;
    }
  }
}

TEST(ChatTemplate, Llama3MatchesGoldens) {
  expect_golden_render(Template::llama3, "llama3", {"<|start_header_id|>assistant<|end_header_id|>\n\n"}, "<|eot_id|>");
}

TEST(ChatTemplate, Qwen3MatchesGoldens) {
  expect_golden_render(Template::qwen3, "qwen3", {"<|im_start|>assistant\n", "</think>\n\n"}, "<|im_end|>");
}

TEST(ChatTemplate, Qwen3SpansLeaveOutThinkBlockAndNewline) {
  const auto chat = render_chat(Template::qwen3, {{"user", "q1"}, {"assistant", "a1"}, {"user", "q2"}, {"assistant", "\na2"}});
  EXPECT_EQ(chat.text,
            "<|im_start|>user\nq1<|im_end|>\n<|im_start|>assistant\na1<|im_end|>\n<|im_start|>user\nq2<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\na2<|im_end|>\n");
  ASSERT_EQ(chat.response_spans.size(), 2u);
  EXPECT_EQ(span_text(chat, 0), "a1<|im_end|>");
  EXPECT_EQ(span_text(chat, 1), "a2<|im_end|>");  // the last turn's leading "\n" is stripped by the template
}

TEST(ChatTemplate, Llama3TrimsAsPythonStrip) {
  // Jinja2's trim is Python's str.strip(): U+3000, U+2003, U+0085 and U+001F
  // are whitespace; U+FEFF (which JavaScript's trim() strips) is not.
  const auto chat = render_chat(Template::llama3, {{"user", "\u3000hi\u2003"}, {"assistant", "\x1f ok \u0085"}});
  EXPECT_EQ(chat.text,
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nok<|eot_id|>");
  const auto bom = render_chat(Template::llama3, {{"user", "\ufeffhi"}, {"assistant", "ok\ufeff"}});
  EXPECT_EQ(span_text(bom, 0), "ok\ufeff<|eot_id|>");
}

TEST(ChatTemplate, PlainJoinsContentsWithBlankLines) {
  const auto one = render_chat(Template::plain, {{"system", "Be brief."}, {"user", "Hi?"}, {"assistant", " Hello. "}});
  EXPECT_EQ(one.text, "Be brief.\n\nHi?\n\n Hello. ");
  ASSERT_EQ(one.response_spans.size(), 1u);
  EXPECT_EQ(span_text(one, 0), " Hello. ");

  const auto multi = render_chat(
      Template::plain, {{"system", ""}, {"user", "q1"}, {"assistant", "a1"}, {"user", "q2"}, {"assistant", "a2\n"}});
  EXPECT_EQ(multi.text, "q1\n\na1\n\nq2\n\na2\n");
  ASSERT_EQ(multi.response_spans.size(), 2u);
  EXPECT_EQ(multi.response_spans[0], (std::pair<size_t, size_t>{4, 6}));
  EXPECT_EQ(span_text(multi, 1), "a2\n");

  const auto first = render_chat(Template::plain, {{"assistant", "hello"}, {"user", "bye"}});
  EXPECT_EQ(first.text, "hello\n\nbye");
  EXPECT_EQ(first.response_spans[0], (std::pair<size_t, size_t>{0, 5}));
}

TEST(ChatTemplate, Errors) {
  for (Template t : {Template::llama3, Template::qwen3, Template::plain}) {
    const std::string role = error_of<ntks::InputError>(
        [&] { render_chat(t, {{"user", "q"}, {"tool", "x"}, {"assistant", "a"}}); });
    EXPECT_NE(role.find("message 2"), std::string::npos) << role;
    EXPECT_NE(role.find("\"tool\""), std::string::npos) << role;

    const std::string none = error_of<ntks::InputError>([&] { render_chat(t, {{"system", "s"}, {"user", "q"}}); });
    EXPECT_NE(none.find("no assistant message"), std::string::npos) << none;
    EXPECT_NE(error_of<ntks::InputError>([&] { render_chat(t, {}); }).find("no assistant message"), std::string::npos);

    const std::string empty = error_of<ntks::InputError>([&] { render_chat(t, {{"user", "q"}, {"assistant", ""}}); });
    EXPECT_NE(empty.find("message 2 (assistant) has empty content"), std::string::npos) << empty;
  }
  const std::string blank =
      error_of<ntks::InputError>([] { render_chat(Template::llama3, {{"user", "q"}, {"assistant", " \n\t"}}); });
  EXPECT_NE(blank.find("llama3 template strips it"), std::string::npos) << blank;
  const std::string think = error_of<ntks::InputError>(
      [] { render_chat(Template::qwen3, {{"user", "q"}, {"assistant", "<think>only thoughts</think>\n"}}); });
  EXPECT_NE(think.find("qwen3 template strips it"), std::string::npos) << think;
  // Whitespace is content for qwen3 (no strip) and plain.
  EXPECT_EQ(span_text(render_chat(Template::qwen3, {{"user", "q"}, {"assistant", " "}}), 0), " <|im_end|>");
  EXPECT_EQ(span_text(render_chat(Template::plain, {{"user", "q"}, {"assistant", " "}}), 0), " ");

  error_of<ntks::InternalError>([] { render_chat(Template::auto_, {{"user", "q"}, {"assistant", "a"}}); });
}

TEST(ChatTemplate, ResolveTemplate) {
  const Tokenizer both = ntks::testing::byte_tokenizer();
  EXPECT_EQ(resolve_template(Template::auto_, both), Template::qwen3);
  EXPECT_EQ(resolve_template(Template::llama3, both), Template::llama3);
  EXPECT_EQ(resolve_template(Template::plain, both), Template::plain);

  auto j = nlohmann::json::parse(ntks::testing::byte_tokenizer_json());
  auto& added = j.at("added_tokens");
  for (size_t i = added.size(); i-- > 0;)
    if (added[i].at("content") == "<|im_start|>") added.erase(i);
  const Tokenizer llama = Tokenizer::from_json(j.dump(), "no-im-start");
  EXPECT_EQ(resolve_template(Template::auto_, llama), Template::llama3);

  const Tokenizer tiny = Tokenizer::load(std::string(NTKS_SOURCE_DIR) + "/tests/tokenizer/tiny_tokenizer.json");
  EXPECT_EQ(resolve_template(Template::auto_, tiny), Template::plain);
  EXPECT_EQ(resolve_template(Template::qwen3, tiny), Template::qwen3);
}

// The masked tokens, as runs of consecutive ones.
std::vector<std::vector<int32_t>> masked_runs(const ntks::data::TokenizedSample& s) {
  std::vector<std::vector<int32_t>> runs;
  for (size_t i = 0; i < s.ids.size(); ++i) {
    if (!s.response_mask[i]) continue;
    if (i == 0 || !s.response_mask[i - 1]) runs.emplace_back();
    runs.back().push_back(s.ids[i]);
  }
  return runs;
}

// With one token per byte (plus the special tokens) the mask is exactly the
// span bytes, for every golden conversation.
TEST(ChatTemplate, ByteTokenizerMaskIsExactlyTheSpans) {
  const Tokenizer tok = ntks::testing::byte_tokenizer();
  for (const auto& [tmpl, name] : {std::pair{Template::llama3, "llama3"}, std::pair{Template::qwen3, "qwen3"},
                                   std::pair{Template::plain, "qwen3"}}) {
    for (const GoldenChat& g : read_golden(name)) {
      const auto chat = render_chat(tmpl, g.messages);
      const auto sample = tokenize_chat(tok, tmpl, g.messages);
      ASSERT_EQ(sample.ids, tok.encode(chat.text, false)) << g.name;
      ASSERT_EQ(sample.response_mask.size(), sample.ids.size());
      const auto runs = masked_runs(sample);
      ASSERT_EQ(runs.size(), chat.response_spans.size()) << g.name;
      for (size_t k = 0; k < runs.size(); ++k) EXPECT_EQ(tok.decode(runs[k]), span_text(chat, k)) << g.name;
    }
  }
  // Hand-counted: "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n" is
  // 1+4+1+1+1+1 + 1+9+1+1+2+1+2 = 26 tokens, then "ab<|im_end|>" (3, masked) and "\n".
  const auto s = tokenize_chat(tok, Template::qwen3, {{"user", "q"}, {"assistant", "ab"}});
  std::vector<uint8_t> want(30, 0);
  want[26] = want[27] = want[28] = 1;
  EXPECT_EQ(s.response_mask, want);
}

// A normalizing tokenizer: the tokens spell the NFC text, not the rendered one.
TEST(ChatTemplate, NfcTokenizerMask) {
  auto j = nlohmann::json::parse(ntks::testing::byte_tokenizer_json());
  j["normalizer"] = {{"type", "NFC"}};
  const Tokenizer tok = Tokenizer::from_json(j.dump(), "byte-nfc");
  const std::vector<Message> conv{{"user", "Cafe\u0301?"}, {"assistant", "e\u0301te\u0301 \u212B"}};
  for (Template tmpl : {Template::qwen3, Template::plain}) {
    const auto chat = render_chat(tmpl, conv);
    const auto sample = tokenize_chat(tok, tmpl, conv);
    EXPECT_EQ(sample.ids, tok.encode(chat.text, false));
    const auto runs = masked_runs(sample);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(tok.decode(runs[0]), ntks::tokenizer::detail::nfc(span_text(chat, 0)));
    EXPECT_EQ(tok.decode(runs[0]).substr(0, 3), "\u00e9t");
  }
}

// The tiny tokenizer has no token for "\n" and drops it, so its tokens cannot
// be placed in the text: an error rather than a guessed mask.
TEST(ChatTemplate, UnalignableTokensAreAnError) {
  const Tokenizer tiny = Tokenizer::load(std::string(NTKS_SOURCE_DIR) + "/tests/tokenizer/tiny_tokenizer.json");
  const std::string e = error_of<ntks::InputError>(
      [&] { tokenize_chat(tiny, Template::plain, {{"user", "ab"}, {"assistant", "abc"}}); });
  EXPECT_NE(e.find("cannot align the tokens of the plain conversation"), std::string::npos) << e;
  const auto ok = tokenize_chat(tiny, Template::plain, {{"assistant", "abc ab"}});
  EXPECT_EQ(ok.ids, tiny.encode("abc ab", false));
  EXPECT_EQ(ok.response_mask, std::vector<uint8_t>(ok.ids.size(), 1));
}

// ---- with the real tokenizers ------------------------------------------------

class ChatTemplateTokenizerGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("NTKS_TOKENIZER_DIR");
    if (!dir || !*dir) GTEST_SKIP() << "NTKS_TOKENIZER_DIR is not set (ctest's tokenizer_golden sets it)";
    dir_ = dir;
  }
  Tokenizer load(const std::string& name) const {
    const std::string path = dir_ + "/" + name + "/tokenizer.json";
    EXPECT_TRUE(std::filesystem::exists(path)) << path << " is missing; run tests/tokenizer/fetch_tokenizers.sh";
    return Tokenizer::load(path);
  }
  std::string dir_;
};

bool all_space(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// Every golden conversation: ids equal encode(text); the masked tokens form
// one run per assistant turn that decodes to the turn's content and end
// token, save whitespace of a first or last token that it shares with the
// text around (the conversations where that happens must be `straddling`).
void expect_golden_masks(const Tokenizer& tok, Template tmpl, const std::string& name, bool nfc,
                         const std::set<std::string>& straddling) {
  std::set<std::string> seen;
  size_t turns = 0;
  for (const GoldenChat& g : read_golden(name)) {
    const auto chat = render_chat(tmpl, g.messages);
    const auto sample = tokenize_chat(tok, tmpl, g.messages);
    ASSERT_EQ(chat.text, g.text) << g.name;
    ASSERT_EQ(sample.ids, tok.encode(chat.text, false)) << g.name;
    const auto runs = masked_runs(sample);
    ASSERT_EQ(runs.size(), chat.response_spans.size()) << g.name;
    for (size_t k = 0; k < runs.size(); ++k, ++turns) {
      const std::string got = tok.decode(runs[k]);
      const std::string want = nfc ? ntks::tokenizer::detail::nfc(span_text(chat, k)) : span_text(chat, k);
      if (got == want) continue;
      seen.insert(g.name);
      const size_t at = got.find(want);
      ASSERT_NE(at, std::string::npos) << g.name << " turn " << k << ": " << nlohmann::json(got).dump() << " vs "
                                       << nlohmann::json(want).dump();
      const std::string before = got.substr(0, at), after = got.substr(at + want.size());
      EXPECT_TRUE(all_space(before) && before.size() < tok.decode({runs[k].front()}).size()) << g.name << " turn " << k;
      EXPECT_TRUE(all_space(after) && after.size() < tok.decode({runs[k].back()}).size()) << g.name << " turn " << k;
    }
  }
  EXPECT_GE(turns, 40u) << name;
  EXPECT_EQ(seen, straddling) << name;
}

TEST_F(ChatTemplateTokenizerGolden, Llama3) {
  for (const char* name : {"llama3", "llama3_1"})
    expect_golden_masks(load(name), Template::llama3, "llama3", false, std::set<std::string>{});
}

TEST_F(ChatTemplateTokenizerGolden, Qwen3) {
  expect_golden_masks(load("qwen3"), Template::qwen3, "qwen3", true,
                      std::set<std::string>{"leading_newline_earlier_turn", "leading_space_newline_earlier_turn"});
}

// plain has no special token around a response, so a token at either end can
// hold separator or prompt text too ("?\n\n\n" before a content starting
// with "\n"; ".\n\n" that joins two consecutive assistant turns into one
// masked run). Checked here: the masked text holds every response in order,
// and the mask has at most one token per side more than the responses'
// own tokens.
TEST_F(ChatTemplateTokenizerGolden, Plain) {
  const Tokenizer tok = load("qwen3");
  size_t straddling = 0;
  for (const GoldenChat& g : read_golden("qwen3")) {
    const auto chat = render_chat(Template::plain, g.messages);
    const auto sample = tokenize_chat(tok, Template::plain, g.messages);
    ASSERT_EQ(sample.ids, tok.encode(chat.text, false)) << g.name;
    std::string masked;
    size_t masked_tokens = 0, bound = 0, response_bytes = 0;
    for (const auto& run : masked_runs(sample)) {
      masked += tok.decode(run);
      masked_tokens += run.size();
    }
    size_t at = 0;
    for (size_t k = 0; k < chat.response_spans.size(); ++k) {
      const std::string want = ntks::tokenizer::detail::nfc(span_text(chat, k));
      at = masked.find(want, at);
      ASSERT_NE(at, std::string::npos) << g.name << " turn " << k << " in " << nlohmann::json(masked).dump();
      at += want.size();
      bound += tok.encode(want, false).size() + 2;
      response_bytes += want.size();
    }
    EXPECT_LE(masked_tokens, bound) << g.name;
    straddling += masked.size() > response_bytes;
  }
  EXPECT_GT(straddling, 0u) << "no golden conversation exercises a token shared with the prompt";
}

// Qwen3 writes an earlier assistant turn right after "assistant\n": a content
// starting with "\n" makes one "\n\n" token of the header's newline and its
// own, and that token is a response token.
TEST_F(ChatTemplateTokenizerGolden, LeadingNewlineTokenIsResponse) {
  const Tokenizer tok = load("qwen3");
  const std::vector<Message> conv{{"user", "First?"}, {"assistant", "\nFirst answer."}, {"user", "Again?"}, {"assistant", "\nSecond."}};
  const auto sample = tokenize_chat(tok, Template::qwen3, conv);
  const auto runs = masked_runs(sample);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(tok.decode({runs[0][0]}), "\n\n");
  EXPECT_EQ(tok.decode(runs[0]), "\n\nFirst answer.<|im_end|>");
  EXPECT_EQ(tok.decode(runs[1]), "Second.<|im_end|>");  // the last turn's "\n" is stripped by the template
  size_t first = 0;
  while (!sample.response_mask[first]) ++first;
  EXPECT_EQ(tok.decode({sample.ids[first - 1]}), "assistant");

  // llama3 trims the content, so nothing straddles there.
  const Tokenizer llama = load("llama3");
  const auto l = tokenize_chat(llama, Template::llama3, conv);
  const auto lruns = masked_runs(l);
  ASSERT_EQ(lruns.size(), 2u);
  EXPECT_EQ(llama.decode(lruns[0]), "First answer.<|eot_id|>");
}

}  // namespace
