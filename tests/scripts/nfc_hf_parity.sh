#!/usr/bin/env bash
# Our NFC tables against Hugging Face's: tests/tokenizer/probe_nfc.js --check
# asks HF's Rust tokenizers (npm `tokenizers`) about every code point and
# fails if src/tokenizer/nfc_hf_tables.cpp or tests/tokenizer/nfc_golden.jsonl
# would change (a new utf8proc or tokenizers release). The npm package is
# fetched once into BUILD_DIR/hf-node, shared with bpe_trainer_parity.
#
#   tests/scripts/nfc_hf_parity.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
nodedir=${NTKS_NODE_DIR:-$build/hf-node}
if [ ! -f "$nodedir/node_modules/tokenizers/package.json" ]; then
  mkdir -p "$nodedir"
  npm install --silent --no-audit --no-fund --prefix "$nodedir" tokenizers@0.23.2 >/dev/null
fi
NODE_PATH=$nodedir/node_modules node "$here/../tokenizer/probe_nfc.js" --check
