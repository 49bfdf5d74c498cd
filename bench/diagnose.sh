#!/usr/bin/env bash
# The paper's three analyses on the trained proxy model (cluster/proxy-model),
# for each WordNet domain: NTK-like stability over a LoRA fine-tune on the
# domain set (Fig. 2a), fidelity of the Jacobian-free kernel to the exact
# trace NTK (Fig. 2b) and eNTK kernel regression against LoRA fine-tuning on
# the held-out test set's multiple-choice questions (App. A.5). Writes the
# JSON and SVG of each into build/demo/diagnose/<domain>/ and prints a table.
#
#   bench/diagnose.sh [BUILD_DIR]
# Environment: NTKS_DOMAINS (default "medicine law sport"), NTKS_SAMPLES
# (fidelity records, default 16), NTKS_STEPS (fine-tune steps, default 60,
# a snapshot every 10).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
bin=$build/src/ntk-select
domains=${NTKS_DOMAINS:-medicine law sport}
samples=${NTKS_SAMPLES:-16}
steps=${NTKS_STEPS:-60}
out=build/demo/diagnose
NTKS_DOMAINS="medicine law sport music" cluster/proxy-model "$build" > /dev/null
q=(--log-level warn)
for d in $domains; do
  data=build/demo/data/$d
  work=$out/$d
  mkdir -p "$work"
  common=(--config configs/demo.yaml --set run.dir="$work/run" --set data.domain="$data/domain.jsonl"
          --set data.candidates="[$data/pool.jsonl]")
  echo "== $d"
  "$bin" warmup "${common[@]}" "${q[@]}" > /dev/null
  "$bin" diagnose fidelity "${common[@]}" --samples "$samples" --out "$work/fidelity.json" "${q[@]}"
  "$bin" finetune "${common[@]}" --set finetune.data="$data/domain.jsonl" --set finetune.out="$work/ft" \
    --set finetune.max_steps="$steps" --set finetune.epochs=1000 --set finetune.grad_accum=1 \
    --keep-adapters 10 "${q[@]}" > /dev/null
  "$bin" diagnose stability "${common[@]}" --checkpoints "$work/ft/snapshots" --out "$work/stability.json" "${q[@]}"
  "$bin" diagnose entk "${common[@]}" --data "$data/test.jsonl" --set finetune.max_steps="$steps" \
    --set finetune.epochs=1000 --set finetune.grad_accum=1 --out "$work/entk.json" "${q[@]}"
done
/usr/bin/python3 - "$out" $domains <<'PY'
import json, os, sys
out, domains = sys.argv[1], sys.argv[2:]
print("| domain | stability: min cos_F (ε) | fidelity: Pearson | Spearman | cross terms / exact | after the common factor c | JL max rel. error (d) | eNTK accuracy | LoRA fine-tune accuracy |")
print("|---|---|---|---|---|---|---|---|---|")
for d in domains:
    f = json.load(open(os.path.join(out, d, "fidelity.json")))
    s = json.load(open(os.path.join(out, d, "stability.json")))
    e = json.load(open(os.path.join(out, d, "entk.json")))
    g = lambda j, k: j.get(k, float("nan"))
    print(f"| {d} | {g(s,'min_cosine'):.3f} ({g(s,'epsilon'):.3f}) | {g(f,'pearson'):.3f} | {g(f,'spearman'):.3f} | "
          f"{g(f,'cross_share'):.0f} (c = {g(f,'jf_over_exact'):.0f}) | {100*g(f,'shape_error'):.1f}% | {g(f,'jl_max_rel_error'):.3f} ({f.get('jl_dim','?')}, bound {g(f,'jl_bound'):.2f}) | "
          f"{100*g(e,'entk_accuracy'):.1f}% | {100*g(e,'finetune_accuracy'):.1f}% (chance {100*g(e,'chance_accuracy'):.0f}%) |")
PY
