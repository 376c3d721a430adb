#!/usr/bin/env bash
# Combines data directories into one: every table present in all sources is merged and
# sorted (utterance, speaker and context ids must be unique across the sources; a recording
# in several sources must have the same wav.scp line), questions.jsonl and oracle.ctm are
# concatenated, spk2utt is regenerated, and then fix_data_dir.sh checks the result.
# A file missing from some source is left out, with a warning, except (as in Kaldi):
#  - segments: a source without it gets "<utt> <utt> 0 -1" (the whole recording, its
#    wav.scp being keyed by utterance) for each utterance;
#  - utt2uniq: a source without it gets "<utt> <utt>".
# Data-dir files of an earlier run in <dest-dir> that this run does not write are removed.
set -euo pipefail

echo "$0 $*" >&2

# Begin configuration section.
extra_files=""   # more tables to combine, e.g. "utt2lang reco2dur" (not filtered by the fix)
skip_fix=false   # true: do not run fix_data_dir.sh on the result
# End configuration section.

help_message="Usage: $0 [options] <dest-dir> <src-dir1> <src-dir2> ...
e.g.: $0 data/train_all data/train_a data/train_b
Options:
  --extra-files \"<f1> <f2>\"   more tables to combine (default: '${extra_files}')
  --skip-fix <true|false>     skip fix_data_dir.sh on the result (default: ${skip_fix})"

utils=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=utils/parse_options.sh
. "${utils}/parse_options.sh"

if [ $# -lt 2 ]; then
  printf '%s\n' "${help_message}" >&2
  exit 1
fi

DATA_DIR_TOOL_NAME=${0##*/} perl "${utils}/lib/data_dir_tool.pl" combine \
  --extra-files "${extra_files}" "$@"
if ! ${skip_fix}; then
  "${utils}/fix_data_dir.sh" "$1"
fi
