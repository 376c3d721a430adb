#!/usr/bin/env bash
# Writes a subset of a data directory (all its files, see fix_data_dir.sh) to <dest>:
#   subset_data_dir.sh [--first|--last] <src> <n> <dest>   the first/last n utterances
#   subset_data_dir.sh <src> <n> <dest>                    n utterances spread evenly
#   subset_data_dir.sh --utt-list <file> <src> <dest>      utterances named in <file>
#   subset_data_dir.sh --spk-list <file> <src> <dest>      all utterances of the speakers
#                                                          (= passages) named in <file>
# (<file>: the first field of each line is used.) Passages (contexts) only partly in the
# subset are left out of contexts and questions.jsonl, with a warning; --spk-list keeps
# whole passages.
set -euo pipefail

echo "$0 $*" >&2

usage() {
  cat >&2 <<USAGE
Usage: $0 [--first|--last] <src-dir> <num-utts> <dest-dir>
       $0 --utt-list <utt-list> <src-dir> <dest-dir>
       $0 --spk-list <spk-list> <src-dir> <dest-dir>
e.g.: $0 --first data/train 100 data/train_100
USAGE
  exit "$1"
}

die() {
  echo "$0: error: $*" >&2
  exit 1
}

mode=even
list=
case "${1:-}" in
  --first | --last)
    mode=${1#--}
    shift
    ;;
  --utt-list | --spk-list)
    mode=${1#--}
    [ $# -ge 2 ] || usage 1
    list=$2
    shift 2
    [ -e "${list}" ] || die "no such file ${list}"
    if [ ! -r "${list}" ] || [ -d "${list}" ]; then   # a file or a pipe (<(...)) will do
      die "cannot read ${list}"
    fi
    ;;
  -h | --help) usage 0 ;;
  -*)
    echo "$0: unknown option $1" >&2
    usage 1
    ;;
esac

if [ "${mode}" = utt-list ] || [ "${mode}" = spk-list ]; then
  [ $# -eq 2 ] || usage 1
  src=$1
  dest=$2
else
  [ $# -eq 3 ] || usage 1
  src=$1
  num=$2
  dest=$3
  [[ "${num}" =~ ^[1-9][0-9]*$ ]] || die "<num-utts> must be a positive integer, got '${num}'"
fi
[ -f "${src}/utt2spk" ] || die "no such file ${src}/utt2spk"
[ "$(cd "${src}" && pwd)" != "$(mkdir -p "${dest}" && cd "${dest}" && pwd)" ] ||
  die "<src-dir> and <dest-dir> are the same directory"

tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
total=$(wc -l < "${src}/utt2spk")

case "${mode}" in
  first | last | even)
    [ "${num}" -le "${total}" ] ||
      die "cannot take ${num} utterances: ${src} has only ${total}"
    case "${mode}" in
      first) head -n "${num}" "${src}/utt2spk" ;;
      last) tail -n "${num}" "${src}/utt2spk" ;;
      even) awk -v n="${num}" -v total="${total}" \
        'BEGIN { for (i = 0; i < n; i++) pick[int(i * total / n) + 1] = 1 } (NR in pick)' \
        "${src}/utt2spk" ;;
    esac | cut -d' ' -f1 > "${tmp}/utts"
    ;;
  utt-list)
    "$(dirname "$0")/filter_scp.pl" "${list}" "${src}/utt2spk" | cut -d' ' -f1 > "${tmp}/utts"
    ;;
  spk-list)
    "$(dirname "$0")/filter_scp.pl" -f 2 "${list}" "${src}/utt2spk" | cut -d' ' -f1 > "${tmp}/utts"
    ;;
esac

n=$(wc -l < "${tmp}/utts")
[ "${n}" -gt 0 ] || die "no utterance of ${src} was selected"
lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib
DATA_DIR_TOOL_NAME=${0##*/} perl "${lib}/data_dir_tool.pl" filter "${src}" "${dest}" "${tmp}/utts"
echo "$0: wrote ${n} of ${total} utterances of ${src} to ${dest}" >&2
