#!/usr/bin/env bash
# Reproducibility check: run the mini recipe twice in two fresh directories with the same seed and
# options, then compare the two runs stage by stage (test/integration/compare_runs.py).
# "Same seed, same machine, same thread settings -> same bytes" (doc/reproducibility.md).
#
#   test/integration/repro_check.sh            all stages, the recipe's default corpus size
#   test/integration/repro_check.sh --quick    a 0.1-size corpus, stages 1-4 + stage 5 for 1 epoch
#
# Options:
#   --quick                 the short check (a few minutes on 2 cores)
#   --share_data            run stage 1 once and copy its data/ and db/ into the second run, so
#                           stages 2+ are compared from equal inputs (isolates the synthesizer)
#   --workdir DIR           where the two runs go (default: a new mktemp -d dir); must not exist
#   --keep                  keep the work dir after a passing check (a failing one is always kept)
#   --live_code             run the repository's files as they are; by default both runs use a copy of
#                           speechbert/, utils/, steps/ and egs/TEMPLATE/ taken when the check starts,
#                           so that an edit made meanwhile cannot pass for nondeterminism
#   --stages LIST           stages compare_runs.py compares (default: those that were run)
#   --train_args STR        extra options of every training tool in both runs, e.g. "--num_threads 2"
#                           (--quick adds --max_epoch 1 for stage 5)
#   -- ARGS...              passed on to every run.sh call, e.g. -- --nj 1
# Exit status: 0 the runs are identical, 1 they differ (compare_runs.py), 2 usage error,
# 3 a recipe run failed (its log's tail is printed; the work dir is kept).
set -euo pipefail

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (repro_check.sh) $*" >&2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
corpus=mini_spoken_squad
python="${root}/tools/venv/bin/python"
# shellcheck source=test/integration/lib/recipe_copy.sh
. "${root}/test/integration/lib/recipe_copy.sh"

quick=false
share_data=false
keep=false
live_code=false
workdir=""
stages=""
train_args=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=true ;;
    --share_data) share_data=true ;;
    --keep) keep=true ;;
    --live_code) live_code=true ;;
    --workdir) workdir=$2; shift ;;
    --stages) stages=$2; shift ;;
    --train_args) train_args=$2; shift ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) log "Error: unknown option $1 (see --help)"; exit 2 ;;
  esac
  shift
done

require_venv "${root}"
workdir=$(new_workdir "${workdir}" repro_check)

# The code both runs use: the repository itself (--live_code), or a copy taken now. The copy of
# speechbert/ comes first on PYTHONPATH, ahead of the venv's editable install of the repository.
code=${root}
if [ "${live_code}" = false ]; then
  code=${workdir}/code
  mkdir -p "${code}/egs"
  cp -a "${root}/speechbert" "${root}/utils" "${root}/steps" "${code}/"
  cp -a "${root}/egs/TEMPLATE" "${code}/egs/"
  export PYTHONPATH="${code}${PYTHONPATH:+:${PYTHONPATH}}"
  log "code copied to ${code} (speechbert/ on PYTHONPATH)"
fi

run_recipe() {  # run_recipe <recipe dir> <label> <run.sh args...>
  local dir=$1 label=$2
  shift 2
  local start=${SECONDS}
  log "run ${label}: ./run.sh $* (in ${dir}, log ${dir}/repro_run.log)"
  if ! (cd "${dir}" && ./run.sh "$@") >> "${dir}/repro_run.log" 2>&1; then
    tail -n 30 "${dir}/repro_run.log" >&2
    log "Error: run ${label} failed; see ${dir}/repro_run.log (work dir kept: ${workdir})"
    exit 3
  fi
  log "run ${label} done in $((SECONDS - start)) s"
}

dir_a=$(make_run_dir "${root}" "${code}" "${corpus}" "${workdir}/a")
dir_b=$(make_run_dir "${root}" "${code}" "${corpus}" "${workdir}/b")
log "work dir ${workdir}: A=${dir_a} B=${dir_b}"

# What both runs get: the corpus size (quick), then every command runs in A, then in B.
common=()
if [ "${quick}" = true ]; then
  common=(--local_data_opts "--size 0.1 --seed 1")
  default_stages=1-5
else
  default_stages=1-10
fi
if [ "${share_data}" = true ]; then
  default_stages=2-${default_stages#*-}
fi
stages=${stages:-${default_stages}}

run_both() {  # run_both <train_args> <run.sh args...>: the same command in A, then in B
  local targs=$1
  shift
  run_recipe "${dir_a}" A "${common[@]}" --train_args "${targs}" "${extra[@]}" "$@"
  run_recipe "${dir_b}" B "${common[@]}" --train_args "${targs}" "${extra[@]}" "$@"
}

first=1
if [ "${share_data}" = true ]; then
  run_recipe "${dir_a}" A "${common[@]}" "${extra[@]}" --stage 1 --stop_stage 1
  log "copying data/ and db/ of A into B (stage 1 is then not compared)"
  cp -a "${dir_a}/data" "${dir_a}/db" "${dir_b}/"
  # wav.scp names the recordings by absolute path: B reads its own copy of db/.
  { grep -rlF -- "${dir_a}/" "${dir_b}/data" || true; } | while IFS= read -r f; do
    sed -i "s|${dir_a}/|${dir_b}/|g" "${f}"
  done
  first=2
fi

if [ "${quick}" = true ]; then
  run_both "${train_args}" --stage "${first}" --stop_stage 4
  run_both "--max_epoch 1${train_args:+ ${train_args}}" --stage 5 --stop_stage 5
else
  run_both "${train_args}" --stage "${first}"
fi

log "comparing A and B (stages ${stages})"
set +e
"${python}" "${root}/test/integration/compare_runs.py" "${dir_a}" "${dir_b}" --stages "${stages}"
status=$?
set -e
if [ "${status}" -eq 0 ]; then
  log "reproducible: both runs gave the same bytes (stages ${stages})"
  if [ "${keep}" = true ]; then
    log "work dir kept: ${workdir}"
  else
    rm -rf "${workdir}"
  fi
else
  log "NOT reproducible (compare_runs.py exit ${status}); both runs are kept in ${workdir}"
fi
exit "${status}"
