#!/usr/bin/env bash
# Splits a data directory into <n> pieces for parallel jobs: <data>/split<n>/{1..n}
# (each a complete data directory). By default the pieces are speaker-aligned (a speaker,
# i.e. a passage, is never split); --per-utt splits by utterance into <data>/split<n>utt/.
# Nothing is done when the split exists and is newer than every file of <data>.
set -euo pipefail

echo "$0 $*" >&2

usage() {
  cat >&2 <<USAGE
Usage: $0 [--per-utt] <data-dir> <num-to-split>
e.g.: $0 data/train 4      # writes data/train/split4/{1,2,3,4}
Options:
  --per-utt   split by utterance (data/train/split4utt/) instead of by speaker
USAGE
  exit "$1"
}

die() {
  echo "$0: error: $*" >&2
  exit 1
}

per_utt=false
case "${1:-}" in
  --per-utt)
    per_utt=true
    shift
    ;;
  -h | --help) usage 0 ;;
  -*)
    echo "$0: unknown option $1" >&2
    usage 1
    ;;
esac
[ $# -eq 2 ] || usage 1
data=${1%/}
num=$2
[[ "${num}" =~ ^[1-9][0-9]*$ ]] || die "<num-to-split> must be a positive integer, got '${num}'"
[ -f "${data}/utt2spk" ] || die "no such file ${data}/utt2spk"

if ${per_utt}; then
  out=${data}/split${num}utt
else
  out=${data}/split${num}
fi

if [ -f "${out}/.done" ] &&
  [ -z "$(find "${data}" -maxdepth 1 -type f -newer "${out}/.done" -print -quit)" ]; then
  echo "$0: ${out} is up to date" >&2
  exit 0
fi

num_utts=$(wc -l < "${data}/utt2spk")
per_utt_files=(text feats.scp utt2dur utt2num_frames segments)
[ -f "${data}/segments" ] || per_utt_files+=(wav.scp)   # else keyed by recording
for f in "${per_utt_files[@]}"; do
  if [ -f "${data}/${f}" ] && [ "$(wc -l < "${data}/${f}")" -ne "${num_utts}" ]; then
    echo "$0: warning: ${data}/${f} and ${data}/utt2spk have different numbers of lines;" \
      "the pieces only keep utterances found in utt2spk (run utils/fix_data_dir.sh ${data})" >&2
  fi
done

utils=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=${out}.tmp.$$
rm -rf "${tmp}"
trap 'rm -rf "${tmp}"' EXIT
mkdir -p "${tmp}"
lists=()
for k in $(seq 1 "${num}"); do
  lists+=("${tmp}/${k}.utts")
done
if ${per_utt}; then
  "${utils}/split_scp.pl" "${data}/utt2spk" "${lists[@]}"
else
  "${utils}/split_scp.pl" --utt2spk="${data}/utt2spk" "${data}/utt2spk" "${lists[@]}" ||
    die "speaker-aligned split failed (use --per-utt to split by utterance)"
fi
for k in $(seq 1 "${num}"); do
  DATA_DIR_TOOL_NAME=${0##*/} perl "${utils}/lib/data_dir_tool.pl" filter --quiet \
    "${data}" "${tmp}/${k}" "${tmp}/${k}.utts"
  rm "${tmp}/${k}.utts"
done
touch "${tmp}/.done"
rm -rf "${out}"
mv "${tmp}" "${out}"
echo "$0: split ${num_utts} utterances of ${data} into ${out}/{1..${num}}" >&2
