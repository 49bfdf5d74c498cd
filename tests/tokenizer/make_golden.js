// Regenerates tests/tokenizer/golden/*.jsonl with Hugging Face's official
// Rust tokenizers (the npm binding `tokenizers`, napi). Usage:
//   npm install --prefix /tmp/hf tokenizers@0.23.2
//   tests/tokenizer/fetch_tokenizers.sh /tmp/tok
//   NODE_PATH=/tmp/hf/node_modules node tests/tokenizer/make_golden.js /tmp/tok
// Each line: {"text": ..., "add_special_tokens": bool, "ids": [...]} for every
// string of strings.jsonl and both add_special_tokens settings.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

async function main() {
  const tokDir = process.argv[2];
  if (!tokDir) throw new Error('usage: make_golden.js TOKENIZER_DIR');
  const here = __dirname;
  const texts = fs.readFileSync(path.join(here, 'strings.jsonl'), 'utf8')
    .split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l).text);
  fs.mkdirSync(path.join(here, 'golden'), { recursive: true });
  for (const name of ['qwen3', 'llama3', 'llama3_1']) {
    const tok = Tokenizer.fromFile(path.join(tokDir, name, 'tokenizer.json'));
    const lines = [];
    for (const text of texts) {
      for (const add of [true, false]) {
        const enc = await tok.encode(text, null, { addSpecialTokens: add });
        lines.push(JSON.stringify({ text, add_special_tokens: add, ids: Array.from(enc.getIds()) }));
      }
    }
    fs.writeFileSync(path.join(here, 'golden', `${name}.jsonl`), lines.join('\n') + '\n');
    console.log(`${name}: ${lines.length} lines`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
