#!/usr/bin/env bash
# launch/ntks-mpirun and launch/ntks-srun: --help names every option the
# script parses, --dry-run prints the launcher command built from the
# options and the (Slurm) environment, and bad options are refused (status 2).
# Needs neither Slurm nor a GPU: srun is replaced by a stub.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
failures=0
check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then echo "ok: $1"; else
    echo "FAIL: $1"; echo "  expected: $2"; echo "  actual:   $3"; failures=$((failures + 1)); fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# An srun that lists the MPI plugins of a PMI-2-only build and fails on anything else.
cat >"$tmp/srun" <<'SH'
#!/bin/sh
[ "$1" = "--mpi=list" ] && { printf 'MPI plugin types are...\n\tnone\n\tpmi2\n'; exit 0; }
exit 99
SH
chmod +x "$tmp/srun"

for w in ntks-mpirun ntks-srun; do
  help=$("$root/launch/$w" --help)
  # every option of the case statement, short and long, is explained
  opts=$(grep -oE '^ +(-[a-zA-Z]\|)?--[a-z-]+\)' "$root/launch/$w" | tr -d ' )' | tr '|' ' ')
  check "$w parses at least 5 options" yes "$( (( $(wc -w <<<"$opts") >= 5 )) && echo yes || echo no)"
  for opt in $opts; do
    grep -qE -- "(^|[ ,])$opt([ ,=]|$)" <<<"$help" || { echo "FAIL: $w --help does not explain $opt"; failures=$((failures + 1)); }
  done
  set +e
  "$root/launch/$w" --bogus -- true 2>/dev/null; check "$w refuses an unknown option" 2 $?
  "$root/launch/$w" --dry-run 2>/dev/null; check "$w wants a command" 2 $?
  "$root/launch/$w" -n zero --dry-run -- true 2>/dev/null; check "$w refuses a bad rank count" 2 $?
  set -e
done

check "ntks-mpirun dry run" \
  "mpirun --oversubscribe --bind-to none -np 2 -x OMP_NUM_THREADS=3 ntk-select selfcheck" \
  "$(env -u NTKS_PROGRESS_INTERVAL -u NCCL_DEBUG -u NCCL_SOCKET_IFNAME -u NCCL_IB_HCA -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
       "$root/launch/ntks-mpirun" -n 2 -t 3 --dry-run -- ntk-select selfcheck)"

# Inside an allocation: ranks and threads from Slurm, the plugin from srun --mpi=list.
slurm_env=(SLURM_NTASKS=4 SLURM_CPUS_PER_TASK=5 SLURM_JOB_NUM_NODES=2)
check "ntks-srun dry run in an allocation" \
  "env OMP_NUM_THREADS=5 NCCL_DEBUG=WARN
$tmp/srun --mpi=pmi2 --nodes=2 --ntasks=4 --cpus-per-task=5 --kill-on-bad-exit=1 ntk-select embed --set run.dir=$tmp/run" \
  "$(env -u NCCL_DEBUG -u SLURM_MPI_TYPE "${slurm_env[@]}" "$root/launch/ntks-srun" --srun "$tmp/srun" \
       --run-dir "$tmp/run" --dry-run -- ntk-select embed)"
check "a dry run creates no run directory" no "$([[ -e $tmp/run ]] && echo yes || echo no)"
# Options and the caller's environment win over the allocation's values.
check "ntks-srun options override the allocation" \
  "env OMP_NUM_THREADS=2 NCCL_DEBUG=INFO
$tmp/srun --mpi=pmix --nodes=2 --ntasks=6 --cpus-per-task=2 --kill-on-bad-exit=1 x" \
  "$(env NCCL_DEBUG=INFO "${slurm_env[@]}" "$root/launch/ntks-srun" --srun "$tmp/srun" -n 6 -t 2 --mpi pmix \
       --dry-run -- x)"
# Outside an allocation, without GPUs: one rank, the node's CPUs.
check "ntks-srun dry run outside an allocation" \
  "env OMP_NUM_THREADS=$(nproc) NCCL_DEBUG=WARN
$tmp/srun --mpi=pmi2 --nodes=1 --ntasks=1 --cpus-per-task=$(nproc) --kill-on-bad-exit=1 x" \
  "$(env -u NCCL_DEBUG -u SLURM_MPI_TYPE -u SLURM_NTASKS -u SLURM_CPUS_PER_TASK -u SLURM_JOB_NUM_NODES \
       -u SLURM_CPUS_ON_NODE PATH=/usr/bin:/bin "$root/launch/ntks-srun" --srun "$tmp/srun" --dry-run -- x)"

(( failures == 0 )) || { echo "$failures check(s) failed"; exit 1; }
echo "all checks passed"
