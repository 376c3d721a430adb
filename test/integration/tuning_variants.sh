#!/usr/bin/env bash
# The conf/tuning/ variants of the mini recipe, end to end on a tiny corpus (make tuning-test):
#
#   ssl    the audio word encoder (stages 5-7) reads the features of a tiny randomly initialised
#          SSL frontend (conf/tuning/ssl_tiny.yaml, dump/ssl_tiny); the CTC aligner keeps fbank
#   units  stages 5-7 read k-means units learned on those SSL features
#          (conf/tuning/km32_ssl_tiny.yaml, dump/units_km32_ssl_tiny) with the units encoder
#
# In a scratch copy of the recipe: a 0.1-size corpus (stage 1, as the quick reproducibility check
# makes it), the tiny SSL checkpoint (local/make_tiny_ssl.py), then the ssl variant's stages 2-7
# and the units variant's stages 2 and 5-7 (--tag km32; stages 3-4 are the ssl variant's: same
# aligner features), every training for one epoch. Checked: each stage's outputs exist, the dumps'
# feats_type lines, what each experiment recorded as its dump, and that the units variant's stage 2
# leaves the aligner's dump/fbank and the aligner as they were. The numbers mean nothing.
#
#   test/integration/tuning_variants.sh [--size S] [--workdir DIR] [--keep] [-- RUN.SH ARGS...]
#
# Options:
#   --size S        corpus size for local/data.sh (default 0.1; make test runs 0.05, the short version)
#   --workdir DIR   where the recipe copy goes (default: a new mktemp -d dir); must not exist
#   --keep          keep the work dir after a pass (a failure always keeps it)
#   -- ARGS...      passed on to every run.sh call, e.g. -- --nj 1
# Exit status: 0 passed, 1 a check failed, 2 usage error, 3 a recipe run failed (its log's tail is
# printed).
set -euo pipefail

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (tuning_variants.sh) $*" >&2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
corpus=mini_spoken_squad
# shellcheck source=test/integration/lib/recipe_copy.sh
. "${root}/test/integration/lib/recipe_copy.sh"

workdir=""
size=0.1
keep=false
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --workdir) workdir=$2; shift ;;
    --size) size=$2; shift ;;
    --keep) keep=true ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) log "Error: unknown option $1 (see --help)"; exit 2 ;;
  esac
  shift
done

require_venv "${root}"
workdir=$(new_workdir "${workdir}" tuning_variants)

# The recipe copy (lib/recipe_copy.sh; the repository's own code, linked).
dir=$(make_run_dir "${root}" "${root}" "${corpus}" "${workdir}")
cd "${dir}"
run_log=${dir}/tuning_run.log

