#!/usr/bin/env bash
# Checks that a data directory follows the Kaldi conventions (doc/design.md):
#  - every table sorted by key under LC_ALL=C, keys unique, without whitespace or shell
#    metacharacters, every line newline-terminated, the right number of fields;
#  - the same utterance list in utt2spk, text, wav.scp (or segments), utt2dur, feats.scp,
#    utt2num_frames (each one that exists); text.asr covers a subset of it;
#  - spk2utt is the inverse of utt2spk, and utt2spk is also sorted by speaker (speaker ids
#    must be prefixes of utterance ids);
#  - text and text.asr are printable UTF-8;
#  - every utterance listed in contexts exists (once), every question in questions.jsonl
#    is a JSON object whose context_id is in contexts; oracle.ctm names known utterances.
# The first problem found is reported with its file and line; the exit status is then 1.
set -euo pipefail

usage() {
  cat >&2 <<USAGE
Usage: $0 [--no-feats] [--no-text] [--no-wav] [--no-spk-sort] [--non-print] <data-dir>
e.g.: $0 --no-feats data/train
Options:
  --no-feats      feats.scp is not required (it is still checked if present)
  --no-text       text is not required (it is still checked if present)
  --no-wav        wav.scp is not required (it is still checked if present)
  --no-spk-sort   do not require utt2spk to be sorted by speaker as well
  --non-print     allow non-printable characters in text
USAGE
  exit "$1"
}

flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-feats | --no-text | --no-wav | --no-spk-sort | --non-print)
      flags+=("$1")
      shift
      ;;
    -h | --help) usage 0 ;;
    -*)
      echo "$0: unknown option $1" >&2
      usage 1
      ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || usage 1

lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib
DATA_DIR_TOOL_NAME=${0##*/} exec perl "${lib}/data_dir_tool.pl" validate "${flags[@]}" "$1"
