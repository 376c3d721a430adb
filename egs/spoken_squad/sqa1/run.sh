#!/usr/bin/env bash
# Spoken SQuAD (Li et al., Interspeech 2018): SQuAD v1.1 passages read by TTS, CMU Sphinx
# transcripts. Set the corpus locations in db.sh. Training stages expect GPUs:
#   ./run.sh --ngpu 4            (cmd_backend=slurm ./run.sh --ngpu 4 on a Slurm cluster)
set -euo pipefail
# shellcheck disable=SC1091
. ./db.sh

for var in SPOKEN_SQUAD SQUAD; do
    if [ "${!var}" = "/path/to/${var,,}" ] || [ "${!var}" = /path/to/squad_v1.1 ]; then
        echo "run.sh: ${var} is still the placeholder '${!var}': edit db.sh (or export ${var}) to point at" \
            "the corpus on this machine" >&2
        exit 2
    fi
done

./sqa.sh \
    --ngpu 1 \
    --local_data_opts "--spoken_squad_root ${SPOKEN_SQUAD} --squad_root ${SQUAD}" \
    --test_sets "test test_wer44 test_wer54" \
    --feats_config conf/mfcc.yaml \
    --align_config conf/ctc_aligner.yaml \
    --joint_embed_config conf/joint_embed.yaml \
    --pretrain_config conf/pretrain.yaml \
    --finetune_config conf/finetune.yaml \
    --finetune_text_config conf/finetune_text.yaml \
    --asr corpus \
    "$@"
