#!/usr/bin/env bash
# Starts or stops a single-host Grid Engine cluster (Debian gridengine packages, see
# tools/installers/install_gridengine.sh): qmaster and execd on this host, one queue
# all.q with one slot per CPU, a parallel environment "smp", jobs allowed for root,
# scheduling every second.
#
#   gridengine_cluster.sh start   # configures (idempotent), starts, waits until usable;
#                                 # prints the exports clients need
#   gridengine_cluster.sh stop    # stops qmaster and execd by their pid files
#
# Grid Engine keeps its state in /var/lib/gridengine and /var/spool/gridengine (system
# wide), so this needs root.
set -euo pipefail

export SGE_ROOT=/var/lib/gridengine
export SGE_CELL=default
spool=/var/spool/gridengine
common=${SGE_ROOT}/${SGE_CELL}/common

log() {
  echo "$(date '+%Y-%m-%dT%H:%M:%S') (gridengine_cluster.sh) $*" >&2
}

die() {
  log "error: $*"
  exit 1
}

# Runs qconf's interactive editor non-interactively: $1 is a sed script applied to
# the object that `qconf $2 $3` opens.
qconf_edit() {
  local script=$1
  shift
  local editor
  editor=$(mktemp)
  # shellcheck disable=SC2016  # "$1" belongs to the generated editor script
  printf '#!/bin/sh\nsed -i -e %q "$1"\n' "${script}" > "${editor}"
  chmod +x "${editor}"
  EDITOR=${editor} qconf "$@" > /dev/null 2>&1
  rm -f "${editor}"
}

wait_for() {
  local what=$1 _
  shift
  for _ in $(seq 1 120); do
    if "$@" > /dev/null 2>&1; then
      return 0
    fi
    sleep 0.25
  done
  die "timed out waiting for ${what}"
}

qmaster_pid_file=${spool}/qmaster/qmaster.pid

configure() {
  local host=$1 tmp
  tmp=$(mktemp -d)
  # root may run jobs; execd reports load every 2 s so a new queue is usable quickly
  qconf_edit 's/^min_uid .*/min_uid 0/;s/^min_gid .*/min_gid 0/;s/^load_report_time .*/load_report_time 00:00:02/' \
    -mconf global
  qconf_edit 's/^schedule_interval .*/schedule_interval 0:0:1/;s/^flush_submit_sec .*/flush_submit_sec 1/;s/^flush_finish_sec .*/flush_finish_sec 1/' -msconf
  qconf -ss 2> /dev/null | grep -qx "${host}" || qconf -as "${host}" > /dev/null 2>&1
  if ! qconf -sel 2> /dev/null | grep -qx "${host}"; then
    printf 'hostname %s\nload_scaling NONE\ncomplex_values NONE\nuser_lists NONE\nxuser_lists NONE\nprojects NONE\nxprojects NONE\nusage_scaling NONE\nreport_variables NONE\n' \
      "${host}" > "${tmp}/exec"
    qconf -Ae "${tmp}/exec" > /dev/null 2>&1
  fi
  if ! qconf -spl 2> /dev/null | grep -qx smp; then
    # shellcheck disable=SC2016  # $pe_slots is Grid Engine syntax, not a shell variable
    printf 'pe_name smp\nslots 9999\nuser_lists NONE\nxuser_lists NONE\nstart_proc_args NONE\nstop_proc_args NONE\nallocation_rule $pe_slots\ncontrol_slaves FALSE\njob_is_first_task TRUE\nurgency_slots min\naccounting_summary FALSE\nqsort_args NONE\n' \
      > "${tmp}/pe"
    qconf -Ap "${tmp}/pe" > /dev/null 2>&1
  fi
  if ! qconf -sql 2> /dev/null | grep -qx all.q; then
    qconf -sq | sed -e 's/^qname .*/qname all.q/' -e "s/^hostlist .*/hostlist ${host}/" \
      -e "s/^slots .*/slots $(nproc)/" -e 's/^pe_list .*/pe_list smp/' \
      -e 's|^shell .*|shell /bin/bash|' -e 's/^load_thresholds .*/load_thresholds NONE/' \
      > "${tmp}/queue"
    qconf -Aq "${tmp}/queue" > /dev/null 2>&1
  fi
  qconf_edit 's/^load_thresholds .*/load_thresholds NONE/' -mq all.q
  rm -rf "${tmp}"
}

queue_ready() {
  # the queue instance exists, reports a load and is in no state (alarm, error, unknown)
  timeout 5 qstat -f -q all.q 2> /dev/null | awk '$1 ~ /^all\.q@/ { found = 1; ok = (NF == 5) } END { exit !(found && ok) }'
}

start() {
  [ "$(id -u)" -eq 0 ] || die "Grid Engine's test cluster needs root"
  for f in /usr/sbin/sge_qmaster /usr/sbin/sge_execd "${common}/act_qmaster"; do
    [ -e "${f}" ] || die "${f} is missing (run tools/installers/install_gridengine.sh)"
  done
  local host hname ip
  # qmaster compares the name a client gives itself with the name its address resolves
  # back to (e.g. "vm" -> 127.0.0.1 -> "localhost"); make them aliases of one name.
  hname=$(hostname)
  ip=$(/usr/lib/gridengine/gethostbyname "${hname}" | awk '/^Host Address/ { print $NF; exit }')
  [ -n "${ip}" ] || die "cannot resolve this host's name '${hname}'"
  host=$(/usr/lib/gridengine/gethostbyaddr -name "${ip}")
  [ -n "${host}" ] || die "cannot resolve ${ip} back to a host name"
  if [ "${host}" != "${hname}" ]; then
    echo "${host} ${hname}" > "${common}/host_aliases"
  else
    rm -f "${common}/host_aliases"
  fi
  echo "${host}" > "${common}/act_qmaster"
  # Daemons left over from an earlier run would keep stale settings: restart them.
  stop
  /usr/sbin/sge_qmaster
  wait_for "qmaster" timeout 5 qconf -sh
  configure "${host}"
  mkdir -p "${spool}/execd"
  chown sgeadmin: "${spool}/execd"
  /usr/sbin/sge_execd
  wait_for "the queue all.q@${host}" queue_ready
  log "Grid Engine is up (queue all.q@${host})"
  echo "export SGE_ROOT=${SGE_ROOT} SGE_CELL=${SGE_CELL}"
}

stop_pid_file() {
  local pid_file=$1 pid _
  [ -f "${pid_file}" ] || return 0
  pid=$(cat "${pid_file}")
  kill "${pid}" 2> /dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "${pid}" 2> /dev/null || return 0
    if [ "$(ps -o stat= -p "${pid}" 2> /dev/null | cut -c1)" = Z ]; then return 0; fi
    sleep 0.1
  done
  log "pid ${pid} (${pid_file}) did not stop after SIGTERM; sending SIGKILL"
  kill -9 "${pid}" 2> /dev/null || true
}

stop() {
  local pid_file
  for pid_file in "${spool}"/execd/*/execd.pid; do
    stop_pid_file "${pid_file}"
  done
  stop_pid_file "${qmaster_pid_file}"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "Usage: $0 start|stop" >&2
    exit 1
    ;;
esac