failed=0
check() {  # check <description> <command...>: run a check, count a failure
  local what=$1
  shift
  if "$@"; then
    log "ok: ${what}"
  else
    log "FAILED: ${what}"
    failed=$((failed + 1))
  fi
}
run_recipe() {  # run_recipe <label> <run.sh args...>
  local label=$1 start=${SECONDS}
  shift
  log "${label}: ./run.sh $* (log ${run_log})"
  if ! ./run.sh --local_data_opts "--size ${size} --seed 1" "${extra[@]}" "$@" >> "${run_log}" 2>&1; then
    tail -n 30 "${run_log}" >&2
    log "Error: ${label} failed; see ${run_log} (work dir kept: ${workdir})"
    exit 3
  fi
  log "${label} done in $((SECONDS - start)) s"
}
feats_type_is() {  # feats_type_is <dump root> <line>: every set's feats_type is <line>
  local x
  for x in train dev test; do
    [ "$(cat "$1/${x}/feats_type")" = "$2" ] || { echo "$1/${x}/feats_type: $(cat "$1/${x}/feats_type"), expected $2" >&2; return 1; }
  done
}
files_exist() {
  local f
  for f in "$@"; do [ -s "${f}" ] || { echo "missing or empty: ${f}" >&2; return 1; }; done
}
recorded() {  # recorded <exp dir> <key> <value>: the experiment's config.yaml has "<key>: <value>"
  grep -qx "$2: $3" "$1/config.yaml" || { echo "$1/config.yaml: no '$2: $3' ($(grep "^$2:" "$1/config.yaml" || echo none))" >&2; return 1; }
}
not_recorded() {  # not_recorded <exp dir> <key>: the key is absent or null
  ! grep -q "^$2: [^n]" "$1/config.yaml" || { echo "$1/config.yaml: $(grep "^$2:" "$1/config.yaml")" >&2; return 1; }
}
tree_hash() {  # tree_hash <dir>...: one hash of every file's bytes (logs aside)
  find "$@" -type f ! -path '*/log/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

t0=${SECONDS}
log "work dir ${workdir}: the tiny SSL checkpoint and a ${size}-size corpus"
# shellcheck disable=SC1091  # path.sh is a symlink into egs/TEMPLATE/sqa1
(. ./path.sh && python local/make_tiny_ssl.py --config conf/tuning/ssl_tiny.yaml) >> "${run_log}" 2>&1
run_recipe "stage 1" --stage 1 --stop_stage 1
t_setup=$((SECONDS - t0))

t0=${SECONDS}
run_recipe "ssl variant" --stage 2 --stop_stage 7 --train_args "--max_epoch 1" \
  --awe_feats_config conf/tuning/ssl_tiny.yaml --joint_embed_config conf/tuning/joint_embed_ssl.yaml
t_ssl=$((SECONDS - t0))
check "dump/fbank: fbank 80 features + CMVN (the aligner's)" feats_type_is dump/fbank "fbank 80"
check "dump/ssl_tiny: ssl 32 features + CMVN (the encoder's)" feats_type_is dump/ssl_tiny "ssl 32"
check "CMVN of both dumps" files_exist dump/fbank/train/cmvn.ark dump/ssl_tiny/train/cmvn.ark
check "stage 3: the aligner, trained on dump/fbank" files_exist exp/ctc_aligner/model.avg.pt exp/ctc_aligner/aligner.pt
check "stage 3 records dump/fbank" recorded exp/ctc_aligner train_dump dump/fbank/train
check "stage 4: word CTMs and ASR transcripts" files_exist exp/align/{train,dev,test}/word.ctm exp/asr_ctc/{dev,test}/text
for e in joint_embed_ssl pretrain finetune; do
  check "stages 5-7: exp/${e}, on dump/ssl_tiny" files_exist "exp/${e}/model.avg.pt"
  check "exp/${e} records dump/ssl_tiny" recorded "exp/${e}" train_dump dump/ssl_tiny/train
  check "exp/${e} records its CMVN" recorded "exp/${e}" cmvn dump/ssl_tiny/train/cmvn.ark
done
fbank_hash=$(tree_hash dump/fbank)
aligner_hash=$(tree_hash exp/ctc_aligner exp/align)

t0=${SECONDS}
run_recipe "units variant" --stage 2 --stop_stage 7 --skip_stages "3 4" --tag km32 --train_args "--max_epoch 1" \
  --units_config conf/tuning/km32_ssl_tiny.yaml --joint_embed_config conf/tuning/joint_embed_units.yaml
t_units=$((SECONDS - t0))
units=dump/units_km32_ssl_tiny
check "${units}: unit ids (units 32)" feats_type_is "${units}" "units 32"
check "${units}: the codebook and every set's units table" files_exist "${units}/codebook.npz" "${units}"/{train,dev,test}/units
check "dump/fbank is unchanged by the units variant's stage 2" [ "$(tree_hash dump/fbank)" = "${fbank_hash}" ]
check "the aligner and the alignment are unchanged" [ "$(tree_hash exp/ctc_aligner exp/align)" = "${aligner_hash}" ]
for e in joint_embed_units_km32 pretrain_km32 finetune_km32; do
  check "stages 5-7: exp/${e}, on ${units}" files_exist "exp/${e}/model.avg.pt"
  check "exp/${e} records ${units}" recorded "exp/${e}" train_dump "${units}/train"
  check "exp/${e} has no CMVN (unit ids)" not_recorded "exp/${e}" cmvn
done
check "exp/joint_embed_units_km32 uses the units encoder" recorded exp/joint_embed_units_km32 awe units

log "times: setup (checkpoint + stage 1) ${t_setup} s, ssl variant (stages 2-7) ${t_ssl} s, units variant (stages 2, 5-7) ${t_units} s"
if [ "${failed}" -ne 0 ]; then
  log "${failed} check(s) FAILED; work dir kept: ${workdir}"
  exit 1
fi
if [ "${keep}" = true ]; then
  log "all checks passed; work dir kept: ${workdir}"
else
  rm -rf "${workdir}"
  log "all checks passed"
fi
