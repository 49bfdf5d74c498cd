// The Qwen3 chat template (tokenizer_config.json of Qwen3), without tools,
// rendered with add_generation_prompt=false (so enable_thinking=false changes
// nothing in a training text). Per message:
//   <|im_start|>ROLE\nCONTENT<|im_end|>\n
// with no stripping, except for assistant turns:
// - "...</think>" in the content splits off its reasoning (the text between
//   the last <think> and the first </think>) and keeps what follows the last
//   </think>, minus leading newlines;
// - a turn after the last real user query (one that is not a
//   <tool_response>) is written as <think>\nREASONING\n</think>\n\nCONTENT when
//   it is the last message or has reasoning; the last turn of a plain
//   conversation therefore carries the empty "<think>\n\n</think>\n\n" block
//   that Qwen3's non-thinking generation prompt also has. Earlier turns lose
//   their reasoning.
// The response span is CONTENT<|im_end|>: the think block (empty or not) is
// prompt, and so is the "\n" after <|im_end|>.

#include "data/chat_render.h"
#include "ntks/util/strings.h"

namespace ntks::data::detail {
namespace {

// Index of the last user message that is not a tool response; the last index
// when there is none (the template's ns.last_query_index).
size_t last_query_index(const std::vector<Message>& messages) {
  for (size_t k = messages.size(); k-- > 0;) {
    const std::string& c = messages[k].content;
    if (messages[k].role == "user" && !(starts_with(c, "<tool_response>") && ends_with(c, "</tool_response>")))
      return k;
  }
  return messages.size() - 1;
}

}  // namespace

ChatPieces render_qwen3(const std::vector<Message>& messages) {
  constexpr std::string_view kOpen = "<think>", kClose = "</think>";
  ChatPieces out;
  std::string prompt;
  const size_t last_query = last_query_index(messages);
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    prompt += "<|im_start|>" + m.role + "\n";
    if (m.role != "assistant") {
      prompt += m.content + "<|im_end|>\n";
      continue;
    }
    std::string_view content = m.content, reasoning;
    if (const size_t close = content.rfind(kClose); close != std::string_view::npos) {
      const std::string_view full = m.content;
      content = py_strip_chars(full.substr(close + kClose.size()), "\n", true, false);
      reasoning = py_strip_chars(full.substr(0, full.find(kClose)), "\n", false, true);
      if (const size_t open = reasoning.rfind(kOpen); open != std::string_view::npos)
        reasoning = reasoning.substr(open + kOpen.size());
      reasoning = py_strip_chars(reasoning, "\n", true, false);
    }
    if (i > last_query && (i + 1 == messages.size() || !reasoning.empty())) {
      prompt += "<think>\n";
      prompt += py_strip_chars(reasoning, "\n", true, true);
      prompt += "\n</think>\n\n";
      content = py_strip_chars(content, "\n", true, false);
    }
    if (content.empty()) throw_empty_response(i, m, "qwen3");
    out.push_back({std::move(prompt), false});
    out.push_back({std::string(content) + "<|im_end|>", true});
    prompt = "\n";
  }
  if (!prompt.empty()) out.push_back({std::move(prompt), false});
  return out;
}

}  // namespace ntks::data::detail
