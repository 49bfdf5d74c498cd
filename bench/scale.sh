#!/usr/bin/env bash
# The whole selection at the paper's scale: `ntk-select run` over a candidate
# corpus of N lines of real English text (default 1,800,000, the paper's pool)
# and over one of N/10 lines, on R ranks, with a tiny random Llama. Prints per
# size: the time of each stage, the corpus index build, the IVF quantizer's
# training and its recall@k against the exact search (preselect.recall_sample
# domain points), and the peak memory of every rank; then how much the peak
# memory grew from N/10 to N (the target: at most 1.2x).
#
# What it measures is cost, not quality: the model is random (make-model), so
# its selection is no better than chance and is not a result. Inputs, all made
# here from Debian packages (wordnet-base, dict-gcide, ... : cluster/install-deps):
#   - docs.jsonl       `ntk-select pretrain-data` (266K documents, 50 MB of text)
#   - tokenizer        `ntk-select train-tokenizer` on them, 4096 ids
#   - model            `ntk-select make-model`: 2 layers, hidden 64, that tokenizer
#   - domain.jsonl     `ntk-select demo-data --domain medicine`, 1000 samples
#   - candidates       bench/scale_corpus.py: N alpaca lines, each a window of
#                      24-120 words of the documents under one of 8 instructions,
#                      no two lines alike
#
# Usage: bench/scale.sh [N] [RANKS] [WORK_DIR]
#   N         candidate lines of the large corpus (default 1800000; the small one has N/10)
#   RANKS     MPI ranks, one thread each (default 2)
#   WORK_DIR  where everything goes (default: a temporary folder, removed at the end;
#             ~2.5 GB free for N = 1.8M)
# Environment: NTKS_BINARY (default build/src/ntk-select); NPROBE, the IVF lists
# searched per domain point (default 128; nlist is automatic, 4 sqrt(N)). Needs GNU time
# (/usr/bin/time) and python3. About 50 minutes for N = 1.8M on 2 cores.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${NTKS_BINARY:-$here/build/src/ntk-select}"
n="${1:-1800000}"
ranks="${2:-2}"
nprobe="${NPROBE:-128}"
[[ -x "$bin" ]] || { echo "scale: $bin is not an executable ntk-select (build it first)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "scale: /usr/bin/time (GNU time) is missing: apt-get install time" >&2; exit 1; }
[[ "$n" =~ ^[1-9][0-9]*$ && "$n" -ge 20000 ]] || { echo "scale: N '$n' must be an integer >= 20000" >&2; exit 1; }
[[ "$ranks" =~ ^[1-9][0-9]*$ ]] || { echo "scale: RANKS '$ranks' is not a positive integer" >&2; exit 1; }
python=/usr/bin/python3
[[ -x $python ]] || python=python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

if [[ -n "${3:-}" ]]; then
  work="$3"; mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/ntks-scale.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi
work="$(cd "$work" && pwd)"

echo "scale: inputs in $work"
"$bin" pretrain-data --out "$work/docs.jsonl" --log-level error > /dev/null
"$bin" train-tokenizer --input "$work/docs.jsonl" --out "$work/tokenizer" --vocab-size 4096 --log-level warn
"$bin" make-model --arch llama --out "$work/model" --tokenizer "$work/tokenizer/tokenizer.json" --hidden 64 \
  --intermediate 128 --layers 2 --heads 4 --kv-heads 2 --seed 7 --log-level warn
"$bin" demo-data --domain medicine --out "$work/domain" --domain-size 1000 --pool-size 1000 --test-size 0 \
  --log-level warn

# run_size NAME LINES: corpus, index, the run on $ranks ranks; leaves
# $work/NAME/{run,*.log,time-*.txt}.
run_size() {
  local name="$1" lines="$2" dir="$work/$1"
  mkdir -p "$dir"
  "$python" "$here/bench/scale_corpus.py" "$work/docs.jsonl" "$lines" "$dir/candidates.jsonl" > /dev/null
  /usr/bin/time -v -o "$dir/time-index.txt" "$bin" index "$dir/candidates.jsonl" --rebuild --log-level warn \
    > "$dir/index.log"
  cat > "$dir/scale.yaml" <<YAML
run: {dir: $dir/run, seed: 42}
model: {path: $work/model, dtype: fp32, device: cpu, template: auto, max_seq_len: 256}
lora: {r: 8, alpha: 16, dropout: 0.0}
data: {domain: $work/domain/domain.jsonl, candidates: [$dir/candidates.jsonl], on_error: fail}
warmup: {epochs: 1, batch_size: 8, grad_accum: 2}
embed: {batch_tokens: 16384}
preselect: {k: 100, multiple: 4, index: ivf, nprobe: $nprobe, recall_sample: 64}
grads: {dim: 2048, batch_size: 16}
select: {size: 1000}
YAML
  echo "scale: $name: ntk-select run over $lines candidates on $ranks ranks"
  # Each rank under GNU time: its own peak resident set.
  "$here/launch/ntks-mpirun" -n "$ranks" -t 1 -- bash -c \
    '/usr/bin/time -v -o "$0/time-rank-${OMPI_COMM_WORLD_RANK:-0}.txt" "$1" run --config "$0/scale.yaml" \
       --progress-interval 120' "$dir" "$bin" > "$dir/run.log" 2>&1 ||
    { echo "scale: the run over $lines candidates failed (last lines of $dir/run.log):" >&2; tail -20 "$dir/run.log" >&2; exit 1; }
}

small=$((n / 10))
run_size small "$small"
run_size large "$n"

"$python" - "$work" "$ranks" <<'PY'
import json, re, sys
work, ranks = sys.argv[1], int(sys.argv[2])

def rss_mib(path):
    text = open(path).read()
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024

def wall(path):
    t = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", open(path).read()).group(1).split(":")
    return sum(float(x) * 60 ** i for i, x in enumerate(reversed(t)))

rows = {}
for name in ("small", "large"):
    d = f"{work}/{name}"
    m = json.load(open(f"{d}/run/manifest.json"))
    log = open(f"{d}/run.log").read()
    ivf = re.search(r"IVF: (\d+) lists trained on (\d+) candidate rows \(\d+ iterations, ([0-9.]+) s\)", log)
    recall = re.search(r"IVF recall@(\d+): ([0-9.]+) of the exact \d+ nearest of (\d+) sampled", log)
    skipped = sum(1 for r in range(ranks) for _ in open(f"{d}/run/embed/skipped-candidates-{r:05d}-of-{ranks:05d}.jsonl"))
    rows[name] = {
        "lines": sum(1 for _ in open(f"{d}/candidates.jsonl")),
        "stages": {s["stage"]: s["seconds"] for s in m["stages"]},
        "counts": {s["stage"]: s.get("counts", {}) for s in m["stages"]},
        "total": m["seconds"],
        "index_s": wall(f"{d}/time-index.txt"),
        "ivf_lists": int(ivf.group(1)), "ivf_train_rows": int(ivf.group(2)), "ivf_train_s": float(ivf.group(3)),
        "recall_k": int(recall.group(1)), "recall": float(recall.group(2)), "recall_queries": int(recall.group(3)),
        "rss": [rss_mib(f"{d}/time-rank-{r}.txt") for r in range(ranks)],
        "skipped": skipped,
    }

print()
print(f"{'':28s} {'small':>12s} {'large':>12s}")
def line(label, f):
    print(f"{label:28s} {f(rows['small']):>12s} {f(rows['large']):>12s}")
line("candidate lines", lambda r: f"{r['lines']:,}")
line("embedded (skipped: overlong)", lambda r: f"{r['counts']['embed']['candidates']:,} ({r['skipped']})")
line("corpus index build (s)", lambda r: f"{r['index_s']:.1f}")
for s in ("warmup", "embed", "preselect", "grads", "score", "select"):
    line(f"  {s} (s)", lambda r, s=s: f"{r['stages'][s]:.1f}")
line("run total (s)", lambda r: f"{r['total']:.1f}")
line("embed candidates/s", lambda r: f"{(r['counts']['embed']['candidates'] + r['counts']['embed']['domain']) / r['stages']['embed']:.0f}")
line("IVF lists / training rows", lambda r: f"{r['ivf_lists']}/{r['ivf_train_rows']}")
line("IVF training (s)", lambda r: f"{r['ivf_train_s']:.1f}")
line("IVF recall@k vs exact", lambda r: f"{r['recall']:.4f}")
line("pre-selected", lambda r: f"{r['counts']['preselect']['preselected']:,}")
for k in range(ranks):
    line(f"peak RSS rank {k} (MiB)", lambda r, k=k: f"{r['rss'][k]:.0f}")
growth = max(rows["large"]["rss"]) / max(rows["small"]["rss"])
print(f"\npeak memory, largest rank, large / small corpus: {growth:.3f}x (target <= 1.2x)")
print(f"IVF recall@{rows['large']['recall_k']} on {rows['large']['recall_queries']} sampled domain points: "
      f"{rows['large']['recall']:.4f} (target >= 0.99)")
json.dump(rows, open(f"{work}/scale.json", "w"), indent=1)
print(f"figures: {work}/scale.json")
PY
