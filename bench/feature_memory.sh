#!/usr/bin/env bash
# Peak memory of the feature stages when the candidate corpus grows 10x: runs
# `ntk-select embed` and `ntk-select grads` (candidates and domain) on a tiny
# random llama over synthetic corpora of N and 10N records and prints the
# peak resident set (GNU time) of each run. The target is flat memory: the
# stages stream the corpus block by block (store.block_rows records), so only
# the per-record index (~20 bytes a record, plus 16 with an id) and the list
# of candidate indices (8 bytes a record) grow with the corpus.
#
# Usage: bench/feature_memory.sh [BINARY] [N] [WORK_DIR]
#   BINARY    ntk-select (default: build/src/ntk-select, or $NTKS_BINARY)
#   N         records of the small corpus (default 500; the large one has 10N)
#   WORK_DIR  where the files go (default: a temporary folder, removed at the end)
# Needs GNU time (/usr/bin/time, Debian package `time`) and python3. Takes
# about two minutes at the default N on two idle cores; on a loaded machine
# run it with OMP_NUM_THREADS=1 (oversubscribed OpenMP threads slow the tiny
# model's many small parallel regions by an order of magnitude). Peak RSS
# includes heap that ntk-select's malloc tuning (no trimming) keeps after
# freeing batch buffers: MALLOC_TRIM_THRESHOLD_=131072 MALLOC_TOP_PAD_=0
# MALLOC_MMAP_THRESHOLD_=131072 in the environment shows the memory in use.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-${NTKS_BINARY:-$here/build/src/ntk-select}}"
n="${2:-500}"
[[ -x "$bin" ]] || { echo "feature_memory: $bin is not an executable ntk-select (build it first)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "feature_memory: /usr/bin/time (GNU time) is missing: apt-get install time" >&2; exit 1; }
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "feature_memory: N '$n' is not a positive integer" >&2; exit 1; }
python=/usr/bin/python3
[[ -x $python ]] || python=python3

if [[ -n "${3:-}" ]]; then
  work="$3"; mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/ntks-feature-memory.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi

# A byte-level tokenizer.json (every byte a token, as tests/unit/byte_tokenizer.h),
# the domain set and the corpora: prompt/response records of 40..300 bytes.
"$python" - "$work" "$n" <<'PY'
import json, random, sys
work, n = sys.argv[1], int(sys.argv[2])
vocab, nxt = {}, 256
for b in range(256):
    printable = 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255
    cp = b if printable else nxt
    if not printable:
        nxt += 1
    vocab[chr(cp)] = b
added = [{"id": 256 + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
          "normalized": False, "special": True}
         for i, t in enumerate(["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"])]
tok = {"version": "1.0", "added_tokens": added, "normalizer": None,
       "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
       "post_processor": None,
       "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
       "model": {"type": "BPE", "vocab": vocab, "merges": [], "ignore_merges": False}}
json.dump(tok, open(f"{work}/tokenizer.json", "w"))
rng = random.Random(7)
words = "the of and to in is that for it as was with be by on not he this are or his from at which".split()
def text(lo, hi):
    s = " ".join(rng.choice(words) for _ in range(hi // 3))
    return s[: rng.randint(lo, hi)]
def corpus(path, count, prefix):
    with open(path, "w") as f:
        for i in range(count):
            f.write(json.dumps({"id": f"{prefix}{i}", "prompt": text(20, 150), "response": text(20, 150)}) + "\n")
corpus(f"{work}/domain.jsonl", 64, "d")
corpus(f"{work}/small.jsonl", n, "s")
corpus(f"{work}/large.jsonl", 10 * n, "l")
PY

"$bin" make-model --arch llama --out "$work/model" --vocab 272 --hidden 32 --intermediate 48 --layers 2 \
  --heads 4 --kv-heads 2 --seed 1 --lora-out "$work/adapter" --lora-r 4 --log-level warn

# Runs a stage under GNU time; sets rss_kb and wall_s.
timed() {
  local log="$work/time.log"
  /usr/bin/time -v -o "$log" "$@" > "$work/stage.out" 2>&1 ||
    { echo "feature_memory: failed: $*" >&2; tail -20 "$work/stage.out" >&2; exit 1; }
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  wall_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
           awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
}

printf "%-6s %-10s %8s %8s %10s %s\n" stage records wall_s rss_MiB corpus_MiB "index_MiB (records x 36 bytes)"
declare -A rss
for size in small large; do
  corpus="$work/$size.jsonl"
  records=$(wc -l < "$corpus")
  corpus_mib=$(awk -v b="$(stat -c %s "$corpus")" 'BEGIN { printf "%.1f", b / 1048576 }')
  index_mib=$(awk -v r="$records" 'BEGIN { printf "%.1f", r * 36 / 1048576 }')
  common=(--adapter "$work/adapter" --set model.path="$work/model" --set model.tokenizer="$work/tokenizer.json"
          --set model.dtype=fp32 --set data.domain="$work/domain.jsonl"
          --set "data.candidates=[$corpus]" --set store.block_rows=256 --set run.dir="$work/run-$size"
          --log-level warn)
  for stage in embed grads; do
    extra=()
    [[ $stage == grads ]] && extra=(--set grads.dim=128 --set grads.batch_size=8)
    timed "$bin" "$stage" "${common[@]}" "${extra[@]}"
    rss[$stage-$size]=$rss_kb
    awk -v s="$stage" -v n="$records" -v t="$wall_s" -v r="$rss_kb" -v c="$corpus_mib" -v i="$index_mib" 'BEGIN {
      printf "%-6s %-10d %8.1f %8.1f %10s %s\n", s, n, t, r / 1024, c, i }'
  done
done
for stage in embed grads; do
  awk -v s="$stage" -v a="${rss[$stage-small]}" -v b="${rss[$stage-large]}" 'BEGIN {
    printf "%s: peak RSS %.1f MiB -> %.1f MiB for 10x the records (%+.1f MiB, x%.2f)\n", s, a / 1024, b / 1024,
           (b - a) / 1024, b / a }'
done
