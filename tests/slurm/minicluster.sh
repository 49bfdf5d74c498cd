# A one-node Slurm cluster in a temporary directory, for tests (sourced).
#   minicluster_start DIR   munged, slurmctld and slurmd of this machine,
#                           all files under DIR; returns once the node is idle
#   minicluster_stop        cancels every job, ends the daemons it started
# Needs root (slurmd starts job steps as their users). SLURM_CONF points the
# client commands (sbatch, squeue, scontrol, srun) at the cluster.

MINICLUSTER_PIDS=()

minicluster_start() {
  local dir=$1 host
  host=$(hostname -s)
  mkdir -p "$dir"/{state,spool,log}
  # A key of our own: the machine's /etc/munge/munge.key may be missing or
  # belong to another cluster.
  head -c 1024 /dev/urandom >"$dir/munge.key"
  chmod 400 "$dir/munge.key"
  : >"$dir/plugstack.conf"  # not the machine's SPANK plugins
  # Ports of our own, so that a Slurm already running here is not disturbed.
  local port=$(( 20000 + ($$ % 5000) * 2 ))
  cat >"$dir/slurm.conf" <<CONF
ClusterName=ntkstest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
PlugStackConfig=$dir/plugstack.conf
# No cgroups: process tracking by parent pid, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to scontrol for the test's checks; a job whose
# dependency can no longer be met is cancelled rather than left pending.
MinJobAge=600
DependencyParameters=kill_invalid_depend
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  munged -F -f --key-file="$dir/munge.key" --socket="$dir/munge.socket" --pid-file="$dir/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed" >"$dir/log/munged.out" 2>&1 &
  MINICLUSTER_PIDS+=($!)
  local i
  for i in $(seq 50); do [[ -S "$dir/munge.socket" ]] && break; sleep 0.1; done
  slurmctld -D -i >"$dir/log/slurmctld.out" 2>&1 &
  MINICLUSTER_PIDS+=($!)
  slurmd -D >"$dir/log/slurmd.out" 2>&1 &
  MINICLUSTER_PIDS+=($!)
  for i in $(seq 60); do
    [[ "$(sinfo -h -N -o %t 2>/dev/null)" == idle ]] && return 0
    sleep 0.5
  done
  echo "minicluster: the node did not become idle in 30 s" >&2
  tail -n 20 "$dir"/log/* >&2
  return 1
}

minicluster_stop() {
  if [[ -n "${SLURM_CONF:-}" ]] && (( ${#MINICLUSTER_PIDS[@]} > 0 )); then
    scancel --quiet --user=root 2>/dev/null || true
    local i
    for i in $(seq 20); do [[ -z "$(squeue -h 2>/dev/null)" ]] && break; sleep 0.5; done
  fi
  local pid
  for pid in "${MINICLUSTER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${MINICLUSTER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  MINICLUSTER_PIDS=()
}
