#!/usr/bin/env bats
# utils/run.pl: JOB arrays, logs, failures, options, --pick, concurrency limits.

load helpers/common

setup() {
  make_tmp_dir
}

teardown() {
  remove_tmp_dir
}

@test "JOB=1:4 runs four tasks with JOB replaced in the log name and the command" {
  run "${UTILS}/run.pl" JOB=1:4 exp/log/hello.JOB.log echo task JOB of 4
  assert_status 0
  for i in 1 2 3 4; do
    log=exp/log/hello.${i}.log
    [ "$(sed -n 1p "${log}")" = "# echo task ${i} of 4" ]
    [[ "$(sed -n 2p "${log}")" == "# Started at "* ]]
    [ "$(sed -n 3p "${log}")" = "task ${i} of 4" ]
    [[ "$(sed -n 4p "${log}")" == "# Accounting: time="*" threads=1" ]]
    [[ "$(sed -n 5p "${log}")" == "# Ended (code 0) at "* ]]
  done
}

@test "any identifier works, and JOB=3 runs the single task 3" {
  run "${UTILS}/run.pl" TASK=2:3 log/t.TASK.log echo TASK
  assert_status 0
  [ "$(sed -n 3p log/t.2.log)" = 2 ]
  [ "$(sed -n 3p log/t.3.log)" = 3 ]
  run "${UTILS}/run.pl" JOB=3 log/single.JOB.log echo JOB
  assert_status 0
  [ "$(sed -n 3p log/single.3.log)" = 3 ]
  [ ! -e log/single.1.log ]
}

@test "a command without JOB runs once" {
  run "${UTILS}/run.pl" log/once.log echo hi
  assert_status 0
  [ "$(sed -n 3p log/once.log)" = hi ]
}

@test "a failing task gives non-zero, the K / N message and the tail of its log" {
  run "${UTILS}/run.pl" JOB=1:4 log/f.JOB.log bash -c 'echo output of JOB; [ JOB -ne 3 ]'
  assert_status 1
  assert_output_contains "run.pl: 1 / 4 failed, log is in log/f.*.log"
  assert_output_contains "failed tasks: 3 (code 1)"
  assert_output_contains "last lines of log/f.3.log:"
  assert_output_contains "  output of 3"
  assert_output_contains "  # Ended (code 1)"
  grep -q '^# Ended (code 0)' log/f.1.log
  grep -q '^# Ended (code 1)' log/f.3.log
}

@test "a single failing job says 'job failed' and hints at a forgotten JOB=1:N" {
  run "${UTILS}/run.pl" log/x.JOB.log false
  assert_status 1
  assert_output_contains "run.pl: job failed (code 1), log is in log/x.JOB.log"
  assert_output_contains "probably you forgot to put JOB=1:\$nj in your script"
}

@test "an array job whose log name lacks the identifier dies before running anything" {
  run "${UTILS}/run.pl" JOB=1:2 log/same.log touch ran.JOB
  assert_status 1
  assert_output_contains "you are trying to run a parallel job (JOB=1:2) but the log file 'log/same.log' does not contain JOB"
  [ ! -e ran.1 ]
}

@test "bad job ranges are rejected" {
  run "${UTILS}/run.pl" JOB=0:2 log/r.JOB.log true
  assert_status 1
  assert_output_contains "the first task must be >= 1"
  run "${UTILS}/run.pl" JOB=3:2 log/r.JOB.log true
  assert_status 1
  assert_output_contains "the last task is smaller than the first"
}

@test "exit code 137 is reported as killed (out of memory?)" {
  run "${UTILS}/run.pl" log/oom.log bash -c 'kill -9 $$'
  assert_status 1
  assert_output_contains "code 137: killed with SIGKILL (out of memory?"
  grep -q '^# Ended (code 137)' log/oom.log
}

@test "escaped shell metacharacters run as a pipeline; arguments with spaces are quoted" {
  run "${UTILS}/run.pl" JOB=1:2 log/p.JOB.log echo "a  b" JOB \| tr a-z A-Z \> out.JOB
  assert_status 0
  [ "$(cat out.2)" = "A  B 2" ]
  [ "$(sed -n 1p log/p.2.log)" = "# echo 'a  b' 2 | tr a-z A-Z > out.2" ]
}

@test "a failure inside a pipeline fails the task (pipefail)" {
  run "${UTILS}/run.pl" log/pipe.log false \| cat
  assert_status 1
  assert_output_contains "run.pl: job failed (code 1)"
}

