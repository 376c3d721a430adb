#!/usr/bin/env bats
# utils/queue.pl on a real single-host Grid Engine (Debian gridengine packages, started by
# helpers/gridengine_cluster.sh). Skipped when Grid Engine is not installed
# (tools/installers/install_gridengine.sh) or when not running as root.

load helpers/common

setup_file() {
  if [ ! -x /usr/sbin/sge_qmaster ] || ! command -v qsub > /dev/null; then
    skip "Grid Engine is not installed (tools/installers/install_gridengine.sh)"
  fi
  if [ "$(id -u)" -ne 0 ]; then
    skip "the test cluster needs root"
  fi
  "${BATS_TEST_DIRNAME}/helpers/gridengine_cluster.sh" start > /dev/null
  export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
}

teardown_file() {
  if [ -x /usr/sbin/sge_qmaster ] && [ "$(id -u)" -eq 0 ]; then
    "${BATS_TEST_DIRNAME}/helpers/gridengine_cluster.sh" stop
  fi
}

setup() {
  make_tmp_dir
}

teardown() {
  remove_tmp_dir
}

@test "JOB=1:3 runs as a Grid Engine array job; a failing task is reported" {
  run "${UTILS}/queue.pl" JOB=1:3 log/t.JOB.log bash -c 'echo task JOB; [ JOB -ne 2 ]'
  assert_status 1
  assert_output_contains "queue.pl: 1 / 3 failed, log is in log/t.*.log"
  assert_output_contains "failed tasks: 2 (code 1)"
  for i in 1 3; do
    grep -q "^# Grid Engine job [0-9]* task ${i}, queue all.q" "log/t.${i}.log"
    grep -qx "task ${i}" "log/t.${i}.log"
    [[ "$(tail -n 1 "log/t.${i}.log")" == "# Ended (code 0) at "* ]]
  done
}

@test "the template conf/queue.conf and --max-jobs-run 1 (-tc 1) work on a real qmaster" {
  mkdir conf
  cp "${REPO_ROOT}/egs/TEMPLATE/sqa1/conf/queue.conf" conf/
  run "${UTILS}/queue.pl" --max-jobs-run 1 --num-threads 1 --name sbtest --mem 100M \
    JOB=1:3 log/m.JOB.log \
    bash -c 'a=$(date +%s.%N); sleep 0.3; echo "$a $(date +%s.%N)" > span.JOB'
  assert_status 0
  grep -q -- "-N sbtest .* -t 1:3 -tc 1 " log/q/m.log
  [ "$(max_overlap span.*)" -eq 1 ]
}

@test "SIGTERM to queue.pl deletes the job (qdel)" {
  "${UTILS}/queue.pl" JOB=1:2 log/c.JOB.log bash -c 'echo $$ > started.JOB; sleep 60' 2> err.txt &
  submitter=$!
  wait_for_files 150 started.1 started.2
  job=$(sed -n 's/^# submitted as job \([0-9]*\):.*/\1/p' log/q/c.log)
  [ -n "${job}" ]
  qstat -j "${job}" > /dev/null
  kill -TERM "${submitter}"
  wait_status "${submitter}"
  [ "${status}" -eq 143 ]
  output=$(cat err.txt)
  assert_output_contains "queue.pl: caught SIGTERM, cancelled job ${job}"
  for _ in $(seq 1 50); do
    qstat -j "${job}" > /dev/null 2>&1 || break
    sleep 0.2
  done
  ! qstat -j "${job}" > /dev/null 2>&1
}
