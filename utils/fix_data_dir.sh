#!/usr/bin/env bash
# Repairs a data directory in place so that it passes validate_data_dir.sh:
#  - backs every file up to <data-dir>/.backup/;
#  - drops malformed lines and repeated keys, sorts every table (LC_ALL=C order);
#  - keeps only the utterances present in all of utt2spk, text, wav.scp (or segments),
#    utt2dur, feats.scp, utt2num_frames and --utt-extra-files (whichever exist);
#  - keeps a passage (contexts line) only if all its sentences survived, and drops the
#    other sentences of an incomplete passage; filters questions.jsonl to the kept
#    passages, and text.asr, oracle.ctm and the speaker files to what is left;
#  - regenerates spk2utt.
# It reports how many lines/utterances were dropped and why. If nothing would remain it
# fails and changes nothing.
set -euo pipefail

echo "$0 $*" >&2

# Begin configuration section.
utt_extra_files=""   # more per-utterance tables to sort, check and intersect
spk_extra_files=""   # more per-speaker tables to sort and filter
# End configuration section.

help_message="Usage: $0 [options] <data-dir>
e.g.: $0 data/train
Options:
  --utt-extra-files \"<f1> <f2>\"   more per-utterance tables (default: '${utt_extra_files}')
  --spk-extra-files \"<f1> <f2>\"   more per-speaker tables (default: '${spk_extra_files}')"

utils=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=utils/parse_options.sh
. "${utils}/parse_options.sh"

if [ $# -ne 1 ]; then
  printf '%s\n' "${help_message}" >&2
  exit 1
fi

DATA_DIR_TOOL_NAME=${0##*/} exec perl "${utils}/lib/data_dir_tool.pl" fix \
  --utt-extra-files "${utt_extra_files}" --spk-extra-files "${spk_extra_files}" "$1"
