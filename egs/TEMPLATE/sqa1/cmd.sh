# shellcheck shell=bash
# How jobs are run. Every parallel step calls
#   $cmd [--mem 4G] [--gpu N] [--num-threads N] [--max-jobs-run N] [--time T] [--name NAME] \
#        JOB=1:<nj> <log with JOB> <command ...>
# and the same string works with each backend:
#   local  run.pl    on this machine (scheduler-only options are ignored)
#   slurm  slurm.pl  sbatch array jobs; site settings (partitions, accounts) go in conf/slurm.conf
#   sge    queue.pl  qsub array jobs; site settings (queues, complexes) go in conf/queue.conf
# Pick one with `cmd_backend=slurm ./run.sh` or by editing the default below.
#   train_cmd   data preparation, features, alignment (CPU)
#   cuda_cmd    neural network training; sqa.sh appends --gpu "$ngpu"
#   decode_cmd  decoding and scoring
cmd_backend=${cmd_backend:-local}

case "${cmd_backend}" in
    local)
        export train_cmd="run.pl"
        export cuda_cmd="run.pl"
        export decode_cmd="run.pl";;
    slurm)
        export train_cmd="slurm.pl --config conf/slurm.conf"
        export cuda_cmd="slurm.pl --config conf/slurm.conf"
        export decode_cmd="slurm.pl --config conf/slurm.conf";;
    sge)
        export train_cmd="queue.pl --config conf/queue.conf --mem 4G"
        export cuda_cmd="queue.pl --config conf/queue.conf --mem 8G"
        export decode_cmd="queue.pl --config conf/queue.conf --mem 4G";;
    *)
        echo "cmd.sh: unknown cmd_backend='${cmd_backend}' (use local, slurm or sge)" >&2
        return 1 2>/dev/null || exit 1;;
esac
