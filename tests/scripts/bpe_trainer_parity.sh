#!/bin/sh
# `ntk-select train-tokenizer` against Hugging Face: trains on real text
# (WordNet records from `ntk-select demo-data`) with the Llama-3 and the Qwen3
# split regex, then fails on any difference between HF's Rust tokenizers (npm
# `tokenizers`) and `ntk-select tokenize` on the written tokenizer.json over a
# few thousand texts (plain records, chat-formatted ones with the special
# tokens, tests/tokenizer/strings.jsonl), on a chat template that renders
# unlike the qwen3 goldens in @huggingface/jinja or in Python's Jinja2 (what
# transformers runs; Debian's python3-jinja2), and on files that
# differ between 1 and 2 counting threads. Usage:
#   tests/scripts/bpe_trainer_parity.sh NTK_SELECT BUILD_DIR
# npm packages go to $NTKS_NODE_DIR (default BUILD_DIR/hf-node) and the real
# tokenizer.json files to BUILD_DIR/tokenizers, fetched once and reused.
set -eu
bin=${1:?usage: bpe_trainer_parity.sh NTK_SELECT BUILD_DIR}
build=${2:?usage: bpe_trainer_parity.sh NTK_SELECT BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nodedir=${NTKS_NODE_DIR:-$build/hf-node}
if [ ! -f "$nodedir/node_modules/tokenizers/package.json" ] ||
   [ ! -f "$nodedir/node_modules/@huggingface/jinja/package.json" ]; then
  # tokenizers: the version tests/tokenizer/make_golden.js used; jinja: the
  # one of tests/data/make_chat_golden.js.
  npm install --silent --no-audit --no-fund --prefix "$nodedir" tokenizers@0.23.2 @huggingface/jinja@0.5.11 >/dev/null
fi
"$root/tests/tokenizer/fetch_tokenizers.sh" "$build/tokenizers" llama3 qwen3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" demo-data --domain medicine --out "$work/demo" --log-level warn
cat "$work/demo/domain.jsonl" "$work/demo/pool.jsonl" > "$work/corpus.jsonl"

for pattern in llama3 qwen3; do
  tok=$work/$pattern
  "$bin" train-tokenizer "$work/corpus.jsonl" --out "$tok" --vocab-size 3000 --pattern "$pattern" --threads 2
  "$bin" train-tokenizer "$work/corpus.jsonl" --out "$tok-1" --vocab-size 3000 --pattern "$pattern" --threads 1 \
    --log-level warn
  for f in tokenizer.json tokenizer_config.json; do
    cmp -s "$tok/$f" "$tok-1/$f" || { echo "FAIL: $pattern $f differs between 1 and 2 threads" >&2; exit 1; }
  done
  node "$here/bpe_trainer_hf.js" "$nodedir" "$tok" "$work/corpus.jsonl" "$build/tokenizers/$pattern/tokenizer.json" \
    "$work/texts.jsonl" "$work/hf.jsonl"
  "$bin" tokenize --tokenizer "$tok/tokenizer.json" --log-level warn < "$work/texts.jsonl" > "$work/ours.jsonl"
  if ! cmp -s "$work/hf.jsonl" "$work/ours.jsonl"; then
    line=$(cmp "$work/hf.jsonl" "$work/ours.jsonl" | sed -n 's/.* line \([0-9]*\).*/\1/p')
    # printf, not echo: the JSON lines hold backslashes
    printf "FAIL: %s: ids differ from Hugging Face's on text %s: %s\n  HF:   %s\n  ours: %s\n" "$pattern" "$line" \
      "$(sed -n "${line}p" "$work/texts.jsonl")" "$(sed -n "${line}p" "$work/hf.jsonl")" \
      "$(sed -n "${line}p" "$work/ours.jsonl")" >&2
    exit 1
  fi
  echo "$pattern: $(wc -l < "$work/texts.jsonl") texts, the same ids as Hugging Face's tokenizers"
done

/usr/bin/python3 - "$work/llama3/tokenizer_config.json" "$root/tests/data/chat_golden/qwen3.jsonl" <<'EOF'
# As transformers' apply_chat_template compiles a template.
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
template = env.from_string(json.load(open(sys.argv[1]))["chat_template"])
golden = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
wrong = [g["name"] for g in golden if template.render(messages=g["messages"], add_generation_prompt=False) != g["text"]]
if wrong:
    sys.exit("FAIL: under Python's Jinja2 the chat template differs from the qwen3 goldens in: " + ", ".join(wrong))
print(f"Python Jinja2: {len(golden)} golden chats render alike")
EOF
