#!/usr/bin/env bash
# Benchmark of `ntk-select index`: indexes synthetic JSONL corpora of 100,000
# and 1,000,000 lines (~100-2000 bytes each, half with an "id" field), loads
# the caches again, and reads one shard. Prints lines/s, peak memory (RSS)
# and the index size for both sizes: the difference in peak memory should be
# about the difference in index size, since the file is streamed.
#
# wall_s and lines/s are of the whole process, which includes ~1 s of start-up
# (LibTorch, MPI); the build row also gives the indexing rate alone, as
# `ntk-select index` measures it. rss_MiB is the peak resident set (GNU time).
#
# Usage: bench/index_bench.sh [BINARY] [WORK_DIR]
#   BINARY    ntk-select (default: build/src/ntk-select, or $NTKS_BINARY)
#   WORK_DIR  where the corpora go (default: a temporary folder, removed at
#             the end; ~1.2 GB of free space needed)
# Needs GNU time (/usr/bin/time, Debian package `time`) and python3.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-${NTKS_BINARY:-$here/build/src/ntk-select}}"
[[ -x "$bin" ]] || { echo "index_bench: $bin is not an executable ntk-select (build it first)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "index_bench: /usr/bin/time (GNU time) is missing: apt-get install time" >&2; exit 1; }
python=/usr/bin/python3
[[ -x $python ]] || python=python3

if [[ -n "${2:-}" ]]; then
  work="$2"; mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/ntks-index-bench.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi

# Writes N lines: lengths uniform in ~100..2000 bytes, every other line with
# an id (first field, as most corpora have it), a few blank lines.
generate() {
  local n="$1" out="$2"
  "$python" - "$n" "$out" <<'PY'
import random, sys
n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(1234)
words = "the of and to in is that for it as was with be by on not he this are or his from at which".split()
pool = " ".join(rng.choice(words) for _ in range(400000))
with open(out, "w", buffering=1 << 22) as f:
    for i in range(n):
        length = rng.randint(60, 1950)
        start = rng.randint(0, len(pool) - length)
        text = pool[start:start + length]
        if i % 2 == 0:
            f.write('{"id":"doc-%d","text":"%s"}\n' % (i, text))
        else:
            f.write('{"text":"%s","source":"bench"}\n' % text)
        if i % 1000 == 999:
            f.write("\n")
PY
}

# Runs a command under GNU time; sets rss_kb and wall_s; stdout to $3.
timed() {
  local log="$work/time.log" out="$1"; shift
  /usr/bin/time -v -o "$log" "$@" > "$out"
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  wall_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
           awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
}

printf "%-10s %-8s %10s %12s %10s %10s %s\n" lines step wall_s lines/s rss_MiB index_MiB note
for n in 100000 1000000; do
  corpus="$work/corpus-$n.jsonl"
  generate "$n" "$corpus"
  lines=$(wc -l < "$corpus")
  size_mib=$(( $(stat -c %s "$corpus") / 1048576 ))

  timed "$work/summary.txt" "$bin" index "$corpus" --rebuild --log-level warn
  cache="$corpus.ntksidx"
  index_mib=$(awk -v b="$(stat -c %s "$cache")" 'BEGIN { printf "%.1f", b / 1048576 }')
  grep -q "total: 1 files, $n records," "$work/summary.txt" ||
    { echo "index_bench: unexpected record count:"; cat "$work/summary.txt"; exit 1; } >&2
  rate=$(sed -n 's/.*indexed \([0-9]*\) lines\/s.*/\1/p' "$work/summary.txt")
  awk -v n="$lines" -v t="$wall_s" -v r="$rss_kb" -v i="$index_mib" -v s="$size_mib" -v q="$rate" 'BEGIN {
    printf "%-10d %-8s %10.2f %12.0f %10.1f %10s corpus %d MiB; indexing alone %d lines/s\n", n, "build", t, n / t,
           r / 1024, i, s, q }'

  timed "$work/summary.txt" "$bin" index "$corpus" --log-level warn
  grep -q "loaded in" "$work/summary.txt" || { echo "index_bench: the cache was not reused" >&2; exit 1; }
  load_s=$(sed -n 's/.*(loaded in \([0-9.]*\) s).*/\1/p' "$work/summary.txt")
  awk -v n="$lines" -v t="$wall_s" -v r="$rss_kb" -v i="$index_mib" -v l="$load_s" 'BEGIN {
    printf "%-10d %-8s %10.2f %12.0f %10.1f %10s cache loaded in %s s\n", n, "load", t, n / t, r / 1024, i, l }'

  timed "$work/shard.jsonl" "$bin" index "$corpus" --shard 3 --num-shards 8 --log-level warn
  got=$(wc -l < "$work/shard.jsonl")
  want=$(( n / 8 + (3 < n % 8 ? 1 : 0) ))
  [[ "$got" -eq "$want" ]] || { echo "index_bench: shard 3/8 has $got records, expected $want" >&2; exit 1; }
  awk -v n="$got" -v t="$wall_s" -v r="$rss_kb" -v i="$index_mib" 'BEGIN {
    printf "%-10d %-8s %10.2f %12.0f %10.1f %10s shard 3 of 8 printed\n", n, "shard", t, n / t, r / 1024, i }'
  rm -f "$corpus" "$cache"
done
