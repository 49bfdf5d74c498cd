#!/usr/bin/env bash
# Does the selected data help? The paper's Table 1, small: for each WordNet
# domain, LoRA fine-tuning of the proxy model (cluster/proxy-model) on
#   Domain-only          the 200-sample domain set
#   + <method>           the domain set plus the method's M = 100 selected pool samples
# for every selection method of the tool (random, dsir, less, tsds, knn, ntk
# with the paper's score, ntk with the lda score), all with the same LoRA
# settings and the same number of optimizer steps, over several seeds; and
# Base (no fine-tuning). Metric: the held-out test set's (test.jsonl, 200
# on-topic samples none of the runs saw) mean response-token loss, lower is
# better, and the 4-way multiple-choice accuracy by option log-likelihood.
# Prints the table (mean ± sd over seeds, the loss gain over Base) and writes
# it with every figure to build/demo/compare/compare.md and compare.json.
#
#   bench/compare.sh [BUILD_DIR]
# Environment: NTKS_DOMAINS (default "medicine law sport"), NTKS_SEEDS
# (default "1 2 3"), NTKS_STEPS (fine-tuning steps, default 100: about 3
# epochs of a 300-line mixture at 8 samples a step), NTKS_RANKS (default 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
bin=$build/src/ntk-select
ranks=${NTKS_RANKS:-2}
domains=${NTKS_DOMAINS:-medicine law sport}
seeds=${NTKS_SEEDS:-1 2 3}
steps=${NTKS_STEPS:-100}
out=build/demo/compare
mkdir -p "$out"
NTKS_DOMAINS="medicine law sport music" cluster/proxy-model "$build"  # the proxy excludes all four domains' samples
# A private copy of the binary: a rebuild during the comparison (an hour or
# more) must neither change it mid-way nor leave it missing while it links.
mkdir -p "$out/bin"
cp "$bin" "$out/bin/ntk-select.new" && mv "$out/bin/ntk-select.new" "$out/bin/ntk-select"
bin=$out/bin/ntk-select
mpi() { launch/ntks-mpirun -n "$ranks" -- "$bin" "$@"; }
q=(--log-level warn)

# select DIR NAME ARGS...: one selection into DIR, its mixture kept as NAME.
select_into() {
  local dir=$1 name=$2
  shift 2
  mpi run --config configs/demo.yaml --set run.dir="$dir" "${common[@]}" "$@" "${q[@]}" >> "$dir.log" 2>&1 ||
    { cat "$dir.log" >&2; exit 1; }
  cp "$dir/select/mixture.jsonl" "$mixtures/$name.jsonl"
  cp "$dir/select/selected_ids.txt" "$mixtures/$name.ids"
}

for d in $domains; do
  data=build/demo/data/$d
  work=$out/$d
  mixtures=$work/mixtures
  mkdir -p "$mixtures" "$work/eval"
  common=(--set data.domain="$data/domain.jsonl" --set data.candidates="[$data/pool.jsonl]")
  echo "== $d: selections"
  : > "$work/run.log"
  # One run folder for the methods that share the warm-up and embeddings
  # (each rerun only redoes what its method changes), one for LESS, whose
  # warm-up trains on candidates.
  select_into "$work/run" ntk-lda --set score.rule=lda
  select_into "$work/run" ntk-paper --set score.rule=ntk
  for m in knn tsds random dsir; do select_into "$work/run" "$m" --set select.method=$m; done
  : > "$work/run-less.log"
  select_into "$work/run-less" less --set select.method=less
  cp "$data/domain.jsonl" "$mixtures/domain-only.jsonl"

  echo "== $d: fine-tuning and evaluation ($steps steps, seeds $seeds)"
  mpi evaluate --config configs/demo.yaml --set run.dir="$work/run" --test "$data/test.jsonl" --adapter none \
    --out "$work/eval/base.json" "${q[@]}" > /dev/null
  for m in domain-only random dsir less tsds knn ntk-paper ntk-lda; do
    for s in $seeds; do
      adapter=$work/ft/$m-s$s
      mpi finetune --config configs/demo.yaml --set run.dir="$work/run" "${common[@]}" \
        --set finetune.data="$mixtures/$m.jsonl" --set finetune.out="$adapter" --set finetune.seed="$s" \
        --set finetune.max_steps="$steps" --set finetune.epochs=1000 --set finetune.grad_accum=1 "${q[@]}" \
        > /dev/null
      mpi evaluate --config configs/demo.yaml --set run.dir="$work/run" --test "$data/test.jsonl" --adapter "$adapter" \
        --out "$work/eval/$m-s$s.json" "${q[@]}" > /dev/null
    done
    echo "   $m done"
  done
done

/usr/bin/python3 - "$out" $domains <<'EOF'
import json, os, statistics, sys
out, domains = sys.argv[1], sys.argv[2:]
methods = ["domain-only", "random", "dsir", "less", "tsds", "knn", "ntk-paper", "ntk-lda"]
names = {"domain-only": "Domain-only", "random": "+ Random", "dsir": "+ DSIR", "less": "+ LESS", "tsds": "+ TSDS",
         "knn": "+ kNN (pre-selection)", "ntk-paper": "+ NTK (paper's score)", "ntk-lda": "+ NTK (lda score)"}
table, figures = {}, {}
for d in domains:
    ev = os.path.join(out, d, "eval")
    base = json.load(open(os.path.join(ev, "base.json")))
    figures[d] = {"base": base}
    table[d] = {"Base": (base["loss"], 0.0, base.get("accuracy"), None)}
    for m in methods:
        runs = sorted(f for f in os.listdir(ev) if f.startswith(m + "-s"))
        res = [json.load(open(os.path.join(ev, f))) for f in runs]
        figures[d][m] = res
        losses = [r["loss"] for r in res]
        accs = [r["accuracy"] for r in res if r.get("accuracy") is not None]
        sd = statistics.stdev(losses) if len(losses) > 1 else 0.0
        table[d][names[m]] = (statistics.mean(losses), sd, statistics.mean(accs) if accs else None, len(res))
head = "| method | " + " | ".join(f"{d}: test loss (gain) | {d}: accuracy" for d in domains) + " | mean loss |"
lines = [head, "|" + " --- |" * (2 * len(domains) + 2)]
for row in ["Base"] + [names[m] for m in methods]:
    cells, means = [], []
    for d in domains:
        mean, sd, acc, n = table[d][row]
        b = table[d]["Base"][0]
        loss = f"{mean:.3f}" if row == "Base" else f"{mean:.3f} ± {sd:.3f} ({b - mean:+.3f})"
        cells += [loss, "-" if acc is None else f"{100 * acc:.1f}%"]
        means.append(mean)
    lines.append(f"| {row} | " + " | ".join(cells) + f" | {statistics.mean(means):.3f} |")
text = "\n".join(lines)
print(text)
open(os.path.join(out, "compare.md"), "w").write(text + "\n")
json.dump(figures, open(os.path.join(out, "compare.json"), "w"), indent=1)
EOF
echo "figures per run in $out/compare.json; adapters in $out/<domain>/ft/"
