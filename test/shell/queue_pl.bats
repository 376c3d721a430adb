#!/usr/bin/env bats
# utils/queue.pl against a fake Grid Engine (helpers/fake_sge: qsub runs the job script
# locally, honouring -t a:b and -tc). This checks queue.pl's job script, its option
# mapping and its sync-file protocol; queue_gridengine.bats runs a real Grid Engine.

load helpers/common

setup() {
  make_tmp_dir
  export FAKE_SGE_DIR=${TMP_DIR}/sge
  mkdir -p "${FAKE_SGE_DIR}"
  export PATH=${BATS_TEST_DIRNAME}/helpers/fake_sge:${PATH}
}

teardown() {
  local f
  for f in "${FAKE_SGE_DIR}"/job.*.pid; do
    [ -f "${f}" ] && kill -KILL -- "-$(cat "${f}")" 2> /dev/null || true
  done
  remove_tmp_dir
}

@test "JOB=1:4 submits one array job; the four logs have header and footer" {
  run "${UTILS}/queue.pl" JOB=1:4 exp/log/t.JOB.log echo task JOB
  assert_status 0
  [ "$(cat "${FAKE_SGE_DIR}/qsub.args")" = \
    "-v PATH -cwd -S /bin/bash -j y -o exp/log/q/t.log -t 1:4 exp/log/q/t.sh" ]
  for i in 1 2 3 4; do
    log=exp/log/t.${i}.log
    [ "$(sed -n 1p "${log}")" = "# echo task ${i}" ]
    grep -q "^# Started at " "${log}"
    grep -q "^# Running on $(hostname)" "${log}"
    grep -qx "task ${i}" "${log}"
    [[ "$(tail -n 2 "${log}" | head -n 1)" == "# Accounting: time="*" threads=1" ]]
    [[ "$(tail -n 1 "${log}")" == "# Ended (code 0) at "* ]]
  done
  # the sync files are cleaned up
  [ -z "$(ls exp/log/q/sync)" ]
}

@test "a single job (JOB=3) is submitted without -t" {
  run "${UTILS}/queue.pl" JOB=3 log/s.JOB.log echo JOB
  assert_status 0
  [[ "$(cat "${FAKE_SGE_DIR}/qsub.args")" != *" -t "* ]]
  grep -qx 3 log/s.3.log
}

@test "a failing task gives non-zero, the K / N message and the tail of its log" {
  run "${UTILS}/queue.pl" JOB=1:3 log/f.JOB.log bash -c 'echo out JOB; exit $((JOB == 2 ? 7 : 0))'
  assert_status 1
  assert_output_contains "queue.pl: 1 / 3 failed, log is in log/f.*.log"
  assert_output_contains "failed tasks: 2 (code 7)"
  assert_output_contains "  out 2"
}

@test "exit code 137 is reported as killed (out of memory?)" {
  run "${UTILS}/queue.pl" log/oom.log bash -c 'kill -9 $$'
  assert_status 1
  assert_output_contains "queue.pl: job failed (code 137: killed with SIGKILL (out of memory?"
  grep -q "^# Job killed with SIGKILL (out of memory?" log/oom.log
}

@test "options are mapped by conf/queue.conf; --max-jobs-run becomes -tc" {
  mkdir conf
  cp "${REPO_ROOT}/egs/TEMPLATE/sqa1/conf/queue.conf" conf/
  run "${UTILS}/queue.pl" --mem 2G --num-threads=2 --time 1:00:00 --name feats --gpu 0 \
    --max-jobs-run 1 -q all.q JOB=1:3 log/m.JOB.log \
    bash -c 'a=$(date +%s.%N); sleep 0.2; echo "$a $(date +%s.%N)" > span.JOB'
  assert_status 0
  args=$(cat "${FAKE_SGE_DIR}/qsub.args")
  [ "${args}" = "-v PATH -cwd -S /bin/bash -j y -l mem_free=2G -N feats -pe smp 2 -l h_rt=1:00:00 -q all.q -o log/q/m.log -t 1:3 -tc 1 log/q/m.sh" ]
  [ "$(max_overlap span.*)" -eq 1 ]
  [[ "$(tail -n 2 log/m.1.log | head -n 1)" == *" threads=2" ]]
}

@test "an option the config does not describe is an error naming it" {
  printf 'command qsub -cwd\noption mem=* -l mem_free=$0\n' > my.conf
  run "${UTILS}/queue.pl" --config my.conf --gpu 1 log/g.log true
  assert_status 1
  assert_output_contains "queue.pl: command line option --gpu 1 is not described in my.conf"
  [ ! -e "${FAKE_SGE_DIR}/qsub.args" ]
  printf 'command qsub\nrequest mem\n' > bad.conf
  run "${UTILS}/queue.pl" --config bad.conf log/g.log true
  assert_status 1
  assert_output_contains "queue.pl: bad.conf:2: cannot parse 'request mem'"
}

@test "jobs run in the submit directory with ./path.sh sourced" {
  printf 'export FROM_PATH_SH=yes\n' > path.sh
  run "${UTILS}/queue.pl" log/p.log bash -c 'echo "dir=$PWD path_sh=$FROM_PATH_SH"'
  assert_status 0
  grep -qx "dir=${TMP_DIR} path_sh=yes" log/p.log
}

@test "a job that vanishes from the queue without finishing is reported" {
  "${UTILS}/queue.pl" JOB=1:2 log/v.JOB.log bash -c 'echo $$ > started.JOB; sleep 30' \
    2> err.txt &
  submitter=$!
  wait_for_files 50 started.1 started.2
  # a node failure: the tasks die without writing their footers or sync files
  kill -KILL -- "-$(cat "${FAKE_SGE_DIR}/job.100.pid")"
  wait_status "${submitter}"
  [ "${status}" -eq 1 ]
  output=$(cat err.txt)
  assert_output_contains "queue.pl: 2 / 2 failed, log is in log/v.*.log"
  assert_output_contains "job 100 vanished from the queue before the task finished"
}

@test "SIGTERM cancels the job with qdel" {
  "${UTILS}/queue.pl" JOB=1:2 log/c.JOB.log bash -c 'echo $$ > started.JOB; sleep 30' \
    2> err.txt &
  submitter=$!
  wait_for_files 50 started.1 started.2
  kill -TERM "${submitter}"
  wait_status "${submitter}"
  [ "${status}" -eq 143 ]
  [ "$(cat "${FAKE_SGE_DIR}/qdel.args")" = 100 ]
  output=$(cat err.txt)
  assert_output_contains "queue.pl: caught SIGTERM, cancelled job 100"
  wait_process_gone "$(cat started.1)"
  wait_process_gone "$(cat started.2)"
}

@test "a failed submission is reported with qsub's message" {
  mkdir bin
  printf '#!/bin/sh\necho "Unable to run job: unknown resource bogus" >&2\nexit 1\n' > bin/qsub
  chmod +x bin/qsub
  PATH=${TMP_DIR}/bin:${PATH} run "${UTILS}/queue.pl" -l bogus=1 JOB=1:2 log/x.JOB.log true
  assert_status 1
  assert_output_contains "queue.pl: submission failed (exit code 1): qsub -v PATH"
  assert_output_contains "Unable to run job: unknown resource bogus"
}
