#!/usr/bin/env bash
# Fidelity of the sparse JL projection (grads.projection: sparse) on the demo:
# runs `ntk-select run --config configs/demo.yaml` to the scores with the
# paper's dense Rademacher projection and with the sparse one (same run dir,
# so warm-up, embeddings and pre-selection are computed once and skipped the
# second time), for the paper's rule (score.rule ntk) and the demo's lda, at
# each d of $NTKS_DIMS, and prints the Spearman rank correlation of the two
# projections' scores and the overlap of the selections; beside them the same
# figures for a second dense draw (grads.seed 43), the spread that the
# projection's randomness alone gives. Needs the proxy model (cluster/proxy-model makes it once).
#
#   bench/projection.sh [BUILD_DIR]
# Environment: NTKS_DIMS (default "2048 8192"), NTKS_SPARSITY (default 4),
# NTKS_RANKS (default 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
bin=$build/src/ntk-select
dims=${NTKS_DIMS:-2048 8192}
sparsity=${NTKS_SPARSITY:-4}
ranks=${NTKS_RANKS:-2}
out=build/demo/projection
cluster/proxy-model "$build" > /dev/null
mkdir -p "$out"
for rule in ntk lda; do
  for d in $dims; do
    for kind in rademacher sparse redraw; do
      tag=$rule-$d-$kind
      projection=$kind seed=42
      [[ $kind != redraw ]] || { projection=rademacher; seed=43; }
      start=$SECONDS
      launch/ntks-mpirun -n "$ranks" -- "$bin" run --config configs/demo.yaml --set run.dir="$out/run" \
        --set score.rule="$rule" --set grads.dim="$d" --set grads.projection="$projection" \
        --set grads.seed="$seed" --set grads.sparsity="$sparsity" --log-level warn > "$out/$tag.log"
      cp "$out/run/score/scores.h5" "$out/$tag.scores.h5"
      cp "$out/run/select/selected_ids.txt" "$out/$tag.selected.txt"
      echo "$tag: $((SECONDS - start)) s" >> "$out/times.txt"
    done
  done
done
/usr/bin/python3 - "$out" "$sparsity" $dims <<'PY'
import sys
import h5py
import numpy as np

out, s, dims = sys.argv[1], sys.argv[2], sys.argv[3:]

def ranks(x):
    r = np.empty(len(x))
    r[np.argsort(x, kind="stable")] = np.arange(len(x))
    return r

def against_dense(rule, d, kind):
    a = h5py.File(f"{out}/{rule}-{d}-rademacher.scores.h5", "r")
    b = h5py.File(f"{out}/{rule}-{d}-{kind}.scores.h5", "r")
    assert (a["records"][:] == b["records"][:]).all(), "the two runs scored different rows"
    x, y = a["scores"][:], b["scores"][:]
    sa = set(open(f"{out}/{rule}-{d}-rademacher.selected.txt").read().split())
    sb = set(open(f"{out}/{rule}-{d}-{kind}.selected.txt").read().split())
    return np.corrcoef(ranks(x), ranks(y))[0, 1], np.corrcoef(x, y)[0, 1], len(sa & sb), len(sa)

print(f"against the dense Rademacher projection (seed 42), scores of the demo's pre-selection:")
print(f"              sparse JL (s={s})              second dense draw (seed 43)")
print("rule  d       Spearman Pearson selected      Spearman Pearson selected")
for rule in ("ntk", "lda"):
    for d in dims:
        cells = [f"{rho:8.4f} {r:7.4f} {both:3} of {n}" for rho, r, both, n in
                 (against_dense(rule, d, k) for k in ("sparse", "redraw"))]
        print(f"{rule:5} {d:6} " + "   ".join(cells))
PY
