#!/usr/bin/env bash
# LibriSpeech as extra pre-training data (speech with transcripts, no questions):
# data/librispeech_<subset with - as _> for each subset of a LibriSpeech-layout corpus
# (<root>/<subset>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac + <spk>-<chapter>.trans.txt).
# Utterance <spk>-<chapter>-<utt> becomes ls-<spk:04d>-<chapter:06d>-<utt:04d>; one chapter is one
# context. See doc/librispeech.md for the layout, the ids and what is counted in data/<set>/prep.log.
#   local/librispeech_data.sh --librispeech_root /corpora/LibriSpeech --subsets "train-clean-100 train-clean-360"
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}
SECONDS=0

librispeech_root=""          # the directory holding train-clean-100/, dev-clean/, ...
subsets="train-clean-100"    # subsets to import, space separated
max_loss_ratio=0.05          # fail if a subset loses a larger share of its utterances
data_dir=data                # output directory
python=python3
# shellcheck disable=SC2034  # read by utils/parse_options.sh for --help
help_message="Usage: $0 --librispeech_root <dir> [options]
Options: --subsets \"S1 S2 ...\" (${subsets}) --max_loss_ratio R (${max_loss_ratio})
         --data_dir DIR (${data_dir}) --python CMD (${python})"

log "$0 $*"
# shellcheck source=../path.sh
. ./path.sh
# shellcheck source=../../../../utils/parse_options.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
    log "Error: unexpected arguments: $*"
    exit 2
fi
if [ -z "${librispeech_root}" ]; then
    log "Error: --librispeech_root is required (the directory holding train-clean-100/, ...)"
    exit 2
fi
if [ ! -d "${librispeech_root}" ]; then
    log "Error: no such directory: ${librispeech_root}"
    exit 1
fi
read -r -a subsets_a <<< "${subsets}"
if [ ${#subsets_a[@]} -eq 0 ]; then
    log "Error: --subsets is empty"
    exit 2
fi

read -r -a python_a <<< "${python}"
"${python_a[@]}" -m speechbert.bin.prepare_librispeech --librispeech_root "${librispeech_root}" \
    --subsets "${subsets_a[@]}" --data_dir "${data_dir}" --max_loss_ratio "${max_loss_ratio}"
for s in "${subsets_a[@]}"; do
    utils/validate_data_dir.sh --no-feats "${data_dir}/librispeech_${s//-/_}"
done
log "Successfully finished. [elapsed=${SECONDS}s]"
