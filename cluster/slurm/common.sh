# Shared by the batch scripts in cluster/slurm/ (sourced, not run). submit.sh
# exports what they need:
#   NTKS_ROOT    the repository (launch/ntks-srun, this file)
#   NTKS_BIN     the ntk-select binary
#   NTKS_CONFIG  the run's config file (run.dir, model, data, stage settings)

: "${NTKS_ROOT:?set by cluster/slurm/submit.sh}" "${NTKS_BIN:?set by cluster/slurm/submit.sh}"
: "${NTKS_CONFIG:?set by cluster/slurm/submit.sh}"

# Exit status of ntk-select stopped by SIGTERM/SIGINT after committing its
# last whole block (include/ntks/util/stop.h).
readonly NTKS_STOPPED=75

# ntks_step ARGS...: `ntk-select ARGS --config $NTKS_CONFIG` as one srun step
# over the job's tasks (launch/ntks-srun: threads, MPI plugin, NCCL defaults).
# Ends the batch script with the step's status when it fails. Status 75 means
# Slurm's notice (sbatch --signal=TERM@120: time limit or preemption near)
# stopped it at a block boundary: the job requeues itself, and the requeued
# run continues from the .partial files. A job that is no longer RUNNING (it
# was cancelled: scancel also sends SIGTERM) is left alone.
ntks_step() {
  local rc=0
  echo "== $(date -u '+%F %T') ntk-select $* (job ${SLURM_JOB_ID:-?}, ${SLURM_NTASKS:-1} task(s))"
  "$NTKS_ROOT/launch/ntks-srun" -- "$NTKS_BIN" "$@" --config "$NTKS_CONFIG" || rc=$?
  if (( rc == NTKS_STOPPED )); then
    # This job, or this task of an array: the first task of an array runs
    # with SLURM_JOB_ID equal to the array's id, which names every task.
    local job=$SLURM_JOB_ID state
    [[ -n "${SLURM_ARRAY_TASK_ID:-}" ]] && job=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
    state=$(scontrol show job -o "$job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1 || true)
    if [[ "$state" == JobState=RUNNING ]]; then
      echo "== stopped at a block boundary: requeueing job $job to continue from there"
      scontrol requeue "$job"
    else
      echo "== stopped at a block boundary; job $job is ${state#JobState=}: not requeued"
    fi
    exit "$rc"
  fi
  if (( rc != 0 )); then
    echo "== ntk-select $1 failed with status $rc" >&2
    exit "$rc"
  fi
}

# run.dir of the config, as ntk-select resolves it.
ntks_run_dir() {
  "$NTKS_BIN" config --dump --no-comments --config "$NTKS_CONFIG" --log-level error |
    awk '/^run:/ { in_run = 1; next } /^[^ ]/ { in_run = 0 } in_run && $1 == "dir:" { gsub(/"/, "", $2); print $2; exit }'
}