@test "--opt=value and scheduler-only options are accepted and ignored" {
  run "${UTILS}/run.pl" --mem=4G --gpu 0 --time 1:00:00 --name x --config conf/none.conf \
    --num-threads=2 -q all.q -pe smp 2 --some-site-option v JOB=1:2 log/o.JOB.log echo ok
  assert_status 0
  [[ "$(tail -n 2 log/o.1.log | head -n 1)" == "# Accounting: time="*" threads=2" ]]
}

@test "a malformed option is an error" {
  run "${UTILS}/run.pl" --max-jobs-run two JOB=1:2 log/m.JOB.log true
  assert_status 1
  assert_output_contains "--max-jobs-run expects a non-negative integer, got 'two'"
  run "${UTILS}/run.pl" log/only.log
  assert_status 1
  assert_output_contains "expected <log-file> <command...>"
}

@test "--pick failed re-runs only the failed task" {
  run "${UTILS}/run.pl" JOB=1:4 log/k.JOB.log bash -c 'echo first > first.JOB; [ JOB -ne 2 ]'
  assert_status 1
  rm first.*
  run "${UTILS}/run.pl" --pick failed JOB=1:4 log/k.JOB.log bash -c 'echo second > second.JOB'
  assert_status 0
  assert_output_contains "--pick failed: re-running 1 of 4 tasks (2)"
  [ -e second.2 ]
  [ ! -e second.1 ] && [ ! -e second.3 ] && [ ! -e second.4 ]
  grep -q '^# Ended (code 0)' log/k.2.log
  run "${UTILS}/run.pl" --pick failed JOB=1:4 log/k.JOB.log false
  assert_status 0
  assert_output_contains "nothing to re-run"
}

@test "--pick incomplete also runs tasks that never finished" {
  "${UTILS}/run.pl" JOB=1:3 log/i.JOB.log true
  rm log/i.2.log
  sed -i '$d' log/i.3.log
  run "${UTILS}/run.pl" --pick incomplete JOB=1:3 log/i.JOB.log touch again.JOB
  assert_status 0
  assert_output_contains "re-running 2 of 3 tasks (2,3)"
  [ ! -e again.1 ] && [ -e again.2 ] && [ -e again.3 ]
  run "${UTILS}/run.pl" --pick sometimes JOB=1:3 log/i.JOB.log true
  assert_status 1
  assert_output_contains "--pick must be all, failed or incomplete"
}

@test "--max-jobs-run 1 runs the tasks one after another" {
  run "${UTILS}/run.pl" --max-jobs-run 1 JOB=1:4 log/s.JOB.log \
    bash -c 'a=$(date +%s.%N); sleep 0.2; echo "$a $(date +%s.%N)" > span.JOB'
  assert_status 0
  [ "$(max_overlap span.*)" -eq 1 ]
}

@test "--max-jobs-run 2 runs at most two tasks at a time" {
  run "${UTILS}/run.pl" --max-jobs-run 2 JOB=1:6 log/s.JOB.log \
    bash -c 'a=$(date +%s.%N); sleep 0.3; echo "$a $(date +%s.%N)" > span.JOB'
  assert_status 0
  [ "$(max_overlap span.*)" -eq 2 ]
}

@test "without --max-jobs-run at most one task per CPU runs" {
  cpus=$(nproc)
  run "${UTILS}/run.pl" JOB=1:$((cpus + 2)) log/c.JOB.log \
    bash -c 'a=$(date +%s.%N); sleep 0.3; echo "$a $(date +%s.%N)" > span.JOB'
  assert_status 0
  [ "$(max_overlap span.*)" -le "${cpus}" ]
}

@test "SIGTERM stops the running tasks" {
  "${UTILS}/run.pl" JOB=1:2 log/t.JOB.log bash -c 'echo $$ > pid.JOB; sleep 30' &
  runner=$!
  for _ in $(seq 1 50); do
    [ -s pid.1 ] && [ -s pid.2 ] && break
    sleep 0.1
  done
  kill -TERM "${runner}"
  status=0
  wait "${runner}" || status=$?
  [ "${status}" -eq 143 ]
  wait_process_gone "$(cat pid.1)"
  wait_process_gone "$(cat pid.2)"
}

@test "--help prints the usage and exits 0" {
  run "${UTILS}/run.pl" --help
  assert_status 0
  assert_output_contains "Usage: run.pl [options] [JOB=1:N] <log-file> <command...>"
  assert_output_contains "--pick all|failed|incomplete"
}
