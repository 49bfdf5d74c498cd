// The Llama-3-8B-Instruct chat template, as revised in its tokenizer_config.json
// (the generation header only under add_generation_prompt; not Llama 3.1's
// template with its "Cutting Knowledge Date" system block), rendered with
// add_generation_prompt=false:
//   <|begin_of_text|> then per message
//   <|start_header_id|>ROLE<|end_header_id|>\n\n CONTENT|trim <|eot_id|>
// `trim` is Jinja2's filter, i.e. Python's str.strip().

#include "data/chat_render.h"

namespace ntks::data::detail {

ChatPieces render_llama3(const std::vector<Message>& messages) {
  ChatPieces out;
  std::string prompt = "<|begin_of_text|>";
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    const std::string_view content = py_strip(m.content);
    prompt += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n";
    if (m.role != "assistant") {
      prompt.append(content.data(), content.size());
      prompt += "<|eot_id|>";
      continue;
    }
    if (content.empty()) throw_empty_response(i, m, "llama3");
    out.push_back({std::move(prompt), false});
    prompt.clear();
    out.push_back({std::string(content) + "<|eot_id|>", true});
  }
  if (!prompt.empty()) out.push_back({std::move(prompt), false});
  return out;
}

}  // namespace ntks::data::detail
