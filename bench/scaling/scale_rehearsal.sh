#!/usr/bin/env bash
# Scale rehearsal (issue 10 item 5): run the mini recipe one stage at a time at several corpus
# sizes and record, per stage, wall time, CPU time (user + sys of every process the stage ran),
# peak RSS (of the largest single process; parallel JOB=1:nj tasks add up beside it) and the disk
# use of what the stage wrote. doc/scaling.md reports the numbers; bench/scaling/scaling_table.py turns
# the TSV into its tables.
#
#   bench/scaling/scale_rehearsal.sh [--sizes "1 2 4"] [--repo DIR] [--out FILE] [--max_epoch 1] [--stages "1 2 ... 10"]
#
# Each size runs in a fresh copy of egs/mini_spoken_squad/sqa1 at
# <repo>/egs/mini_spoken_squad/scale_size<S> (the copy must sit two levels below egs/ so its
# path.sh finds the repository); <repo> defaults to this script's repository. Run it in a git
# worktree, not in a checkout whose recipe directory is in use, e.g.
#   git worktree add --detach /tmp/scale HEAD && ln -s "$PWD/tools/venv" /tmp/scale/tools/venv
#   cp -p tools/*.done tools/activate_python.sh /tmp/scale/tools/
#   PYTHONPATH=/tmp/scale bench/scaling/scale_rehearsal.sh --repo /tmp/scale --out /tmp/scale/scaling.tsv
#
# Every training stage runs --max_epoch 1 (--train_args), so training time scales per epoch;
# multiply by the config's max_epoch for the full recipe (doc/scaling.md does).
#
# Needs GNU time at /usr/bin/time (Debian: `apt-get install time`; bash's `time` keyword gives
# neither the children's peak RSS nor a machine-readable format).
#
# Output: a TSV with the header
#   size stage wall_s cpu_s max_rss_mb disk_mb load_avg
# load_avg is the mean 1-minute load average sampled every 5 s while the stage ran (this
# stage's own processes included: compare it with cpu_s / wall_s to see the other work on the
# machine). disk_mb is the growth of data/ db/ dump/ exp/ of the copy during the stage.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sizes="1 2 4"
repo=$(cd "${script_dir}/../.." && pwd)
out=""
max_epoch=1
stages="1 2 3 4 5 6 7 8 9 10"
seed=1

while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes=$2; shift 2;;
        --repo) repo=$2; shift 2;;
        --out) out=$2; shift 2;;
        --max_epoch) max_epoch=$2; shift 2;;
        --stages) stages=$2; shift 2;;
        --seed) seed=$2; shift 2;;
        -h|--help) sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
        *) log "Error: unknown option '$1' (see --help)"; exit 2;;
    esac
done

if [ ! -x /usr/bin/time ]; then
    log "Error: GNU time is missing at /usr/bin/time (Debian: apt-get install time)"
    exit 2
fi
src="${repo}/egs/mini_spoken_squad/sqa1"
if [ ! -x "${src}/run.sh" ]; then
    log "Error: ${src}/run.sh not found (--repo must be a speechbert checkout)"
    exit 2
fi
if [ -z "${out}" ]; then out="${repo}/scaling.tsv"; fi
out=$(realpath -m "${out}")
mkdir -p "$(dirname "${out}")"

# disk_bytes <dir>: bytes under the directories the stages write (links not followed).
disk_bytes() {
    local d=$1 x dirs=()
    for x in data db dump exp; do
        if [ -d "${d}/${x}" ]; then dirs+=("${d}/${x}"); fi
    done
    if [ ${#dirs[@]} -eq 0 ]; then echo 0; return; fi
    du -sbc "${dirs[@]}" | tail -n 1 | cut -f1
}

# sample_load <file>: append the 1-minute load average every 5 s until killed.
sample_load() {
    local f=$1
    while true; do
        cut -d' ' -f1 /proc/loadavg >> "${f}"
        sleep 5
    done
}

log "sizes '${sizes}', stages '${stages}', --max_epoch ${max_epoch}, repo ${repo}"
log "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
log "commit: $(git -C "${repo}" rev-parse HEAD 2>/dev/null || echo unknown)"
if [ ! -s "${out}" ]; then
    printf 'size\tstage\twall_s\tcpu_s\tmax_rss_mb\tdisk_mb\tload_avg\n' > "${out}"
fi

for size in ${sizes}; do
    dir="${repo}/egs/mini_spoken_squad/scale_size${size}"
    log "=== size ${size}: fresh copy ${dir}"
    rm -rf "${dir}"
    mkdir -p "${dir}"
    # The recipe's own files only (links, conf, local, run.sh), none of its outputs.
    cp -a "${src}/run.sh" "${src}/cmd.sh" "${src}/path.sh" "${src}/sqa.sh" "${src}/steps" \
        "${src}/utils" "${src}/conf" "${src}/local" "${dir}/"
    for stage in ${stages}; do
        before=$(disk_bytes "${dir}")
        tfile="${dir}/time.stage${stage}"
        lfile="${dir}/load.stage${stage}"
        : > "${lfile}"
        sample_load "${lfile}" &
        sampler=$!
        log "size ${size} stage ${stage} (log: ${dir}/run.stage${stage}.log)"
        rc=0
        (cd "${dir}" && /usr/bin/time -o "${tfile}" -f '%e %U %S %M' \
            ./run.sh --stage "${stage}" --stop_stage "${stage}" \
                --local_data_opts "--size ${size} --seed ${seed}" \
                --train_args "--max_epoch ${max_epoch}" \
            > "${dir}/run.stage${stage}.log" 2>&1) || rc=$?
        kill "${sampler}"
        wait "${sampler}" 2>/dev/null || true
        if [ "${rc}" -ne 0 ]; then
            log "Error: size ${size} stage ${stage} failed (exit ${rc}); see ${dir}/run.stage${stage}.log"
            tail -n 20 "${dir}/run.stage${stage}.log" >&2
            exit 1
        fi
        after=$(disk_bytes "${dir}")
        load=$(awk '{s += $1; n++} END {if (n) printf "%.2f", s / n; else print "nan"}' "${lfile}")
        read -r wall user sys rss_kb < <(tail -n 1 "${tfile}")
        row=$(awk -v size="${size}" -v stage="${stage}" -v wall="${wall}" -v user="${user}" -v sys="${sys}" \
                  -v rss="${rss_kb}" -v before="${before}" -v after="${after}" -v load="${load}" \
            'BEGIN {printf "%s\t%s\t%.1f\t%.1f\t%.1f\t%.2f\t%s\n", size, stage, wall, user + sys, rss / 1024, (after - before) / 1e6, load}')
        printf '%s\n' "${row}" >> "${out}"
        log "size ${size} stage ${stage}: ${row//$'\t'/ | }"
    done
done
log "Successfully finished: ${out}"
