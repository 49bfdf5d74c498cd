#!/usr/bin/env bash
# CPU efficiency of the two model stages against this process's own GEMM peak, at the
# peer-bench shape (4 layers, hidden 512, LoRA r 32 on 7 modules, 256-token samples,
# d = 8192, dense and sparse projections). Targets: embed >= 60% of the peak, per-sample
# projected gradients (forward + backward + projection counted as useful work) >= 45%.
# Each figure is shown beside its baseline in the same binary: the embed stage with the
# former default batch of 16384 tokens, and every GEMM threaded by OpenBLAS itself
# (--untiled) instead of the fixed tiles that make results thread-count invariant.
#
#   bench/cpu_efficiency.sh [NTK_SELECT]     (default build/src/ntk-select; about 3 minutes)
set -euo pipefail
bin=${1:-build/src/ntk-select}
shape=(--layers 4 --hidden 512 --seq-len 256)

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
"$bin" --blas-info | grep -E '^(core|gemm):'
run() { "$bin" bench --log-level error "$@" 2>&1; }
echo "== GEMM peak, OpenBLAS's own threading and the fixed tiles"
run --what gemm
for tiles in "" --untiled; do
  echo "== embed (samples of 256 tokens), ${tiles:-fixed tiles}: auto batch (4096 tokens on a CPU), then 16384"
  run --what embed "${shape[@]}" --min-len 256 --samples 128 $tiles | tail -1
  run --what embed "${shape[@]}" --min-len 256 --samples 128 --batch-tokens 16384 $tiles | tail -1
  echo "== grads (8 x 256 tokens, r 32, d 8192), ${tiles:-fixed tiles}"
  run --what grads "${shape[@]}" --lora-r 32 --dim 8192 --sparsity 4 --no-loop $tiles | tail -n +2
done
