#!/usr/bin/env bash
# Forced alignment of a data dir with the trained CTC aligner, in --nj parallel jobs:
#   <align-dir>/word.ctm   (<utt> 1 <start> <dur> <word> <conf>, sorted, validated against text)
#   <align-dir>/skipped    (<utt> <reason> <message> for utterances that could not be aligned)
#   <align-dir>/log/align.JOB.log
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

# Begin configuration section.
cmd=utils/run.pl              # job submitter, e.g. "utils/queue.pl --mem 2G"
nj=4                          # number of parallel jobs
num_threads=1                 # torch threads per job
python=python3                # interpreter with speechbert installed
# End configuration section.

help_message=$(cat <<EOF
Usage: $0 [options] <data-dir> <dump-dir> <model-dir> <align-dir>
e.g.: $0 --nj 8 --cmd "\$train_cmd" data/test dump/test exp/align_model exp/align/test
Aligns <data-dir>/text to the features in <dump-dir>/feats.scp with the aligner in <model-dir>
(speechbert.bin.align_train) and writes <align-dir>/word.ctm.
Options:
  --cmd <run.pl|queue.pl <opts>>   # how to run jobs (default: ${cmd})
  --nj <n>                         # number of parallel jobs (default: ${nj})
  --num_threads <n>                # torch threads per job (default: ${num_threads})
  --python <python>                # Python interpreter (default: ${python})
