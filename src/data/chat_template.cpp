// Template choice, the checks every template shares, and the rendered text
// with its response spans.

#include "ntks/data/chat_template.h"

#include "data/chat_render.h"
#include "ntks/config/enums.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"

namespace ntks::data {

config::Template resolve_template(config::Template configured, const tokenizer::Tokenizer& tok) {
  if (configured != config::Template::auto_) return configured;
  if (tok.token_id("<|im_start|>") >= 0) return config::Template::qwen3;
  if (tok.token_id("<|start_header_id|>") >= 0) return config::Template::llama3;
  return config::Template::plain;
}

namespace detail {

void throw_empty_response(size_t index, const Message& message, std::string_view tmpl) {
  if (message.content.empty())
    throw InputError(fmt::format("message {} (assistant) has empty content", index + 1));
  throw InputError(fmt::format("message {} (assistant) is empty once the {} template strips it (content {:?})",
                               index + 1, tmpl, message.content.substr(0, 80)));
}

ChatPieces render_pieces(config::Template tmpl, const std::vector<Message>& messages) {
  bool has_response = false;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant")
      throw InputError(fmt::format("message {}: unknown role {:?} (expected system, user or assistant)", i + 1, role));
    has_response = has_response || role == "assistant";
  }
  if (!has_response)
    throw InputError(fmt::format("the conversation ({} messages) has no assistant message to train on", messages.size()));
  switch (tmpl) {
    case config::Template::llama3:
      return render_llama3(messages);
    case config::Template::qwen3:
      return render_qwen3(messages);
    case config::Template::plain:
      return render_plain(messages);
    case config::Template::auto_:
      break;
  }
  NTKS_CHECK(false, "render_chat needs a resolved template, got {}", config::to_string(tmpl));
  return {};
}

RenderedChat join_pieces(const ChatPieces& pieces) {
  RenderedChat out;
  for (const ChatPiece& p : pieces) {
    const size_t begin = out.text.size();
    out.text += p.text;
    if (!p.response || p.text.empty()) continue;
    if (!out.response_spans.empty() && out.response_spans.back().second == begin) {
      out.response_spans.back().second = out.text.size();
    } else {
      out.response_spans.emplace_back(begin, out.text.size());
    }
  }
  return out;
}

}  // namespace detail

RenderedChat render_chat(config::Template tmpl, const std::vector<Message>& messages) {
  return detail::join_pieces(detail::render_pieces(tmpl, messages));
}

}  // namespace ntks::data
