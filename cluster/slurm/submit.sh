#!/usr/bin/env bash
# Submits the whole selection as a chain of Slurm jobs and prints their ids:
#   1. warmup.sbatch       LoRA warm-up and the domain embeddings (once)
#   2. embed-array.sbatch  candidate embeddings, one array task per shard,
#                          after 1 (afterok)
#   3. select.sbatch       preselect, grads, score, select over several ranks,
#                          after every task of 2 (afterok)
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: cluster/slurm/submit.sh --config FILE [options] [-- SBATCH_ARGS...]

Submits the three jobs of a selection (warm-up, the embedding array, the
selection) chained by --dependency=afterok, and prints one line per job:
"warmup <id>", "embed <array id>", "select <id>".

Options:
  -c, --config FILE     the run's config (run.dir, model, data, stages);
                        required. Relative paths in it are taken from the
                        directory submit.sh is run in (the jobs start there).
  -s, --shards N        array tasks of the embedding job (default 4); with R
                        tasks per array task there are N*R shards
      --warmup-ranks R  tasks (ranks) of the warm-up job (default 1)
      --embed-ranks R   tasks (ranks) of each array task (default 1)
      --select-ranks R  tasks (ranks) of the selection job (default 2)
      --logs DIR        where the jobs' logs go (default: slurm-logs); one
                        file per job or array task, appended to on requeue
      --bin PATH        ntk-select binary (default: build/src/ntk-select of
                        this repository)
      --after JOBID     make the warm-up job wait for JOBID too (afterok)
      --dry-run         print the sbatch commands instead of submitting
  -h, --help            this text

Every argument after -- goes to each sbatch call: partition, account, time
limit, GPUs, CPUs per task, e.g.
  cluster/slurm/submit.sh -c run.yaml -s 16 -- -p gpu --gpus-per-task=1 -c 8 -t 4:00:00
Each job is requeueable (--requeue) and gets SIGTERM 120 s before its time
limit or preemption (--signal=TERM@120; override with -- --signal=TERM@300).
ntk-select then commits the block in hand and exits with status 75; the
job script requeues the job, which continues from where it stopped. Pick
store.block_rows so that one block takes well under that notice.
TXT
}

die() { echo "submit.sh: $*" >&2; exit 2; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, got '$2'"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
config="" shards=4 warmup_ranks=1 embed_ranks=1 select_ranks=2 logs=slurm-logs bin="$root/build/src/ntk-select"
after="" dry=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -c|--config) config=${2-}; shift 2 || die "$1 needs a value" ;;
    -s|--shards) shards=${2-}; shift 2 || die "$1 needs a value" ;;
    --warmup-ranks) warmup_ranks=${2-}; shift 2 || die "$1 needs a value" ;;
    --embed-ranks) embed_ranks=${2-}; shift 2 || die "$1 needs a value" ;;
    --select-ranks) select_ranks=${2-}; shift 2 || die "$1 needs a value" ;;
    --logs) logs=${2-}; shift 2 || die "$1 needs a value" ;;
    --bin) bin=${2-}; shift 2 || die "$1 needs a value" ;;
    --after) after=${2-}; shift 2 || die "$1 needs a value" ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ -n "$config" ]] || die "--config is required (see --help)"
[[ -f "$config" ]] || die "--config $config: no such file"
for o in shards warmup_ranks embed_ranks select_ranks; do positive "--${o//_/-}" "${!o}"; done
[[ -x "$bin" ]] || die "--bin $bin: not an executable (build it: cmake --build build --target ntk-select)"
extra=("$@")

# What the batch scripts read (common.sh); absolute, since jobs may start
# on other nodes (same shared file system).
NTKS_BIN=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
NTKS_CONFIG=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
export NTKS_ROOT=$root NTKS_BIN NTKS_CONFIG NTKS_SHARDS=$shards
[[ $dry -eq 1 ]] || mkdir -p "$logs"

# submit NAME SCRIPT SBATCH_ARGS...: prints the job id (and the command to
# stderr under --dry-run). The caller's arguments come after ours: they win.
submit() {
  local cmd=(sbatch --parsable --export=ALL "${@:3}" "${extra[@]}" "$2")
  if [[ $dry -eq 1 ]]; then
    echo "${cmd[*]}" >&2
    echo "<$1>"
    return
  fi
  local id
  id=$("${cmd[@]}") || die "sbatch for the $1 job failed"
  echo "${id%%;*}"  # "id;cluster" on federated setups
}

dep=()
[[ -n "$after" ]] && dep=(--dependency="afterok:$after")
warmup=$(submit warmup "$here/warmup.sbatch" "${dep[@]}" --ntasks="$warmup_ranks" --output="$logs/%x-%j.out")
echo "warmup $warmup"
embed=$(submit embed "$here/embed-array.sbatch" --dependency="afterok:$warmup" --array="0-$((shards - 1))" \
  --ntasks="$embed_ranks" --output="$logs/%x-%A_%a.out")
echo "embed $embed"
# afterok on an array job waits for all of its tasks, each one successful.
select_id=$(submit select "$here/select.sbatch" --dependency="afterok:$embed" --ntasks="$select_ranks" \
  --output="$logs/%x-%j.out")
echo "select $select_id"
