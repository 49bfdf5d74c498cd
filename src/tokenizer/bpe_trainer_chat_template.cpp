// The chat template written into a trained tokenizer_config.json: ChatML that
// renders system/user/assistant conversations exactly as the qwen3 renderer
// (src/data/chat_render_qwen3.cpp) does, so model.template auto (which picks
// qwen3 for a tokenizer with <|im_start|>) and HF's apply_chat_template agree.
// Per message "<|im_start|>ROLE\nCONTENT<|im_end|>\n"; an assistant content
// with "</think>" keeps what follows the last one and its reasoning is what
// lies between the last <think> and the first </think>; the assistant turns
// after the last user query (one that is not a <tool_response>) that end the
// conversation or carry reasoning get "<think>\nREASONING\n</think>\n\n". The
// generation prompt opens an assistant turn with the empty think block
// (thinking off, as the last turn of every training text has it).
//
// Newlines are stripped by loops bounded by the whitespace run, not by
// str.lstrip('\n'): HF's JavaScript Jinja ignores the argument of strip, and
// this template must render alike there and in Python's Jinja2.
// tests/scripts/bpe_trainer_parity.sh renders it with both.

#include "ntks/tokenizer/bpe_trainer.h"

namespace ntks::tokenizer {

const std::string& chatml_template() {
  static const std::string text =
      "{#- ntk-select ChatML: system/user/assistant, thinking off -#}\n"
      "{%- set ns = namespace(last_query=messages|length - 1) -%}\n"
      "{%- for m in messages -%}\n"
      "  {%- if m.role == 'user' and not (m.content.startswith('<tool_response>') and "
      "m.content.endswith('</tool_response>')) -%}\n"
      "    {%- set ns.last_query = loop.index0 -%}\n"
      "  {%- endif -%}\n"
      "{%- endfor -%}\n"
      "{%- for m in messages -%}\n"
      "  {%- if m.role == 'assistant' -%}\n"
      "    {%- set turn = namespace(text=m.content, reasoning='', think=false) -%}\n"
      "    {%- if '</think>' in m.content -%}\n"
      "      {%- set turn.text = m.content.split('</think>')[-1] -%}\n"
      "      {%- set turn.reasoning = m.content.split('</think>')[0] -%}\n"
      "      {%- for _ in range(turn.reasoning|length - turn.reasoning.rstrip()|length) -%}\n"
      "        {%- if turn.reasoning.endswith('\\n') -%}{%- set turn.reasoning = turn.reasoning[:-1] -%}{%- endif -%}\n"
      "      {%- endfor -%}\n"
      "      {%- set turn.reasoning = turn.reasoning.split('<think>')[-1] -%}\n"
      "      {%- for _ in range(turn.reasoning|length - turn.reasoning.lstrip()|length) -%}\n"
      "        {%- if turn.reasoning.startswith('\\n') -%}{%- set turn.reasoning = turn.reasoning[1:] -%}{%- endif -%}\n"
      "      {%- endfor -%}\n"
      "    {%- endif -%}\n"
      "    {%- set turn.think = loop.index0 > ns.last_query and (loop.last or turn.reasoning|length > 0) -%}\n"
      "    {%- if '</think>' in m.content or turn.think -%}\n"
      "      {%- for _ in range(turn.text|length - turn.text.lstrip()|length) -%}\n"
      "        {%- if turn.text.startswith('\\n') -%}{%- set turn.text = turn.text[1:] -%}{%- endif -%}\n"
      "      {%- endfor -%}\n"
      "    {%- endif -%}\n"
      "    {{- '<|im_start|>assistant\\n' -}}\n"
      "    {%- if turn.think -%}{{- '<think>\\n' + turn.reasoning + '\\n</think>\\n\\n' -}}{%- endif -%}\n"
      "    {{- turn.text + '<|im_end|>\\n' -}}\n"
      "  {%- else -%}\n"
      "    {{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' -}}\n"
      "  {%- endif -%}\n"
      "{%- endfor -%}\n"
      "{%- if add_generation_prompt -%}\n"
      "  {{- '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' -}}\n"
      "{%- endif -%}\n";
  return text;
}

}  // namespace ntks::tokenizer
