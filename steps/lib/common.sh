# shellcheck shell=bash
# Helpers shared by the steps/*.sh scripts. Source it from the recipe directory, right after
# `set -euo pipefail`:  . steps/lib/common.sh

# Prints a time-stamped message on stderr, naming the script, line and function that logged it.
log() {
    _log_caller "$@"
}

# log() for the helpers below: names the line of the script that called the helper.
_log_caller() {
    local fname=${BASH_SOURCE[2]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[1]}:${FUNCNAME[2]}) $*" >&2
}

# Exits with an error naming the first argument that is not an existing file.
require_files() {
    local f
    for f in "$@"; do
        if [ ! -f "${f}" ]; then
            _log_caller "Error: no such file ${f}"
            exit 1
        fi
    done
}

# Prints the number of jobs for --nj $1 over the list file $2 (one utterance a line): $1, or the
# number of utterances when there are fewer. Exits on an --nj that is not a positive integer or
# an empty list.
num_jobs() {
    local nj=$1 list=$2 num_utts
    if ! [[ "${nj}" =~ ^[1-9][0-9]*$ ]]; then
        _log_caller "Error: --nj must be a positive integer, got '${nj}'"
        exit 1
    fi
    num_utts=$(wc -l < "${list}")
    if [ "${num_utts}" -eq 0 ]; then
        _log_caller "Error: ${list} is empty"
        exit 1
    fi
    if [ "${nj}" -gt "${num_utts}" ]; then
        _log_caller "only ${num_utts} utterances: using --nj ${num_utts} instead of ${nj}"
        nj=${num_utts}
    fi
    echo "${nj}"
}

# Splits the list file $1 into $3 pieces <$2>/<name of $1>.1 ... .$3 (<$2> is made afresh).
split_list() {
    local list=$1 splitdir=$2 nj=$3 n pieces=()
    rm -rf "${splitdir}"
    mkdir -p "${splitdir}"
    for n in $(seq "${nj}"); do
        pieces+=("${splitdir}/${list##*/}.${n}")
    done
    utils/split_scp.pl "${list}" "${pieces[@]}"
}

# sort_into <out> [<sort options>] <files...>: writes the LC_ALL=C-sorted lines of <files> to
# <out> through a temporary file beside it, renamed into place. If sort fails (a missing input,
# a full disk), the temporary file is removed, <out> keeps its old content, and the error names
# <out> (sort's own message, just above, says why).
sort_into() {
    local out=$1 tmp
    shift
    tmp="$(dirname "${out}")/.${out##*/}.tmp"
    if ! LC_ALL=C sort "$@" > "${tmp}"; then
        rm -f "${tmp}"
        _log_caller "Error: cannot write ${out} (see the message above)"
        exit 1
    fi
    mv "${tmp}" "${out}"
}
