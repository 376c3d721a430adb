#!/usr/bin/env bash
# Starts or stops a throw-away single-node Slurm cluster on localhost (munged,
# slurmctld, slurmd, all as root, all state in <dir>).
#
#   slurm_cluster.sh start <dir>   # writes <dir>/slurm.conf, starts the daemons, waits
#                                  # until the node is idle; prints 'export SLURM_CONF=...'
#   slurm_cluster.sh stop <dir>    # stops the daemons by the pids they wrote into <dir>
#
# Clients must use SLURM_CONF=<dir>/slurm.conf (it also names the munge socket).
# Needs root and the Debian packages slurmctld slurmd slurm-client munge
# (tools/installers/install_slurm.sh).
set -euo pipefail

log() {
  echo "$(date '+%Y-%m-%dT%H:%M:%S') (slurm_cluster.sh) $*" >&2
}

die() {
  log "error: $*"
  exit 1
}

usage() {
  echo "Usage: $0 start|stop <dir>" >&2
  exit 1
}

[ $# -eq 2 ] || usage
action=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)

# Prints a TCP port nobody listens on (so that a second test cluster, or a forgotten
# one, cannot answer in this cluster's place).
free_port() {
  perl -MIO::Socket::INET -e \
    'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die "$!\n"; print $s->sockport, "\n"'
}

write_conf() {
  local cpus ctld_port slurmd_port
  cpus=$(nproc)
  ctld_port=${SLURM_TEST_CTLD_PORT:-$(free_port)}
  slurmd_port=${SLURM_TEST_SLURMD_PORT:-$(free_port)}
  while [ "${slurmd_port}" = "${ctld_port}" ]; do slurmd_port=$(free_port); done
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/run" "$dir/munge"
  cat > "$dir/slurm.conf" <<EOF
# Single-node test cluster written by $0
ClusterName=speechberttest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=5
InactiveLimit=0
KillWait=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
  cp /etc/munge/munge.key "$dir/munge/munge.key"
  chmod 700 "$dir/munge"
  chmod 400 "$dir/munge/munge.key"
  # --force: the socket directory under /tmp fails munged's strict permission checks.
  munged --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
    --log-file="$dir/munge/munged.log" --pid-file="$dir/munge/munged.pid" \
    --seed-file="$dir/munge/munged.seed"
}

wait_idle() {
  local i state
  for i in $(seq 1 60); do
    state=$(sinfo -h -n localhost -o '%T' 2>/dev/null || true)
    if [ "$state" = idle ]; then
      log "node localhost is idle after ~$((i / 4))s"
      return 0
    fi
    sleep 0.25
  done
  log "node never became idle (state '${state}'); last lines of the daemon logs:"
  tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
  return 1
}

start() {
  for tool in munged slurmctld slurmd sinfo sbatch; do
    command -v "$tool" > /dev/null || die "$tool not found (run tools/installers/install_slurm.sh)"
  done
  [ "$(id -u)" -eq 0 ] || die "the test cluster runs its daemons as root"
  [ -r /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing (reinstall munge)"
  write_conf
  export SLURM_CONF=$dir/slurm.conf
  start_munge
  slurmctld -f "$dir/slurm.conf"
  slurmd -f "$dir/slurm.conf"
  wait_idle
  # make sure the daemons answering are this cluster's
  for pid_file in "$dir/run/slurmctld.pid" "$dir/run/slurmd.pid"; do
    if ! [ -s "${pid_file}" ] || ! kill -0 "$(cat "${pid_file}")" 2> /dev/null; then
      die "${pid_file##*/} is missing or its daemon died; see $dir/log/"
    fi
  done
  echo "export SLURM_CONF=$dir/slurm.conf"
}

stop_pid_file() {
  local pid_file=$1 pid i
  [ -f "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  [ -n "$pid" ] || return 0
  kill "$pid" 2> /dev/null || return 0
  for i in $(seq 1 40); do
    kill -0 "$pid" 2> /dev/null || return 0
    # a zombie (parent has not reaped it yet) has stopped as far as we care
    if [ "$(ps -o stat= -p "$pid" 2> /dev/null | cut -c1)" = Z ]; then return 0; fi
    sleep 0.1
  done
  log "pid $pid ($pid_file) did not stop after SIGTERM; sending SIGKILL"
  kill -9 "$pid" 2> /dev/null || true
}

stop() {
  stop_pid_file "$dir/run/slurmd.pid"
  stop_pid_file "$dir/run/slurmctld.pid"
  stop_pid_file "$dir/munge/munged.pid"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
