#!/usr/bin/env bash
# Mini Spoken SQuAD: generate the passages and questions (make_mini_corpus), speak them with
# eSpeak NG into the Spoken SQuAD release layout (synthesize_squad, JOB=1:$nj through
# $train_cmd), and import them with the Spoken SQuAD importer into data/{train,dev,test}
# (+ oracle.ctm from the synthesizer's word times).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

size=1.0               # corpus scale: 1.0 = 200 train, 100 dev, 210 test passages
seed=1                 # seed of the text generator and of the speakers
nj=2                   # synthesis jobs per split
db=db                  # where the generated corpus is written
data_dir=data          # output data directories
max_loss_ratio=0.0     # the generated corpus must import without loss
python=python3
# shellcheck disable=SC2034  # read by utils/parse_options.sh for --help
help_message="Usage: $0 [--size ${size}] [--seed ${seed}] [--nj ${nj}] [--db ${db}] [--data_dir ${data_dir}]"

log "$0 $*"
# shellcheck source=../path.sh
. ./path.sh
# shellcheck source=../cmd.sh
. ./cmd.sh
# shellcheck source=../../../../utils/parse_options.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
    log "Error: unexpected arguments: $*"
    exit 2
fi

read -r -a python_a <<< "${python}"
read -r -a train_cmd_a <<< "${train_cmd}"
text_dir="${db}/squad"
spoken_dir="${db}/spoken_squad"

log "generating the mini corpus text (size ${size}, seed ${seed}) in ${text_dir}"
"${python_a[@]}" -m speechbert.bin.make_mini_corpus --out_dir "${text_dir}" --size "${size}" --seed "${seed}"
dev_size=$(cat "${text_dir}/dev_paragraphs")

for split in train test; do
    case "${split}" in
        train) squad_json="${text_dir}/train-v1.1.json";;
        test) squad_json="${text_dir}/dev-v1.1.json";;
    esac
    log "synthesizing ${split} (${nj} jobs, logs in ${spoken_dir}/log)"
    "${train_cmd_a[@]}" JOB=1:"${nj}" "${spoken_dir}/log/synthesize_${split}.JOB.log" \
        "${python_a[@]}" -m speechbert.bin.synthesize_squad --squad_json "${squad_json}" \
            --out_dir "${spoken_dir}" --split "${split}" --seed "${seed}" --nj "${nj}" --job JOB
    "${python_a[@]}" -m speechbert.bin.synthesize_squad --squad_json "${squad_json}" \
        --out_dir "${spoken_dir}" --split "${split}" --seed "${seed}" --nj "${nj}" --merge true
done

log "importing into ${data_dir}/{train,dev,test} (dev = last ${dev_size} train paragraphs)"
"${python_a[@]}" -m speechbert.bin.prepare_spoken_squad --spoken_squad_root "${spoken_dir}" \
    --squad_root "${text_dir}" --data_dir "${data_dir}" --dev_size "${dev_size}" \
    --max_loss_ratio "${max_loss_ratio}" --noisy_test_sets false
log "Successfully finished. [elapsed=${SECONDS}s]"
