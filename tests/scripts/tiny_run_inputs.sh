# Sourced by the script tests that run whole selections (cron_refresh.sh,
# tests/slurm/run_slurm_test.sh): the tiny model and settings of the C++ run
# tests (tests/unit/run_fixture.h) as files.
#
# tiny_run_inputs BIN DIR DOMAIN_SAMPLES RUN_DIR: writes DIR/model (random
# Qwen3-shaped, seed 5), DIR/tokenizer.json (every byte a token),
# DIR/domain.jsonl and DIR/config.yaml (run.dir RUN_DIR), which reads
# DIR/candidates.jsonl: the caller writes that one.
tiny_run_inputs() {
  local bin=$1 dir=$2 n=$3 run=$4 repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  "$bin" make-model --arch qwen3 --out "$dir/model" --vocab 272 --hidden 32 --intermediate 48 --layers 2 \
    --heads 4 --kv-heads 2 --head-dim 8 --seed 5 >"$dir/make-model.log" 2>&1
  /usr/bin/python3 "$repo/tests/slurm/byte_tokenizer.py" "$dir/tokenizer.json"
  for i in $(seq 0 $((n - 1))); do echo "{\"prompt\": \"dose $i\", \"response\": \"$((10 * i + 5)) mg\"}"; done \
    >"$dir/domain.jsonl"
  cat >"$dir/config.yaml" <<YAML
run: {dir: $run, seed: 7}
model: {path: $dir/model, tokenizer: $dir/tokenizer.json, dtype: fp32, device: cpu, max_seq_len: 64}
lora: {r: 4, alpha: 8, dropout: 0}
data: {domain: $dir/domain.jsonl, candidates: [$dir/candidates.jsonl]}
warmup: {epochs: 1, batch_size: 2, grad_accum: 1, lr: 0.01}
preselect: {k: 5, size: 12}
grads: {dim: 32, batch_size: 4}
select: {size: 6}
store: {block_rows: 4}
YAML
}
