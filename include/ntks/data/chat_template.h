#pragma once
// Chat templates: a conversation rendered to the exact text the model's
// tokenizer_config.json Jinja template produces (llama3: Llama-3-8B-Instruct,
// qwen3: Qwen3 with enable_thinking=false, plain: no template), and its token
// ids with a mask over the assistant responses — the tokens the training loss
// and the per-sample gradients use.
//
// All three render with add_generation_prompt=false, as Jinja2 (Python, what
// HF transformers runs) evaluates the templates; tests compare with goldens
// from tests/data/make_chat_golden.js. What each template does:
// - llama3: "<|begin_of_text|>" then, per message,
//   "<|start_header_id|>ROLE<|end_header_id|>\n\n" + trimmed content + "<|eot_id|>"
//   (trim = Python's str.strip()).
// - qwen3: per message "<|im_start|>ROLE\n" + content + "<|im_end|>\n", content
//   unstripped; an assistant turn after the last user query that is the last
//   message (or carries "<think>...</think>" reasoning) gets the think block
//   "<think>\nREASONING\n</think>\n\n" (empty in plain conversations) and loses
//   its leading newlines; earlier assistant turns lose their reasoning.
// - plain: the non-empty contents in order, joined by "\n\n"; no role names,
//   no special tokens, no stripping.
//
// Response spans: each assistant turn's content as rendered, plus its
// end-of-turn token (<|eot_id|>, <|im_end|>; plain has none) so the model
// learns to stop; never the headers, role names, think block or the "\n" after
// <|im_end|>.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ntks/config/config.h"

namespace ntks::tokenizer {
class Tokenizer;
}

namespace ntks::data {

/// One turn. Roles: "system", "user", "assistant" (anything else is an
/// InputError naming the role).
struct Message {
  std::string role;
  std::string content;
};

/// Rendered text plus the byte ranges [begin, end) of `text` that the loss
/// trains on: each assistant content and its end-of-turn token text, one
/// range per assistant turn, in order.
struct RenderedChat {
  std::string text;
  std::vector<std::pair<size_t, size_t>> response_spans;
};

/// Token ids of a sample and, per token, 1 when it is a response token.
struct TokenizedSample {
  std::vector<int32_t> ids;
  std::vector<uint8_t> response_mask;
};

/// `configured` unless it is auto: then qwen3 when the tokenizer has
/// <|im_start|>, llama3 when it has <|start_header_id|>, else plain.
config::Template resolve_template(config::Template configured, const tokenizer::Tokenizer& tok);

/// The text of `messages` under `tmpl` (not auto). Throws InputError for an
/// unknown role, a conversation without an assistant turn, or an assistant
/// turn that is empty as rendered (llama3 trims it; qwen3 drops its
/// reasoning); the message names the 1-based message, callers add file:line.
RenderedChat render_chat(config::Template tmpl, const std::vector<Message>& messages);

/// ids == tok.encode(render_chat(...).text, /*add_special_tokens=*/false)
/// exactly (the template carries its own BOS, as HF's apply_chat_template),
/// and response_mask[i] == 1 exactly for the tokens whose bytes overlap a
/// response span. A token that straddles a span boundary (qwen3's "\n\n" made
/// of the header's newline and a content's leading one; in plain, ".\n\n"
/// after a response) counts as a response token, as HF's
/// return_assistant_tokens_mask does. Same errors as render_chat, and an
/// InputError when the tokens' bytes spell neither the text nor its NFC form.
TokenizedSample tokenize_chat(const tokenizer::Tokenizer& tok, config::Template tmpl,
                              const std::vector<Message>& messages);

}  // namespace ntks::data
