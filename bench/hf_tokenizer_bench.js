// Hugging Face's side of `ntk-select bench --what tokenizer`: times the Rust
// tokenizers (npm package `tokenizers`, the binding tests/tokenizer/make_golden.js
// uses) on the same documents as our side, and prints one JSON line:
//   {"version", "node", "documents", "bytes", "tokens", "seconds", "mode"}
// Usage (the C++ bench runs it so):
//   RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false \
//     node bench/hf_tokenizer_bench.js --tokenizer FILE --text FILE [--reps N] [--no-special]
// Documents: the "text" of each line of a .jsonl file, else each non-empty line.
// Timed: encodeBatch calls only (batches of 256 documents; with one rayon thread
// they run one after another), the fastest of N passes after a warm-up batch.
// File loading and reading the ids back (to count tokens) are not timed.
// The package is found on NODE_PATH, else in $NTKS_NODE_DIR or build/hf-node
// (bench/tokenizer.sh installs it there with npm install --prefix).
'use strict';
const fs = require('fs');
const path = require('path');

function fail(message) {
  console.log(JSON.stringify({ error: message }));
  process.exit(3);
}

// The package and its version: NODE_PATH first, then the install folders.
function loadTokenizers() {
  const dirs = [process.env.NTKS_NODE_DIR, path.join(__dirname, '..', 'build', 'hf-node')].filter(Boolean);
  const candidates = ['tokenizers'].concat(dirs.map((d) => path.join(d, 'node_modules', 'tokenizers')));
  for (const name of candidates) {
    let file;
    try {
      file = require.resolve(name);
    } catch (e) {
      continue;
    }
    let version = '?';
    try {
      version = require(path.join(path.dirname(file), 'package.json')).version;
    } catch (e) { /* keep '?' */ }
    return { Tokenizer: require(file).Tokenizer, version };
  }
  fail(`npm package 'tokenizers' not found on NODE_PATH nor in ${dirs.join(', ')}; ` +
       'install it with: npm install --prefix build/hf-node tokenizers@0.23.2');
}

function args() {
  const out = { reps: 3, special: true };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; ++i) {
    if (a[i] === '--tokenizer') out.tokenizer = a[++i];
    else if (a[i] === '--text') out.text = a[++i];
    else if (a[i] === '--reps') out.reps = Math.max(1, parseInt(a[++i], 10));
    else if (a[i] === '--no-special') out.special = false;
    else fail(`unknown argument '${a[i]}'`);
  }
  if (!out.tokenizer || !out.text) fail('usage: hf_tokenizer_bench.js --tokenizer FILE --text FILE [--reps N] [--no-special]');
  return out;
}

function readDocuments(file) {
  const jsonl = file.endsWith('.jsonl');
  const docs = [];
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (line.length === 0) return;
    if (!jsonl) { docs.push(line); return; }
    const j = JSON.parse(line);
    if (typeof j.text !== 'string') fail(`${file}:${i + 1}: expected an object with a string "text"`);
    docs.push(j.text);
  });
  return docs;
}

async function main() {
  const opt = args();
  const { Tokenizer, version } = loadTokenizers();
  const tok = Tokenizer.fromFile(opt.tokenizer);
  const docs = readDocuments(opt.text);
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d, 'utf8'), 0);
  const batch = 256;
  const options = { addSpecialTokens: opt.special };
  await tok.encodeBatch(docs.slice(0, batch), options);  // warm-up
  let best = Infinity;
  let tokens = 0;
  for (let rep = 0; rep < opt.reps; ++rep) {
    let seconds = 0;
    let count = 0;
    for (let i = 0; i < docs.length; i += batch) {
      const t0 = process.hrtime.bigint();
      const encodings = await tok.encodeBatch(docs.slice(i, i + batch), options);
      seconds += Number(process.hrtime.bigint() - t0) / 1e9;
      for (const e of encodings) count += e.getIds().length;
    }
    best = Math.min(best, seconds);
    tokens = count;
  }
  console.log(JSON.stringify({
    version, node: process.version, documents: docs.length, bytes, tokens, seconds: best,
    mode: `encodeBatch(${batch} documents), RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS || 'unset'}`,
  }));
}

main().catch((e) => fail(String(e && e.stack || e)));
