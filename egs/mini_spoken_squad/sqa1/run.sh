#!/usr/bin/env bash
# Mini Spoken SQuAD: a small spoken QA corpus synthesized with eSpeak NG from passages about
# invented entities, generated here from a seed. The whole pipeline runs on a laptop CPU in
# minutes, and CI runs it end to end.
set -euo pipefail

./sqa.sh \
    --local_data_opts "--size 1.0 --seed 1" \
    --feats_config conf/fbank.yaml \
    --align_config conf/ctc_aligner.yaml \
    --joint_embed_config conf/joint_embed.yaml \
    --pretrain_config conf/pretrain.yaml \
    --finetune_config conf/finetune.yaml \
    --finetune_text_config conf/finetune_text.yaml \
    --asr ctc \
    "$@"
