# shellcheck shell=bash
# Where the corpora live on this machine. Edit these two lines (or export the variables).
# SPOKEN_SQUAD: the Spoken SQuAD release (spoken_train-v1.1.json, spoken_test-v1.1.json,
#               spoken_test-v1.1_WER44.json, spoken_test-v1.1_WER54.json, wav/train, wav/test)
# SQUAD:        SQuAD v1.1 (train-v1.1.json, dev-v1.1.json) for the reference passage text
# LIBRISPEECH:  optional, LibriSpeech (<subset>/<spk>/<chapter>/*.flac) for --pretrain_sets
#               (local/librispeech_data.sh --librispeech_root "${LIBRISPEECH}"; doc/librispeech.md)
export SPOKEN_SQUAD=${SPOKEN_SQUAD:-/path/to/spoken_squad}
export SQUAD=${SQUAD:-/path/to/squad_v1.1}
export LIBRISPEECH=${LIBRISPEECH:-/path/to/LibriSpeech}
