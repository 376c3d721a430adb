# shellcheck shell=bash
# How recipe jobs are run. Source it from a recipe directory after path.sh:
#   . ./path.sh; . ./cmd.sh
#
# Every parallel step runs
#   ${train_cmd} [options] JOB=1:<nj> <dir>/log/<name>.JOB.log <command ...>
# with one of the submitters in utils/ (all take the same arguments):
#   run.pl     on this machine; at most one task per CPU (--max-jobs-run to change),
#              scheduler-only options are accepted and ignored
#   slurm.pl   Slurm array job (sbatch); options mapped by conf/slurm.conf
#   queue.pl   Grid Engine array job (qsub); options mapped by conf/queue.conf
# Options: --mem <size> --gpu <n> --num-threads <n> --max-jobs-run <n> --time <limit>
#          --name <job name> --config <file>; see `utils/run.pl --help`.
# JOB=1:<nj> runs <nj> tasks; JOB is replaced by the task number (1..nj) in the log
# name and the command. The exit status is non-zero if any task failed, and the message
# names the logs ("run.pl: 2 / 8 failed, log is in exp/.../x.*.log").
#
# Choose the backend with cmd_backend (local, slurm or sge), e.g.
#   cmd_backend=slurm ./run.sh
# Site specifics (partitions, queues, accounts, GPU resources) belong in
# conf/slurm.conf or conf/queue.conf, never in the scripts.
#
#   train_cmd   data preparation, features, alignment (CPU jobs)
#   cuda_cmd    neural network training; the recipe appends --gpu <ngpu>
#   decode_cmd  decoding and scoring

cmd_backend=${cmd_backend:-local}

case "${cmd_backend}" in
  local)
    export train_cmd="run.pl"
    export cuda_cmd="run.pl"
    export decode_cmd="run.pl"
    ;;
  slurm)
    export train_cmd="slurm.pl --config conf/slurm.conf"
    export cuda_cmd="slurm.pl --config conf/slurm.conf"
    export decode_cmd="slurm.pl --config conf/slurm.conf"
    ;;
  sge)
    export train_cmd="queue.pl --config conf/queue.conf"
    export cuda_cmd="queue.pl --config conf/queue.conf"
    export decode_cmd="queue.pl --config conf/queue.conf"
    ;;
  *)
    echo "cmd.sh: unknown cmd_backend='${cmd_backend}' (use local, slurm or sge)" >&2
    return 1
    ;;
esac
