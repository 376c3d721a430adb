#!/usr/bin/env bats
# utils/slurm.pl on a real single-node Slurm cluster (helpers/slurm_cluster.sh starts
# munged, slurmctld and slurmd as root in a scratch directory). Skipped when Slurm is not
# installed (tools/installers/install_slurm.sh) or when not running as root.

load helpers/common

setup_file() {
  if ! command -v slurmctld > /dev/null || ! command -v sbatch > /dev/null; then
    skip "Slurm is not installed (tools/installers/install_slurm.sh)"
  fi
  if [ "$(id -u)" -ne 0 ]; then
    skip "the test cluster's daemons run as root"
  fi
  # short path: the munge socket path must fit in a Unix socket address
  SLURM_TEST_DIR=$(mktemp -d /tmp/sbslurm.XXXXXX)
  export SLURM_TEST_DIR
  "${BATS_TEST_DIRNAME}/helpers/slurm_cluster.sh" start "${SLURM_TEST_DIR}" > /dev/null
  export SLURM_CONF=${SLURM_TEST_DIR}/slurm.conf
}

teardown_file() {
  if [ -n "${SLURM_TEST_DIR:-}" ]; then
    "${BATS_TEST_DIRNAME}/helpers/slurm_cluster.sh" stop "${SLURM_TEST_DIR}"
    rm -rf "${SLURM_TEST_DIR}"
  fi
}

setup() {
  make_tmp_dir
}

teardown() {
  remove_tmp_dir
}

# Lists the jobs still pending or running.
active_jobs() {
  squeue -h -t PENDING,RUNNING,CONFIGURING,COMPLETING -o '%i %T'
}

@test "JOB=1:4 runs as a Slurm array job; four logs, exit status 0" {
  run "${UTILS}/slurm.pl" JOB=1:4 exp/log/t.JOB.log bash -c 'echo task JOB on $(hostname)'
  assert_status 0
  grep -q -- "--array=1-4 exp/log/q/t.sh" exp/log/q/t.log
  for i in 1 2 3 4; do
    log=exp/log/t.${i}.log
    [ "$(sed -n 1p "${log}")" = "# bash -c 'echo task ${i} on \$(hostname)'" ]
    grep -q "^# Slurm job [0-9]* (array [0-9]* task ${i}), partition debug" "${log}"
    grep -qx "task ${i} on $(hostname)" "${log}"
    [[ "$(tail -n 1 "${log}")" == "# Ended (code 0) at "* ]]
  done
}

@test "a failing task: non-zero exit, the K / N message and the tail of its log" {
  run "${UTILS}/slurm.pl" JOB=1:4 log/f.JOB.log bash -c 'echo output JOB; [ JOB -ne 2 ]'
  assert_status 1
  assert_output_contains "slurm.pl: 1 / 4 failed, log is in log/f.*.log"
  assert_output_contains "failed tasks: 2 (code 1)"
  assert_output_contains "  output 2"
  grep -q '^# Ended (code 0)' log/f.4.log
}

@test "--max-jobs-run 1 becomes --array=a-b%1 and the tasks do not overlap" {
  run "${UTILS}/slurm.pl" --max-jobs-run 1 JOB=1:3 log/m.JOB.log \
    bash -c 'a=$(date +%s.%N); sleep 0.3; echo "$a $(date +%s.%N)" > span.JOB'
  assert_status 0
  grep -q -- "--array=1-3%1 " log/q/m.log
  [ "$(max_overlap span.*)" -eq 1 ]
}

@test "the template conf/slurm.conf maps --mem --num-threads --time --name --gpu 0" {
  mkdir conf
  cp "${REPO_ROOT}/egs/TEMPLATE/sqa1/conf/slurm.conf" conf/
  printf 'export FROM_PATH_SH=yes\n' > path.sh
  run "${UTILS}/slurm.pl" --mem 100M --num-threads 1 --time 10 --name sbtest --gpu 0 \
    log/o.log bash -c 'echo "name=$SLURM_JOB_NAME cpus=$SLURM_CPUS_PER_TASK path_sh=$FROM_PATH_SH dir=$PWD"'
  assert_status 0
  grep -q -- "--mem-per-cpu 100M --job-name sbtest --cpus-per-task 1 --time 10 " log/q/o.log
  grep -qx "name=sbtest cpus=1 path_sh=yes dir=${TMP_DIR}" log/o.log
}

@test "an option not described in the config is an error; nothing is submitted" {
  printf 'command sbatch\n' > my.conf
  run "${UTILS}/slurm.pl" --config my.conf --mem 1G log/x.log true
  assert_status 1
  assert_output_contains "slurm.pl: command line option --mem 1G is not described in my.conf"
  [ ! -e log/q/x.log ]
}

@test "SIGTERM to slurm.pl cancels the job: it leaves squeue" {
  "${UTILS}/slurm.pl" JOB=1:2 log/c.JOB.log bash -c 'echo $$ > started.JOB; sleep 60' 2> err.txt &
  submitter=$!
  wait_for_files 100 started.1 started.2
  [ -s started.1 ] && [ -s started.2 ]
  job=$(sed -n 's/^# submitted as job \([0-9]*\):.*/\1/p' log/q/c.log)
  [ -n "${job}" ]
  squeue -h -j "${job}" | grep -q .
  kill -TERM "${submitter}"
  wait_status "${submitter}"
  [ "${status}" -eq 143 ]
  output=$(cat err.txt)
  assert_output_contains "slurm.pl: caught SIGTERM, cancelled job ${job}"
  for _ in $(seq 1 50); do
    [ -z "$(active_jobs)" ] && break
    sleep 0.2
  done
  [ -z "$(active_jobs)" ]
  wait_process_gone "$(cat started.1)"
}

@test "a task killed without its footer is reported as vanished" {
  "${UTILS}/slurm.pl" log/v.log bash -c 'echo $PPID > script.pid; sleep 60' 2> err.txt &
  submitter=$!
  wait_for_files 100 script.pid
  # kill the job script itself (as a node failure would): no footer, no sync file
  kill -KILL "$(cat script.pid)"
  wait_status "${submitter}"
  [ "${status}" -eq 1 ]
  output=$(cat err.txt)
  assert_output_contains "vanished from the queue before the task finished"
}
