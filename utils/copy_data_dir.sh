#!/usr/bin/env bash
# Copies a data directory (the known files of doc/design.md, conf/; not split*/ or
# .backup/) to <dest> and validates the copy (checking the files that exist).
set -euo pipefail

echo "$0 $*" >&2

# Begin configuration section.
validate=true   # false: skip validate_data_dir.sh on the copy
# End configuration section.

help_message="Usage: $0 [options] <src-dir> <dest-dir>
e.g.: $0 data/train data/train_copy
Options:
  --validate <true|false>   validate the copy (default: ${validate})"

utils=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=utils/parse_options.sh
. "${utils}/parse_options.sh"

if [ $# -ne 2 ]; then
  printf '%s\n' "${help_message}" >&2
  exit 1
fi
src=${1%/}
dest=${2%/}
if [ ! -f "${src}/utt2spk" ]; then
  echo "$0: error: no such file ${src}/utt2spk" >&2
  exit 1
fi
mkdir -p "${dest}"
if [ "$(cd "${src}" && pwd)" = "$(cd "${dest}" && pwd)" ]; then
  echo "$0: error: <src-dir> and <dest-dir> are the same directory" >&2
  exit 1
fi

cut -d' ' -f1 "${src}/utt2spk" |
  DATA_DIR_TOOL_NAME=${0##*/} perl "${utils}/lib/data_dir_tool.pl" filter "${src}" "${dest}" -

if ${validate}; then
  opts=()
  [ -f "${dest}/feats.scp" ] || opts+=(--no-feats)
  [ -f "${dest}/text" ] || opts+=(--no-text)
  [ -f "${dest}/wav.scp" ] || opts+=(--no-wav)
  "${utils}/validate_data_dir.sh" "${opts[@]}" "${dest}"
fi
