#!/usr/bin/env bash
# Parity of `ntk-select forward` with the independent Python reference
# (tests/reference/hf_reference.py): one case per invocation.
#
# usage: forward_parity.sh CASE NTK_SELECT_BINARY
#
# In a temporary folder: make-model with the case's options (and a random
# LoRA adapter for the lora cases), a deterministic ids JSONL of samples of
# different lengths, `ntk-select forward` with the case's padding, dtype and
# adapter, then the reference with --check. Exit 0 only if parity holds.
#
# Cases: llama_gqa llama_left_padding qwen3_qk_norm llama3_rope_scaling
#        linear_rope_scaling tied_embeddings sharded_checkpoint bf16_checkpoint
#        fp16_compute lora_adapter qwen3_lora_left_padding
#
# The reference needs Debian's /usr/bin/python3 with python3-torch, python3-numpy
# and python3-h5py (NTKS_REFERENCE_PYTHON overrides the interpreter). Without
# them this fails: it never skips. NTKS_KEEP_TMP=1 keeps the temporary folder.
set -u

cases="llama_gqa llama_left_padding qwen3_qk_norm llama3_rope_scaling linear_rope_scaling
tied_embeddings sharded_checkpoint bf16_checkpoint fp16_compute lora_adapter
qwen3_lora_left_padding"

if [ $# -ne 2 ]; then
  echo "usage: $0 CASE NTK_SELECT_BINARY" >&2
  echo "cases: $(echo $cases)" >&2
  exit 2
fi
case_name=$1
bin=$2
here=$(cd "$(dirname "$0")" && pwd)
reference="$here/../reference/hf_reference.py"
py=${NTKS_REFERENCE_PYTHON:-/usr/bin/python3}

fail() { echo "FAIL [$case_name]: $*"; exit 1; }

[ -x "$bin" ] || fail "ntk-select binary '$bin' is not an executable file"
[ -f "$reference" ] || fail "reference script $reference is missing"
if ! missing=$("$py" -c 'import torch, numpy, h5py' 2>&1); then
  fail "the reference needs $py with torch, numpy and h5py (Debian: apt-get install \
python3-torch python3-numpy python3-h5py); importing them failed: $(echo "$missing" | tail -n 1)"
fi

# Model shape shared by every case. --init-std 0.15 (not the 0.02 default) makes attention and
# the MLP move the residual stream as much as the embeddings do, so a wrong attention detail
# shows in the outputs instead of vanishing under the embedding.
arch=llama
vocab=200
kv_heads=2
make_opts=(--layers 2 --hidden 64 --intermediate 96 --heads 4 --vocab "$vocab" --init-std 0.15)
lengths="1 17 5 12 9"   # unsorted, so batching by length (if any) reorders them
dtype=fp32
padding=right
batch=3                 # 5 samples: a padded batch of 3 and one of 2
lora=""                 # LoRA targets; empty: no adapter
lora_opts=()
seed=1

case "$case_name" in
  llama_gqa)
    ;;
  llama_left_padding)
    kv_heads=1                  # multi-query: every query head reads the single kv head
    padding=left
    seed=2
    ;;
  qwen3_qk_norm)
    arch=qwen3
    make_opts+=(--head-dim 32)  # != hidden / heads = 16
    seed=3
    ;;
  llama3_rope_scaling)
    # head_dim 16, theta 1e4: wavelengths 6.3, 20, 63, 199, ... against the bands' limits
    # 64/4 = 16 and 64/1 = 64, so the high, medium and low bands are all used; positions run
    # past original_max_position_embeddings 64
    make_opts+=(--rope-scaling llama3:8:1:4:64 --max-position 256)
    lengths="9 65 130 201 250"
    batch=2
    seed=4
    ;;
  linear_rope_scaling)
    make_opts+=(--rope-scaling linear:4 --max-position 512)
    lengths="3 40 97 17 64"
    padding=left
    seed=5
    ;;
  tied_embeddings)
    make_opts+=(--tied)
    seed=6
    ;;
  sharded_checkpoint)
    make_opts+=(--shards 3)
    seed=7
    ;;
  bf16_checkpoint)
    make_opts+=(--dtype bf16)
    dtype=bf16
    seed=8
    ;;
  fp16_compute)
    dtype=fp16
    seed=9
    ;;
  lora_adapter)
    lora=q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj
    lora_opts=(--lora-r 4 --lora-alpha 8)
    seed=10
    ;;
  qwen3_lora_left_padding)
    arch=qwen3
    make_opts+=(--head-dim 24)  # != 16, and its scale 24^-0.5 is not a power of two
    lora=q_proj,v_proj,o_proj,down_proj
    lora_opts=(--lora-r 8 --lora-alpha 16)
    padding=left
    batch=5
    seed=11
    ;;
  *)
    echo "unknown case '$case_name'; cases: $(echo $cases)" >&2
    exit 2
    ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/forward_parity_${case_name}.XXXXXX") || fail "mktemp failed"
if [ "${NTKS_KEEP_TMP:-0}" = 1 ]; then
  echo "keeping $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi

run() {
  echo "+ $*"
  "$@"
}

make_cmd=("$bin" make-model --arch "$arch" --out "$tmp/model" "${make_opts[@]}" --kv-heads "$kv_heads"
          --seed "$seed")
adapter_args=()
if [ -n "$lora" ]; then
  make_cmd+=(--lora-out "$tmp/adapter" --lora-targets "$lora" "${lora_opts[@]}")
  adapter_args=(--adapter "$tmp/adapter")
fi
run "${make_cmd[@]}" || fail "make-model failed"

# Deterministic ids in [0, vocab): a fixed LCG, one sample per length
"$py" - "$tmp/ids.jsonl" "$vocab" "$seed" $lengths <<'EOF' || fail "writing the ids failed"
import json, sys
path, vocab, seed, lengths = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
state = 12345 + 977 * seed
with open(path, "w") as f:
    for n in lengths:
        ids = []
        for _ in range(int(n)):
            state = (1103515245 * state + 12345) % 2**31
            ids.append((state >> 8) % vocab)
        f.write(json.dumps({"ids": ids}) + "\n")
EOF
echo "ids: $(wc -l < "$tmp/ids.jsonl") samples of lengths $lengths"

run "$bin" forward --model "$tmp/model" "${adapter_args[@]}" --input "$tmp/ids.jsonl" \
  --out "$tmp/out.h5" --logits --dtype "$dtype" --padding "$padding" --batch-size "$batch" \
  || fail "ntk-select forward failed"

run "$py" "$reference" --model "$tmp/model" "${adapter_args[@]}" --input "$tmp/ids.jsonl" \
  --dtype "$dtype" --check "$tmp/out.h5" --logits \
  || fail "forward output differs from the reference (NTKS_KEEP_TMP=1 keeps the files)"
echo "PASS [$case_name]"
