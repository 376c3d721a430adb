#!/usr/bin/env bash
# Integration test: the mini recipe end to end on CPU, from a clean state, then a check that the
# results table exists and every number in it is present and within [0, 100].
#
#   run_mini_recipe.sh              stages 1-5, then 6-8 (end to end) beside 9 and the extra
#                                   pre-training set (neither reads what 6-8 write), then 10
#   run_mini_recipe.sh --serial     ./run.sh in one go, as a user runs it (make demo)
#
# Every training runs on one thread, so the two lanes use both CPUs of a CI machine; the outputs
# are the same bytes either way, since each stage reads only what earlier stages wrote.
set -euo pipefail
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (run_mini_recipe.sh) $*" >&2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
recipe="${root}/egs/mini_spoken_squad/sqa1"
serial=false
if [ "${1:-}" = --serial ]; then
    serial=true
    shift
fi
if [ $# -ne 0 ]; then
    log "Error: unexpected arguments: $* (usage: run_mini_recipe.sh [--serial])"
    exit 2
fi

# Extra pre-training data (the paper pre-trains on LibriSpeech too): a small LibriSpeech-layout
# corpus made here, imported, featurised and aligned, then stages 5-6 for one epoch on mini + it
# (experiments *_ls; the recipe's results are not touched). What sqa.sh passes for --pretrain_sets
# in stages 2 and 4 is checked in test/shell/sqa_sh.bats.
extra_pretraining_set() {
    log "extra pre-training set: a LibriSpeech-layout fixture through stages 2, 4, 5 and 6"
    "${root}/tools/venv/bin/python" "${root}/test/integration/make_librispeech_fixture.py" data/train/text db/librispeech
    "${root}/tools/venv/bin/python" -m speechbert.bin.prepare_librispeech --librispeech_root db/librispeech \
        --subsets dev-clean --data_dir data
    (
        # Stages 2 and 4 for the new set alone (the recipe's own steps; the mini sets are done).
        # shellcheck disable=SC1091  # path.sh is a symlink into egs/TEMPLATE/sqa1
        . ./path.sh
        # (dump/<feature config tag>/<set>: the recipe's dump layout, doc/features.md)
        steps/make_feats.sh --cmd run.pl --nj 2 --feats_config conf/fbank.yaml data/librispeech_dev_clean \
            dump/fbank/librispeech_dev_clean
        steps/align.sh --cmd run.pl --nj 2 data/librispeech_dev_clean dump/fbank/librispeech_dev_clean \
            exp/ctc_aligner exp/align/librispeech_dev_clean
    )
    ./run.sh --stage 5 --stop_stage 6 --test_sets "" --pretrain_sets librispeech_dev_clean --tag ls \
        --train_args "--max_epoch 1 --max_steps 3"
}

cd "${recipe}"
log "cleaning previous outputs in ${recipe}"
rm -rf data dump exp db RESULTS.md

if "${serial}"; then
    log "running the mini recipe (all stages, one after another)"
    ./run.sh
    extra_pretraining_set
else
    log "running the mini recipe: stages 1-5"
    ./run.sh --stop_stage 5
    side_log=exp/integration_side_lane.log
    log "stages 6-8 here; stage 9 and the extra pre-training set beside them (log: ${side_log})"
    ( ./run.sh --stage 9 --stop_stage 9 && extra_pretraining_set ) > "${side_log}" 2>&1 &
    side_pid=$!
    main_rc=0
    ./run.sh --stage 6 --stop_stage 8 || main_rc=$?
    side_rc=0
    wait "${side_pid}" || side_rc=$?
    log "---- side lane (stage 9, extra pre-training set), exit ${side_rc}:"
    cat "${side_log}" >&2
    log "---- end of the side lane"
    if [ "${main_rc}" -ne 0 ] || [ "${side_rc}" -ne 0 ]; then
        log "Error: stages 6-8 exited ${main_rc}, the side lane ${side_rc}"
        exit 1
    fi
    log "running the mini recipe: stage 10"
    ./run.sh --stage 10 --stop_stage 10
fi

log "checking RESULTS.md"
"${root}/tools/venv/bin/python" "${root}/test/integration/check_results.py" RESULTS.md exp

for exp in exp/joint_embed_ls exp/pretrain_ls; do
    if ! grep -q "extra_train_data" "${exp}/config.yaml" || [ ! -f "${exp}/model.avg.pt" ]; then
        log "Error: ${exp} did not train on the extra pre-training set"
        exit 1
    fi
done
# The error-analysis page of stage 10 in a real headless browser (test/integration/browser_check.py).
# Under test/run_all_tests.sh the checks lane installs Chromium and touches
# $CHROMIUM_INSTALL_MARKER when done; alone, this script installs it (nothing when present).
wait_for_chromium() {
    local marker=${CHROMIUM_INSTALL_MARKER:-} waited=0
    if [ -z "${marker}" ]; then
        "${root}/tools/installers/install_chromium.sh"
        return
    fi
    while [ ! -e "${marker}" ]; do
        if [ "${waited}" -ge 1800 ]; then
            log "Error: the Chromium install of the checks lane did not finish in ${waited} s (${marker})"
            return 1
        fi
        if [ "${waited}" -eq 0 ]; then log "waiting for the Chromium install of the checks lane"; fi
        sleep 5
        waited=$(( waited + 5 ))
    done
}
page=exp/report/test/index.html
if [ ! -f "${page}" ]; then
    log "Error: stage 10 wrote no error-analysis page (${recipe}/${page})"
    exit 1
fi
wait_for_chromium
log "browser check of ${page} (screenshot: ${recipe}/exp/report/test/browser_check/report.png)"
"${root}/tools/venv/bin/python" "${root}/test/integration/browser_check.py" "${page}" \
    --out_dir exp/report/test/browser_check

# A packed model answers a new recording in a fresh directory (no exp/) as the exp dir does.
log "model pack check (test/integration/check_model_pack.sh)"
pack_dir=$(mktemp -d "${TMPDIR:-/tmp}/model_pack_check.XXXXXX")
"${root}/test/integration/check_model_pack.sh" "${PWD}" "${pack_dir}"
rm -rf "${pack_dir}"

log "integration test passed"
