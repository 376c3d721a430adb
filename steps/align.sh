#!/usr/bin/env bash
# Forced alignment of a data dir with the trained CTC aligner, in --nj parallel jobs:
#   <align-dir>/word.ctm   (<utt> 1 <start> <dur> <word> <conf>, sorted, validated against text)
#   <align-dir>/skipped    (<utt> <reason> <message> for utterances that could not be aligned)
#   <align-dir>/log/align.JOB.log
set -euo pipefail
. steps/lib/common.sh

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
EOF
)

log "$0 $*"
. utils/parse_options.sh

if [ $# -ne 4 ]; then
    printf '%s\n' "${help_message}" >&2
    exit 1
fi

data=$1
dump=$2
model_dir=$3
dir=$4

require_files "${data}/text" "${dump}/feats.scp" "${model_dir}/aligner.yaml" "${model_dir}/aligner.pt"
nj=$(num_jobs "${nj}" "${data}/text")
num_utts=$(wc -l < "${data}/text")

logdir=${dir}/log
splitdir=${dir}/split${nj}
mkdir -p "${logdir}"
# Outputs of an earlier run (possibly with another --nj) must not mix with this one.
rm -f "${dir}/word.ctm" "${dir}/skipped"
find "${dir}" -maxdepth 1 \( -name 'word.*.ctm' -o -name 'skipped.*' -o -name '.*.tmp' \) -type f -delete
split_list "${data}/text" "${splitdir}" "${nj}"

read -r -a cmd_words <<< "${cmd}"
log "aligning ${num_utts} utterances of ${data} in ${nj} jobs (logs: ${logdir}/align.*.log)"
if ! "${cmd_words[@]}" --num_threads "${num_threads}" JOB=1:"${nj}" "${logdir}/align.JOB.log" \
        "${python}" -m speechbert.bin.align --alignment ctc --model_dir "${model_dir}" \
        --data "${data}" --dump "${dump}" --utt_list "${splitdir}/text.JOB" \
        --out_ctm "${dir}/word.JOB.ctm" --skipped_out "${dir}/skipped.JOB" \
        --num_threads "${num_threads}"; then
    log "Error: alignment failed; see ${logdir}/align.*.log"
    exit 1
fi

# Merge the per-job outputs. Importing the merged CTM checks it against the data dir and
# writes word.ctm atomically.
ctms=()
skipped=()
for n in $(seq "${nj}"); do
    ctms+=("${dir}/word.${n}.ctm")
    skipped+=("${dir}/skipped.${n}")
done
sort_into "${dir}/.word.ctm.tmp" -k1,1 -k3,3n "${ctms[@]}"
sort_into "${dir}/skipped" "${skipped[@]}"
if [ ! -s "${dir}/.word.ctm.tmp" ]; then
    rm -f "${dir}/.word.ctm.tmp"
    log "Error: no utterance of ${data} could be aligned (reasons in ${dir}/skipped)"
    exit 1
fi
if ! "${python}" -m speechbert.bin.align --alignment ctm --ctm "${dir}/.word.ctm.tmp" \
        --data "${data}" --out_ctm "${dir}/word.ctm" > "${logdir}/merge.log" 2>&1; then
    log "Error: the merged CTM does not fit ${data}; see ${logdir}/merge.log"
    exit 1
fi
rm -f "${dir}/.word.ctm.tmp"
for n in $(seq "${nj}"); do
    rm -f "${dir}/word.${n}.ctm" "${dir}/skipped.${n}"
done
rm -rf "${splitdir}"

num_aligned=$(cut -d' ' -f1 "${dir}/word.ctm" | uniq | wc -l)
num_skipped=$(wc -l < "${dir}/skipped")
if [ "${num_skipped}" -gt 0 ]; then
    reasons=$(cut -d' ' -f2 "${dir}/skipped" | LC_ALL=C sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')
    log "Warning: ${num_skipped} of ${num_utts} utterances could not be aligned (${reasons%, }); see ${dir}/skipped"
fi
log "done: ${num_aligned} utterances aligned, $(wc -l < "${dir}/word.ctm") words in ${dir}/word.ctm"
