#!/usr/bin/env bats
# egs/TEMPLATE/sqa1/{cmd.sh,path.sh,conf/queue.conf,conf/slurm.conf} and how recipes use them.

load helpers/common

TEMPLATE=${REPO_ROOT}/egs/TEMPLATE/sqa1

setup() {
  make_tmp_dir
}

teardown() {
  remove_tmp_dir
}

@test "cmd.sh: local is the default and exports run.pl for all three commands" {
  run env -u cmd_backend bash -c ". '${TEMPLATE}/cmd.sh' && echo \"\${train_cmd}|\${cuda_cmd}|\${decode_cmd}\""
  assert_status 0
  [ "${output}" = "run.pl|run.pl|run.pl" ]
}

@test "cmd.sh: cmd_backend from the environment selects slurm.pl or queue.pl with their conf" {
  run env cmd_backend=slurm bash -c ". '${TEMPLATE}/cmd.sh' && bash -c 'echo \"\${train_cmd}|\${cuda_cmd}|\${decode_cmd}\"'"
  assert_status 0
  [ "${output}" = "slurm.pl --config conf/slurm.conf|slurm.pl --config conf/slurm.conf|slurm.pl --config conf/slurm.conf" ]
  run env cmd_backend=sge bash -c ". '${TEMPLATE}/cmd.sh' && echo \"\${train_cmd}\""
  [ "${output}" = "queue.pl --config conf/queue.conf" ]
}

@test "cmd.sh: an unknown backend is an error" {
  run env cmd_backend=pbs bash -c ". '${TEMPLATE}/cmd.sh' || echo returned \$?"
  assert_output_contains "cmd.sh: unknown cmd_backend='pbs' (use local, slurm or sge)"
  assert_output_contains "returned 1"
}

@test "path.sh: MAIN_ROOT from the recipe dir, venv activation, PATH and locale settings" {
  mkdir -p root/egs/corpus/sqa1 root/tools root/utils
  ln -s "${TEMPLATE}/path.sh" root/egs/corpus/sqa1/path.sh
  echo 'export ACTIVATED=yes' > root/tools/activate_python.sh
  cd root/egs/corpus/sqa1
  run env -i HOME="${HOME}" PATH=/usr/bin:/bin bash -c \
    '. ./path.sh && echo "$MAIN_ROOT|$ACTIVATED|${PATH%%:*}|$LC_ALL|$PYTHONIOENCODING|$OMP_NUM_THREADS"'
  assert_status 0
  [ "${output}" = "${TMP_DIR}/root|yes|${TMP_DIR}/root/utils|C|UTF-8|1" ]
}

@test "path.sh: without tools/activate_python.sh it says to run make and returns 1" {
  mkdir -p root/egs/corpus/sqa1 root/tools
  ln -s "${TEMPLATE}/path.sh" root/egs/corpus/sqa1/path.sh
  cd root/egs/corpus/sqa1
  run bash -c '. ./path.sh || echo "returned $?"'
  assert_output_contains "activate_python.sh is missing: run \`make -C tools\` first"
  assert_output_contains "returned 1"
}

@test "the cluster configs parse and map every documented option" {
  for conf in queue slurm; do
    mkdir -p "${conf}/conf"
    cp "${TEMPLATE}/conf/${conf}.conf" "${conf}/conf/"
  done
  # a fake submitter that prints its arguments, then fails the submission
  mkdir bin
  printf '#!/bin/sh\necho "ARGS: $*"\nexit 3\n' > bin/sbatch
  cp bin/sbatch bin/qsub
  chmod +x bin/sbatch bin/qsub
  cd slurm
  PATH=${TMP_DIR}/bin:${PATH} run "${UTILS}/slurm.pl" --mem 2G --gpu 2 --num-threads 4 \
    --time 1:00:00 --name x log/a.log true
  assert_output_contains "ARGS: --export=PATH --ntasks-per-node=1 --gres=gpu:2 -c 2 --mem-per-cpu 2G --job-name x --cpus-per-task 4 --time 1:00:00"
  cd ../queue
  PATH=${TMP_DIR}/bin:${PATH} run "${UTILS}/queue.pl" --mem 2G --gpu 1 --num-threads 4 \
    --time 1:00:00 --name x log/a.log true
  assert_output_contains "ARGS: -v PATH -cwd -S /bin/bash -j y -l gpu=1 -l mem_free=2G -N x -pe smp 4 -l h_rt=1:00:00"
}

@test "every recipe links cmd.sh, path.sh and the cluster configs to the template" {
  local recipe f n=0
  for recipe in "${REPO_ROOT}"/egs/*/sqa1; do
    [ "${recipe}" = "${TEMPLATE}" ] && continue
    n=$((n + 1))
    for f in cmd.sh path.sh conf/slurm.conf conf/queue.conf; do
      if ! cmp -s "${recipe}/${f}" "${TEMPLATE}/${f}"; then
        echo "${recipe}/${f} differs from (or is missing next to) ${TEMPLATE}/${f};" \
          "fix: ln -sf \$(realpath --relative-to=${recipe}/$(dirname "${f}") ${TEMPLATE}/${f}) ${recipe}/${f}" >&2
        return 1
      fi
    done
  done
  echo "# checked ${n} recipe(s)" >&3
}
