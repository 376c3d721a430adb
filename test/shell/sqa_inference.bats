#!/usr/bin/env bats
# egs/TEMPLATE/sqa1/sqa.sh: ASR and decoding in inference_nj jobs, GPU decoding through $cuda_cmd,
# stage 9 beside stages 5-8, the per-stage timing table. A stub stands in for Python, and the
# job submitters are wrappers of run.pl that record how they are called.

load helpers/common

TEMPLATE=${REPO_ROOT}/egs/TEMPLATE/sqa1

setup() {
  make_tmp_dir
  mkdir -p root/egs/c/sqa1/local root/tools
  : > root/tools/activate_python.sh
  ln -s "${REPO_ROOT}/utils" root/utils
  ln -s "${REPO_ROOT}/steps" root/steps
  cd root/egs/c/sqa1 || return 1
  for f in sqa.sh path.sh; do ln -s "${TEMPLATE}/${f}" "${f}"; done
  ln -s ../../../utils utils
  mkdir steps
  for f in make_feats.sh align.sh; do
    printf '#!/usr/bin/env bash\necho "steps/%s $*" >> "%s/calls.log"\n' "${f}" "${TMP_DIR}" > "steps/${f}"
    chmod +x "steps/${f}"
  done
  printf '#!/usr/bin/env bash\nexit 0\n' > local/data.sh
  chmod +x local/data.sh
  # "python": records its arguments; fails when $FAIL_ON matches them
  cat > "${TMP_DIR}/stub" <<EOF
#!/usr/bin/env bash
echo "\$*" >> "${TMP_DIR}/calls.log"
if [ -n "\${FAIL_ON:-}" ] && [[ "\$*" == *\${FAIL_ON}* ]]; then exit 3; fi
EOF
  for kind in cuda decode train; do
    printf '#!/usr/bin/env bash\necho "$*" >> "%s/%s_cmd.log"\nexec "%s/utils/run.pl" "$@"\n' \
      "${TMP_DIR}" "${kind}" "${REPO_ROOT}" > "${TMP_DIR}/${kind}.pl"
  done
  chmod +x "${TMP_DIR}/stub" "${TMP_DIR}"/*.pl
  cat > cmd.sh <<EOF
export train_cmd="${TMP_DIR}/train.pl"
export cuda_cmd="${TMP_DIR}/cuda.pl"
export decode_cmd="${TMP_DIR}/decode.pl"
EOF
  ARGS=(--python "${TMP_DIR}/stub" --bert_dir bert)
}

teardown() {
  remove_tmp_dir
}

refute_grep() {
  if grep -q -- "$1" "$2"; then
    echo "unexpected line matching '$1' in $2:" >&2
    grep -- "$1" "$2" >&2
    return 1
  fi
}

@test "sqa.sh decodes in inference_nj jobs through decode_cmd and merges the parts" {
  run ./sqa.sh "${ARGS[@]}" --stage 8 --stop_stage 8 --inference_nj 3
  assert_status 0
  for x in dev test; do
    d=exp/finetune/decode_${x}
    grep -q -- "JOB=1:3 ${d}/log/decode.JOB.log ${TMP_DIR}/stub -m speechbert.bin.sqa_decode --model_dir exp/finetune --data data/${x} .* --nj 3 --job JOB --out ${d}/split3/predictions.JOB.jsonl --job_record ${d}/split3/job.JOB.json" "${TMP_DIR}/decode_cmd.log"
    for k in 1 2 3; do
      grep -q -- "sqa_decode .*--nj 3 --job ${k} --out ${d}/split3/predictions.${k}.jsonl" "${TMP_DIR}/calls.log"
      [ -f "${d}/log/decode.${k}.log" ]
    done
    grep -q -- "merge_predictions --split_dir ${d}/split3 --nj 3 --out ${d}/predictions.jsonl" "${TMP_DIR}/calls.log"
    [ ! -e "${d}/split3" ]
  done
  assert_output_contains "running 3 decode jobs (logs: exp/finetune/decode_dev/log/decode.*.log; follow one with tail -f exp/finetune/decode_dev/log/decode.1.log)"
  [ ! -e "${TMP_DIR}/cuda_cmd.log" ]
  refute_grep "--ngpu" "${TMP_DIR}/calls.log"
}

@test "sqa.sh inference_nj defaults to --nj and is checked" {
  run ./sqa.sh "${ARGS[@]}" --stage 8 --stop_stage 8 --nj 2
  assert_status 0
  grep -q -- "sqa_decode .*--nj 2 --job 2 " "${TMP_DIR}/calls.log"
  run ./sqa.sh "${ARGS[@]}" --stage 8 --stop_stage 8 --inference_nj 0
  assert_status 2
  assert_output_contains "--inference_nj must be a positive integer, got '0'"
  run ./sqa.sh "${ARGS[@]}" --stage 8 --stop_stage 8 --gpu_inference yes
  assert_status 1
  assert_output_contains "--gpu_inference expects true or false, got 'yes'"
  run ./sqa.sh "${ARGS[@]}" --stage 8 --stop_stage 8 --parallel_stages maybe
  assert_status 2
  assert_output_contains "--parallel_stages must be true or false, got 'maybe'"
}

@test "sqa.sh gpu_inference=true decodes stages 8-9 as one job through cuda_cmd --gpu 1 with batched windows" {
  run ./sqa.sh "${ARGS[@]}" --stage 8 --stop_stage 9 --inference_nj 4 --gpu_inference true \
    --gpu_decode_batch_size 128 --decode_args "--nbest 3"
  assert_status 0
  for d in exp/finetune/decode_dev exp/finetune/decode_test exp/finetune_text/decode_test_asr_ctc \
    exp/finetune_text/decode_test_reference_text; do
    grep -q -- "^--gpu 1 JOB=1:1 ${d}/log/decode.JOB.log ${TMP_DIR}/stub -m speechbert.bin.[a-z_]*decode .*--nbest 3 --ngpu 1 --batch_size 128 --nj 1 --job JOB --out ${d}/split1/predictions.JOB.jsonl" "${TMP_DIR}/cuda_cmd.log"
    grep -q -- "merge_predictions --split_dir ${d}/split1 --nj 1 --out ${d}/predictions.jsonl" "${TMP_DIR}/calls.log"
  done
  [ "$(grep -c 'decode .*--ngpu 1 --batch_size 128 --nj 1 --job 1 ' "${TMP_DIR}/calls.log")" -eq 6 ]
  refute_grep "decode" "${TMP_DIR}/decode_cmd.log"
  # training keeps its own GPU setting (ngpu=0 here)
  grep -q -- "^--gpu 0 --name finetune_text exp/finetune_text/train.log" "${TMP_DIR}/cuda_cmd.log"
}

@test "sqa.sh stage 4 transcribes in inference_nj jobs through decode_cmd, beside the alignment" {
  for x in dev test; do
    mkdir -p "data/${x}"
    printf '%s-1 a\n%s-2 b\n' "${x}" "${x}" > "data/${x}/text"
  done
  run ./sqa.sh "${ARGS[@]}" --stage 4 --stop_stage 4 --inference_nj 3 --parallel_stages true
  assert_status 0
  assert_output_contains "ASR transcripts of dev test beside the alignment"
  # 2 utterances: 2 jobs, not 3
  grep -q -- "JOB=1:2 exp/asr_ctc/test/log/asr.JOB.log ${TMP_DIR}/stub -m speechbert.bin.asr_transcribe --asr ctc --data data/test --dump dump/fbank/test --model_dir exp/ctc_aligner --out_dir exp/asr_ctc/test/split2/JOB --nj 2 --job JOB" "${TMP_DIR}/decode_cmd.log"
  grep -q -- "asr_transcribe --data data/test --out_dir exp/asr_ctc/test --merge exp/asr_ctc/test/split2/1 exp/asr_ctc/test/split2/2$" "${TMP_DIR}/calls.log"
  grep -q -- "steps/align.sh .* data/test " "${TMP_DIR}/calls.log"
  # a failing ASR job fails the stage, also beside the alignment
  FAIL_ON="--job 2" run ./sqa.sh "${ARGS[@]}" --stage 4 --stop_stage 4 --parallel_stages true
  assert_status 1
  assert_output_contains "Error: asr failed; see exp/asr_ctc/dev/log/asr.*.log"
  assert_output_contains "Error: the ASR transcripts failed"
  # a bad option fails the stage before the ASR lane starts: nothing of it is written
  rm -rf exp
  run ./sqa.sh "${ARGS[@]}" --stage 4 --stop_stage 4 --parallel_stages true --alignment mfa
  assert_status 2
  [ ! -e exp/asr_ctc ]
}

@test "sqa.sh parallel_stages=true runs stage 9 beside stages 5-8; false runs it after them" {
  run ./sqa.sh "${ARGS[@]}" --stage 5 --stop_stage 9 --parallel_stages true --inference_nj 4
  assert_status 0
  assert_output_contains "Stage 9 (cascade baseline) runs beside stages 5-8 (log: exp/finetune_text/stage9.log"
  # beside the main lane, on the same CPUs, the cascade decodes in half the jobs
  grep -q -- "sqa_decode .* --nj 4 --job 4 " "${TMP_DIR}/calls.log"
  grep -q -- "cascade_decode .* --nj 2 --job 2 " "${TMP_DIR}/calls.log"
  refute_grep "cascade_decode .* --nj 4 " "${TMP_DIR}/calls.log"
  grep -q "Stage 9: cascade baseline" exp/finetune_text/stage9.log
  grep -q "| 9 | cascade baseline: text QA training + decoding | [0-9.]* | [0-9.]* | beside stages 5-8 |" exp/timing.md
  rm -rf exp
  run ./sqa.sh "${ARGS[@]}" --stage 5 --stop_stage 9 --parallel_stages false
  assert_status 0
  [ ! -e exp/finetune_text/stage9.log ]
  assert_output_not_contains "runs beside"
  refute_grep "beside stages" exp/timing.md
  # stage 9 comes after stage 8's last command
  [ "$(grep -n 'speechbert.bin.sqa_train --config conf/finetune_text.yaml' "${TMP_DIR}/calls.log" | tail -1 | cut -d: -f1)" -gt \
    "$(grep -n 'system_name baseline-random-span' "${TMP_DIR}/calls.log" | tail -1 | cut -d: -f1)" ]
}

@test "sqa.sh fails when the stage beside fails, and stops the lane beside when the main one fails" {
  FAIL_ON="finetune_text.yaml" run ./sqa.sh "${ARGS[@]}" --stage 5 --stop_stage 9 --parallel_stages true
  assert_status 1
  assert_output_contains "Error: stage 9 (cascade baseline) failed (exit 1); see exp/finetune_text/stage9.log"
  assert_output_contains "time per stage (wall and CPU seconds) up to the failure"
  [[ "${output}" =~ \|\ 9\ \|\ [^$'\n']*\|\ beside,\ failed\ \(exit\ [1-9][0-9]*\)\ \| ]]
  [ ! -e exp/timing.md ]  # a failed run changes no file
  # the main lane fails while stage 9 sleeps: the run ends at once, the sleeper with it
  printf '#!/usr/bin/env bash\ncase "$*" in *finetune_text.yaml*) echo $$ > %s/sleeper.pid; exec sleep 60;; *bin.pretrain*) sleep 1; exit 3;; esac\n' \
    "${TMP_DIR}" > "${TMP_DIR}/stub"
  SECONDS=0
  run ./sqa.sh "${ARGS[@]}" --stage 5 --stop_stage 9 --parallel_stages true
  assert_status 1
  [ "${SECONDS}" -lt 30 ]
  [ -s "${TMP_DIR}/sleeper.pid" ]
  wait_process_gone "$(cat "${TMP_DIR}/sleeper.pid")"
}

@test "sqa.sh writes each run's stage times to exp/timing.md, appending" {
  run ./sqa.sh "${ARGS[@]}" --stage 7 --stop_stage 8
  assert_status 0
  assert_output_contains "time per stage (wall and CPU seconds; also in exp/timing.md)"
  run ./sqa.sh "${ARGS[@]}" --stage 10
  assert_status 0
  [ "$(grep -c '^## ' exp/timing.md)" -eq 2 ]
  grep -q "^## .*: stages 7-8, commit " exp/timing.md
  grep -q "^## .*: stages 10-10, commit .*inference_nj=" exp/timing.md
  grep -q "^| 7 | SQA fine-tuning | [0-9]*\.[0-9] | [0-9]*\.[0-9] |  |$" exp/timing.md
  grep -q "^| 10 | ensemble |" exp/timing.md
  [ "$(grep -c '^| all | the whole run' exp/timing.md)" -eq 2 ]
  [ -z "$(find exp -maxdepth 1 -name '.*')" ]  # no temporary or lock file left
}

@test "run.pl runs one task per CPU also under path.sh's OMP_NUM_THREADS=1 (nproc would count 1)" {
  cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
  if [ "${cpus}" -lt 2 ]; then skip "needs 2 CPUs"; fi
  OMP_NUM_THREADS=1 run "${UTILS}/run.pl" JOB=1:2 log/c.JOB.log \
    bash -c 'a=$(date +%s.%N); sleep 0.5; echo "$a $(date +%s.%N)" > span.JOB'
  assert_status 0
  [ "$(max_overlap span.*)" -eq 2 ]
}
