#!/usr/bin/env bash
# The Slurm scripts (cluster/slurm/) on a real one-node Slurm cluster started
# here: submit.sh chains the warm-up job (2 ranks), the embedding array (2 tasks) and
# the selection job (preselect, grads, score, select under srun on 2 ranks).
# Every job runs with NTKS_TEST_TERM_AFTER_BLOCKS, which makes ntk-select send
# itself SIGTERM at its 3rd block boundary, as Slurm's --signal notice would:
# the stage stops with status 75, the job requeues itself, resumes from its
# .partial files and finishes. The selection must equal a plain
# `mpirun -n 2 ntk-select run` of the same config, and the array's embedding shards must
# hold the same rows as the plain run's.
#
#   tests/slurm/run_slurm_test.sh NTK_SELECT_BINARY
# Exit 77 (ctest: skipped) without Slurm/munge or without root.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

for c in munged slurmctld slurmd sbatch squeue sinfo scontrol srun scancel; do
  command -v "$c" >/dev/null || { echo "SKIP: $c not installed (apt-get install slurm-wlm munge)"; exit 77; }
done
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (slurmd starts the jobs' processes)"; exit 77; }

tmp=$(mktemp -d /tmp/ntks-slurm.XXXXXX)
source "$here/minicluster.sh"
cleanup() {
  minicluster_stop
  [[ "${NTKS_KEEP_SLURM_TEST:-0}" == 1 ]] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start=$SECONDS
say() { echo "== [$((SECONDS - start)) s] $*"; }
fail() {
  echo "FAIL: $*" >&2
  for f in "$tmp"/logs/*; do echo "---- $f"; cat "$f"; done >&2
  tail -n 30 "$tmp"/cluster/log/slurmctld.log >&2 || true
  exit 1
}

# Inputs: a tiny model with the byte tokenizer, a domain set and 44 candidates.
say "inputs in $tmp"
source "$root/tests/scripts/tiny_run_inputs.sh"
tiny_run_inputs "$bin" "$tmp" 8 "$tmp/run"
for i in $(seq 0 43); do
  echo "{\"instruction\": \"q$i$(printf '%*s' $((i % 5)) '' | tr ' ' '?')\", \"output\": \"a$i $([[ $((i % 3)) == 0 ]] && echo no || echo mg)\", \"id\": \"c$i\"}"
done >"$tmp/candidates.jsonl"

say "reference: plain mpirun -n 2 ntk-select run"
OMP_NUM_THREADS=1 timeout 120 "$root/launch/ntks-mpirun" -n 2 -t 1 -- "$bin" run --config "$tmp/config.yaml" \
  --set run.dir="$tmp/reference" >"$tmp/reference.log" 2>&1 || { cat "$tmp/reference.log"; fail "the reference run failed"; }

say "starting munged, slurmctld and slurmd"
minicluster_start "$tmp/cluster" || fail "the cluster did not start"
srun --mpi=list 2>&1 | grep -qw pmix || fail "this Slurm has no PMIx plugin (srun --mpi=list)"

say "submitting the chain"
export NTKS_TEST_TERM_AFTER_BLOCKS=3
ids=$(cd "$tmp" && "$root/cluster/slurm/submit.sh" --config "$tmp/config.yaml" --shards 2 --warmup-ranks 2 --select-ranks 2 \
  --logs "$tmp/logs" --bin "$bin" -- --cpus-per-task=1) || fail "submit.sh failed"
echo "$ids"
select_id=$(awk '$1 == "select" { print $2 }' <<<"$ids")
[[ "$select_id" =~ ^[0-9]+$ ]] || fail "submit.sh printed no select job id"

# Wait for the selection job. A job that requeued itself waits ~2 minutes
# before it may start again (Slurm's begin-time hold after a requeue, which
# lets the previous run's processes end): the test lets it start after 5 s,
# once that run has ended (lifted at once, the new run raced the old one's
# clean-up here and the array task was taken as done).
declare -A held_since
deadline=$((SECONDS + 200))
while :; do
  state=$(scontrol show job -o "$select_id" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
  case "$state" in
    COMPLETED) break ;;
    PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|REQUEUE_HOLD|REQUEUE_FED) ;;
    *) fail "the selection job ended $state" ;;
  esac
  (( SECONDS < deadline )) || fail "the jobs did not finish in 200 s"
  for held in $(squeue -h -t PENDING -o '%i %r' | awk '$2 == "BeginTime" { print $1 }'); do
    : "${held_since[$held]:=$SECONDS}"
    if (( SECONDS - held_since[$held] >= 5 )) && ! scontrol show job -o "$held" | grep -q COMPLETING; then
      scontrol update JobId="$held" StartTime=now 2>/dev/null || true
      unset "held_since[$held]"
    fi
  done
  sleep 1
done
say "all jobs done"

grep -H 'requeueing job' "$tmp"/logs/* | sed "s|^$tmp/logs/||" || true
# Each array task (about 6 blocks) stops after its 3rd block, and so does rank
# 0 of the selection job's grads (2 ranks under srun: its stop ends the other
# rank through MPI_Abort, and srun must still report status 75).
for log in "$tmp"/logs/ntks-embed-*_0.out "$tmp"/logs/ntks-embed-*_1.out "$tmp"/logs/ntks-select-*.out; do
  grep -q 'requeueing job' "$log" || fail "$(basename "$log"): no stop and requeue"
done
say "$(cat "$tmp"/logs/* | grep -c 'requeueing job') stops at a block boundary, each requeued and resumed"

cmp "$tmp/reference/select/selected_ids.txt" "$tmp/run/select/selected_ids.txt" ||
  fail "selected_ids.txt differs from the plain run's"
cmp "$tmp/reference/select/selected.jsonl" "$tmp/run/select/selected.jsonl" ||
  fail "selected.jsonl differs from the plain run's"
/usr/bin/python3 - "$tmp/reference/embed/candidates.json" "$tmp/run/embed/candidates.json" <<'PY' || fail "embedding rows differ"
import json, os, sys
import h5py, numpy as np
def rows(index):
    j = json.load(open(index))
    parts = [h5py.File(os.path.join(os.path.dirname(index), s["file"]), "r") for s in j["shards"]]
    return (np.concatenate([p["features"][...] for p in parts]), [i for p in parts for i in p["ids"].asstr()[...]],
            len(parts))
(a, ia, na), (b, ib, nb) = rows(sys.argv[1]), rows(sys.argv[2])
assert (na, nb) == (2, 2), (na, nb)  # mpirun ranks vs array tasks
assert ia == ib and len(ia) == 44, (len(ia), len(ib))
assert np.array_equal(a, b), np.abs(a - b).max()
print(f"embeddings: {len(ia)} rows, {na} mpirun shards vs {nb} array-task shards, identical")
PY
echo "selected: $(tr '\n' ' ' <"$tmp/run/select/selected_ids.txt")"
say "PASS: the Slurm chain's selection equals the plain run's"
