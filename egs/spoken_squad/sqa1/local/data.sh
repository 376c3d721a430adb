#!/usr/bin/env bash
# Spoken SQuAD data preparation: data/{train,dev,test,test_wer44,test_wer54} from the release
# (spoken_*-v1.1.json + one wav per sentence) and SQuAD v1.1 for the reference text.
# See doc/corpora.md for the layout and for what is counted in data/<set>/prep.log.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

spoken_squad_root=""   # the release: spoken_{train,test}-v1.1.json (+ _WER44/_WER54), wav dirs
squad_root=""          # SQuAD v1.1: train-v1.1.json, dev-v1.1.json (reference text)
dev_size=""            # train paragraphs (the last ones) held out as dev (default: prepare_spoken_squad's, 1000)
max_loss_ratio=0.05    # fail if a set loses a larger share of its questions
noisy_test_sets=true   # also prepare test_wer44 and test_wer54
split_method=auto      # sentence <-> wav pairing: auto (the release's plain ". " split, or what a
                       # synthesized corpus recorded), period_space or rules
data_dir=data          # output directory
python=python3
# shellcheck disable=SC2034  # read by utils/parse_options.sh for --help
help_message="Usage: $0 --spoken_squad_root <dir> [--squad_root <dir>] [options]
Options: --dev_size N (default 1000) --max_loss_ratio R (${max_loss_ratio})
         --noisy_test_sets true|false (${noisy_test_sets}) --data_dir DIR (${data_dir})
         --split_method auto|period_space|rules (${split_method})"

log "$0 $*"
# shellcheck source=../path.sh
. ./path.sh
# shellcheck source=../../../../utils/parse_options.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
    log "Error: unexpected arguments: $*"
    exit 2
fi
if [ -z "${spoken_squad_root}" ]; then
    log "Error: --spoken_squad_root is required (set SPOKEN_SQUAD in db.sh)"
    exit 2
fi
if [ ! -d "${spoken_squad_root}" ]; then
    log "Error: no such directory: ${spoken_squad_root}"
    exit 1
fi

read -r -a python_a <<< "${python}"
opts=(--spoken_squad_root "${spoken_squad_root}" --data_dir "${data_dir}"
      --max_loss_ratio "${max_loss_ratio}" --noisy_test_sets "${noisy_test_sets}"
      --split_method "${split_method}")
if [ -n "${squad_root}" ]; then
    opts+=(--squad_root "${squad_root}")
fi
if [ -n "${dev_size}" ]; then
    opts+=(--dev_size "${dev_size}")
fi
"${python_a[@]}" -m speechbert.bin.prepare_spoken_squad "${opts[@]}"
log "Successfully finished. [elapsed=${SECONDS}s]"
