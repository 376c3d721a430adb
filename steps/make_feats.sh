#!/usr/bin/env bash
# Compute raw features (a frontend: fbank, MFCC, SSL) for a data dir into a dump dir, in --nj parallel jobs:
#   <dump>/feats.scp, feats.N.ark, utt2num_frames, feats_type, frame_shift, conf/<feats_config>
# CMVN is not applied here (speechbert.bin.compute_cmvn + load-time normalization).
set -euo pipefail
. steps/lib/common.sh

# Begin configuration section.
cmd=utils/run.pl              # job submitter, e.g. "utils/queue.pl --mem 2G"
nj=4                          # number of parallel jobs
feats_config=conf/fbank.yaml  # options for speechbert.bin.compute_feats (conf/fbank.yaml, conf/mfcc.yaml)
ngpu=0                        # 1: each job extracts on one GPU (a neural frontend; --cmd "$cuda_cmd --gpu 1")
skip_bad_utts=false           # true: skip (and count) unreadable/empty/too short utterances
channel=                      # 0-based channel of multi-channel audio (empty: multi-channel is an error)
python=python3                # interpreter with speechbert installed
# End configuration section.

help_message=$(cat <<EOF
Usage: $0 [options] <data-dir> <dump-dir> [<log-dir>]
e.g.: $0 --nj 8 --cmd "\$train_cmd" --feats_config conf/fbank.yaml data/train dump/train
Reads <data-dir>/wav.scp (and <data-dir>/segments if present); <log-dir> defaults to <dump-dir>/log.
Options:
  --cmd <run.pl|queue.pl <opts>>   # how to run jobs (default: ${cmd})
  --nj <n>                         # number of parallel jobs (default: ${nj})
  --feats_config <yaml>            # feature options (default: ${feats_config})
  --ngpu <0|1>                     # 1: each job on one GPU (default: ${ngpu})
  --skip_bad_utts <true|false>     # skip bad utterances instead of failing (default: ${skip_bad_utts})
  --channel <k>                    # channel to keep from multi-channel audio (default: none)
  --python <python>                # Python interpreter (default: ${python})
EOF
)

log "$0 $*"
. utils/parse_options.sh

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    printf '%s\n' "${help_message}" >&2
    exit 1
fi

data=$1
dump=$2
logdir=${3:-${dump}/log}

require_files "${data}/wav.scp" "${feats_config}"
if [ "${ngpu}" != 0 ] && [ "${ngpu}" != 1 ]; then
    log "Error: --ngpu must be 0 or 1 (GPUs per job), got '${ngpu}'"
    exit 1
fi

# Split by segment when there are segments (each job reads the recordings its segments need).
if [ -f "${data}/segments" ]; then
    input=segments
else
    input=wav.scp
fi
nj=$(num_jobs "${nj}" "${data}/${input}")
num_utts=$(wc -l < "${data}/${input}")

mkdir -p "${dump}/conf" "${logdir}"
dump_abs=$(cd "${dump}" && pwd)  # the scp names archives by absolute path, as Kaldi does
# Outputs of an earlier run (possibly with another --nj) must not mix with this one.
rm -f "${dump}/feats.scp" "${dump}/utt2num_frames" "${dump}/feats_type" "${dump}/frame_shift"
# ... and neither may the hidden temporary files (.feats.N.ark.XXXX.tmp) of a killed run.
find "${dump}" -maxdepth 1 \( -name 'feats.*.ark' -o -name 'feats.*.scp' -o -name 'utt2num_frames.*' \
    -o -name '.*.tmp' \) -type f -delete

# Validates the config before any job starts, and records what the features are.
"${python}" -m speechbert.bin.compute_feats --config "${feats_config}" --out_info_dir "${dump}"

splitdir=${dump}/split${nj}
split_list "${data}/${input}" "${splitdir}" "${nj}"

if [ "${input}" = segments ]; then
    inputs=(--wav_scp "${data}/wav.scp" --segments "${splitdir}/segments.JOB")
else
    inputs=(--wav_scp "${splitdir}/wav.scp.JOB")
fi
extra=()
if [ -n "${channel}" ]; then
    extra+=(--channel "${channel}")
fi
if [ "${ngpu}" -gt 0 ]; then
    extra+=(--ngpu "${ngpu}")
fi

read -r -a cmd_words <<< "${cmd}"
log "computing $(cat "${dump}/feats_type") features of ${num_utts} utterances in ${nj} jobs (logs: ${logdir}/make_feats.*.log)"
if ! "${cmd_words[@]}" JOB=1:"${nj}" "${logdir}/make_feats.JOB.log" \
        "${python}" -m speechbert.bin.compute_feats --config "${feats_config}" "${inputs[@]}" \
        --out_ark "${dump_abs}/feats.JOB.ark" --out_scp "${dump}/feats.JOB.scp" \
        --out_utt2num_frames "${dump}/utt2num_frames.JOB" \
        --skip_bad_utts "${skip_bad_utts}" "${extra[@]}"; then
    log "Error: feature extraction failed; see ${logdir}/make_feats.*.log"
    exit 1
fi

# Merge the per-job outputs in LC_ALL=C order, atomically.
scps=()
frames=()
for n in $(seq "${nj}"); do
    scps+=("${dump}/feats.${n}.scp")
    frames+=("${dump}/utt2num_frames.${n}")
done
sort_into "${dump}/feats.scp" "${scps[@]}"
sort_into "${dump}/utt2num_frames" "${frames[@]}"
for n in $(seq "${nj}"); do
    rm -f "${dump}/feats.${n}.scp" "${dump}/utt2num_frames.${n}"
done
rm -rf "${splitdir}"
cp "${feats_config}" "${dump}/conf/"

num_done=$(wc -l < "${dump}/feats.scp")
if [ "${num_done}" -lt "${num_utts}" ]; then
    log "Warning: $((num_utts - num_done)) of ${num_utts} utterances were skipped (see ${logdir}/make_feats.*.log)"
fi
log "done: ${num_done} utterances, $(cat "${dump}/feats_type"), frame shift $(cat "${dump}/frame_shift") s, in ${dump}"
