// Token ids of a rendered conversation and its response mask.
//
// The text is encoded once, whole, so the ids are exactly what
// tok.encode(text, false) (HF's apply_chat_template(tokenize=True)) gives.
// Every token then gets its byte range: a byte-level BPE token stands for a
// fixed byte string, and those strings concatenate to the text the model saw,
// which is the rendered text itself unless the tokenizer normalizes (Qwen3:
// NFC). A token is a response token when its range overlaps a response span,
// so a token that straddles a span boundary (a "\n\n" made of the header's
// "\n" and a content's leading "\n") is trained on, as HF's
// return_assistant_tokens_mask (char_to_token over the span) does. O(length).

#include "ntks/data/chat_template.h"

#include "data/chat_render.h"
#include "ntks/config/enums.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"
#include "tokenizer/parts.h"

namespace ntks::data {
namespace {

// End offset in `text` of each token of `ids`, or nothing when the tokens'
// bytes do not spell `text` exactly.
std::vector<size_t> token_ends(const tokenizer::Tokenizer& tok, const std::vector<int32_t>& ids,
                               std::string_view text) {
  std::vector<size_t> ends;
  ends.reserve(ids.size());
  size_t pos = 0;
  for (int32_t id : ids) {
    const std::string bytes = tokenizer::detail::unicode_to_bytes(tok.token(id));
    if (text.compare(pos, bytes.size(), bytes) != 0) return {};
    pos += bytes.size();
    ends.push_back(pos);
  }
  if (pos != text.size()) return {};
  return ends;
}

}  // namespace

TokenizedSample tokenize_chat(const tokenizer::Tokenizer& tok, config::Template tmpl,
                              const std::vector<Message>& messages) {
  detail::ChatPieces pieces = detail::render_pieces(tmpl, messages);
  RenderedChat chat = detail::join_pieces(pieces);
  TokenizedSample out;
  out.ids = tok.encode(chat.text, /*add_special_tokens=*/false);

  std::vector<size_t> ends = token_ends(tok, out.ids, chat.text);
  if (ends.empty() && !out.ids.empty()) {
    // The tokenizer normalized the text. NFC is the one our tokenizers use; it
    // works piece by piece here because every piece boundary of the templates
    // sits next to a "\n" or a special token, which no character composes with.
    for (detail::ChatPiece& p : pieces) p.text = tokenizer::detail::nfc(p.text);
    chat = detail::join_pieces(pieces);
    ends = token_ends(tok, out.ids, chat.text);
    if (ends.empty())
      throw InputError(fmt::format(
          "cannot align the tokens of the {} conversation with its text: their bytes spell neither the text "
          "nor its NFC form (a tokenizer that drops characters, or NFC composing across a template boundary)",
          config::to_string(tmpl)));
  }

  out.response_mask.assign(out.ids.size(), 0);
  size_t span = 0, begin = 0;
  for (size_t i = 0; i < out.ids.size(); ++i) {
    const size_t end = ends[i];
    while (span < chat.response_spans.size() && chat.response_spans[span].second <= begin) ++span;
    if (span < chat.response_spans.size() && chat.response_spans[span].first < end) out.response_mask[i] = 1;
    begin = end;
  }
  return out;
}

}  // namespace ntks::data
