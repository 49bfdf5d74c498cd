// Hugging Face's side of tests/scripts/bpe_trainer_parity.sh, for a tokenizer
// folder that `ntk-select train-tokenizer` wrote:
// - its chat template, rendered by @huggingface/jinja (HF's JavaScript Jinja),
//   gives the qwen3 goldens (tests/data/chat_golden/qwen3.jsonl: what the
//   project's qwen3 renderer is tested against);
// - its Split regex is the one of the real Llama-3 or Qwen3 tokenizer.json;
// - HF's Rust tokenizers (npm `tokenizers`) loads it and writes the ids of
//   every text to compare: the strings of tests/tokenizer/strings.jsonl, the
//   records of the corpus as plain text, and as conversations rendered by the
//   chat template (with the special tokens).
// Usage:
//   node bpe_trainer_hf.js NODE_DIR TOKENIZER_DIR CORPUS.jsonl REAL_TOKENIZER.json OUT_TEXTS OUT_IDS
// OUT_TEXTS gets one {"text"} line per text (input for `ntk-select tokenize`),
// OUT_IDS one {"ids"} line per text, as `ntk-select tokenize` prints them.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(message) {
  console.error(`bpe_trainer_hf.js: ${message}`);
  process.exit(1);
}

function readJsonl(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().length > 0).map((l) => JSON.parse(l));
}

function splitRegex(tokenizerJson) {
  const steps = tokenizerJson.pre_tokenizer.pretokenizers || [tokenizerJson.pre_tokenizer];
  const split = steps.find((s) => s.type === 'Split');
  return split ? split.pattern.Regex : null;
}

// Records of the corpus as conversations: user (instruction and input), then
// assistant (output); every third with a system message, every fifth with a
// second turn from the next record.
function conversations(records) {
  const turn = (r) => [
    { role: 'user', content: r.input ? `${r.instruction}\n\n${r.input}` : r.instruction },
    { role: 'assistant', content: r.output },
  ];
  return records.map((r, i) => {
    const messages = i % 3 === 0 ? [{ role: 'system', content: 'Answer from the dictionary.' }] : [];
    messages.push(...turn(r));
    if (i % 5 === 0 && i + 1 < records.length) messages.push(...turn(records[i + 1]));
    return messages;
  });
}

async function main() {
  const [nodeDir, tokDir, corpus, realFile, outTexts, outIds] = process.argv.slice(2);
  if (!outIds) fail('usage: bpe_trainer_hf.js NODE_DIR TOKENIZER_DIR CORPUS REAL_TOKENIZER OUT_TEXTS OUT_IDS');
  const { Tokenizer } = require(path.join(nodeDir, 'node_modules', 'tokenizers'));
  const { Template } = require(path.join(nodeDir, 'node_modules', '@huggingface', 'jinja'));
  const repo = path.join(__dirname, '..', '..');
  const tokFile = path.join(tokDir, 'tokenizer.json');
  const config = JSON.parse(fs.readFileSync(path.join(tokDir, 'tokenizer_config.json'), 'utf8'));

  const ours = splitRegex(JSON.parse(fs.readFileSync(tokFile, 'utf8')));
  const real = splitRegex(JSON.parse(fs.readFileSync(realFile, 'utf8')));
  if (ours !== real) fail(`Split regex ${JSON.stringify(ours)} is not ${realFile}'s ${JSON.stringify(real)}`);

  const template = new Template(config.chat_template);
  const render = (messages) => template.render({ messages, add_generation_prompt: false });
  const golden = readJsonl(path.join(repo, 'tests', 'data', 'chat_golden', 'qwen3.jsonl'));
  const wrong = golden.filter((g) => render(g.messages) !== g.text).map((g) => g.name);
  if (wrong.length > 0) fail(`the chat template differs from the qwen3 goldens in: ${wrong.join(', ')}`);
  const prompt = template.render({ messages: [{ role: 'user', content: 'q' }], add_generation_prompt: true });
  if (prompt !== '<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n')
    fail(`generation prompt ${JSON.stringify(prompt)}`);

  const records = readJsonl(corpus);
  const texts = readJsonl(path.join(repo, 'tests', 'tokenizer', 'strings.jsonl')).map((s) => s.text);
  for (const r of records) texts.push([r.instruction, r.input, r.output].filter((s) => s).join('\n'));
  for (const g of golden) texts.push(g.text);
  for (const messages of conversations(records)) texts.push(render(messages));

  const tok = Tokenizer.fromFile(tokFile);
  const ids = [];
  for (const text of texts) ids.push(JSON.stringify({ ids: Array.from((await tok.encode(text)).getIds()) }));
  fs.writeFileSync(outTexts, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  fs.writeFileSync(outIds, ids.join('\n') + '\n');
  console.log(`${texts.length} texts (${golden.length} golden chats render alike), HF vocabulary ` +
              `${tok.getVocabSize(true)}, split regex as in ${realFile}`);
}

main().catch((e) => fail(e.stack || String(e)));
