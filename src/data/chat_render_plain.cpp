// The plain template, for base models without a chat template: the contents
// of the messages in order, separated by a blank line ("\n\n"), with no role
// names, no special tokens and no stripping. Messages with empty content
// (an empty system prompt) are left out rather than leaving a double
// separator. The response spans are the assistant contents alone: there is
// no end-of-turn token to learn.

#include "data/chat_render.h"

namespace ntks::data::detail {

ChatPieces render_plain(const std::vector<Message>& messages) {
  ChatPieces out;
  std::string prompt;
  bool first = true;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    const bool response = m.role == "assistant";
    if (response && m.content.empty()) throw_empty_response(i, m, "plain");
    if (m.content.empty()) continue;
    if (!first) prompt += "\n\n";
    first = false;
    if (!response) {
      prompt += m.content;
      continue;
    }
    if (!prompt.empty()) out.push_back({std::move(prompt), false});
    prompt.clear();
    out.push_back({m.content, true});
  }
  if (!prompt.empty()) out.push_back({std::move(prompt), false});
  return out;
}

}  // namespace ntks::data::detail
