#pragma once
// Private to the chat template sources: a conversation rendered as pieces of
// text, each wholly inside or wholly outside the trained response, so that
// the text and its response spans (and their normalized forms) come from one
// rendering.

#include <string>
#include <string_view>
#include <vector>

#include "ntks/data/chat_template.h"

namespace ntks::data::detail {

struct ChatPiece {
  std::string text;
  bool response = false;  ///< part of an assistant response (content or its end-of-turn token)
};
using ChatPieces = std::vector<ChatPiece>;

/// Checks roles and that there is an assistant turn, then renders under
/// `tmpl` (not auto). Throws InputError.
ChatPieces render_pieces(config::Template tmpl, const std::vector<Message>& messages);

ChatPieces render_llama3(const std::vector<Message>& messages);
ChatPieces render_qwen3(const std::vector<Message>& messages);
ChatPieces render_plain(const std::vector<Message>& messages);

/// The text of `pieces` and the byte ranges of each run of response pieces.
RenderedChat join_pieces(const ChatPieces& pieces);

/// InputError for assistant message `index` (0-based) whose response is empty
/// once `tmpl` has rendered it.
[[noreturn]] void throw_empty_response(size_t index, const Message& message, std::string_view tmpl);

// ---- chat_python_str.cpp: the str methods the Jinja templates call --------

/// Python's str.strip() with no argument (Jinja2's `trim` filter): drops the
/// code points for which str.isspace() is true from both ends.
std::string_view py_strip(std::string_view s);
/// Python's str.strip/lstrip/rstrip(chars) for ASCII `chars`.
std::string_view py_strip_chars(std::string_view s, std::string_view chars, bool left, bool right);

}  // namespace ntks::data::detail
