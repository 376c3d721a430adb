#!/usr/bin/env bats
# egs/TEMPLATE/sqa1/sqa.sh: which commands the stages run, with a stub in place of Python.

load helpers/common

TEMPLATE=${REPO_ROOT}/egs/TEMPLATE/sqa1

setup() {
  make_tmp_dir
  # A recipe directory laid out like egs/<corpus>/sqa1, whose "python" records its arguments.
  mkdir -p root/egs/c/sqa1/local root/egs/c/sqa1/conf root/tools
  : > root/tools/activate_python.sh
  ln -s "${REPO_ROOT}/utils" root/utils
  ln -s "${REPO_ROOT}/steps" root/steps
  cd root/egs/c/sqa1 || return 1
  for f in sqa.sh path.sh cmd.sh; do ln -s "${TEMPLATE}/${f}" "${f}"; done
  ln -s ../../../utils utils
  mkdir steps  # stub steps: record how they are called
  for f in make_feats.sh align.sh; do
    printf '#!/usr/bin/env bash\necho "steps/%s $*" >> "%s/calls.log"\n' "${f}" "${TMP_DIR}" > "steps/${f}"
    chmod +x "steps/${f}"
  done
  printf '#!/usr/bin/env bash\nexit 0\n' > local/data.sh
  chmod +x local/data.sh
  printf 'frontend: fbank\n' > conf/fbank.yaml  # the default --feats_config (stage 2 checks it exists)
  printf '#!/usr/bin/env bash\necho "$*" >> "%s/calls.log"\n' "${TMP_DIR}" > "${TMP_DIR}/stub"
  chmod +x "${TMP_DIR}/stub"
}

teardown() {
  remove_tmp_dir
}

# refute_grep <pattern> <file>: fail if the file has a line matching the pattern
# (a bare `! grep` would not fail a bats test: errexit ignores negated commands).
refute_grep() {
  if grep -q -- "$1" "$2"; then
    echo "unexpected line matching '$1' in $2:" >&2
    grep -- "$1" "$2" >&2
    return 1
  fi
}

@test "sqa.sh --seeds trains and scores once per seed under _seedN names" {
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 7 --stop_stage 8 --seeds "1 2"
  assert_status 0
  for s in 1 2; do
    grep -q -- "speechbert.bin.sqa_train .*--init_model exp/pretrain_seed${s}/model.avg.pt .*--seed ${s} --output_dir exp/finetune_seed${s}" "${TMP_DIR}/calls.log"
    grep -q -- "--valid_ctm exp/align_seed${s}/dev/word.ctm" "${TMP_DIR}/calls.log"
    for x in dev test; do
      grep -q -- "score_sqa --data data/${x} --predictions exp/finetune_seed${s}/decode_${x}/predictions.jsonl .*--system_name end-to-end --seed ${s}" "${TMP_DIR}/calls.log"
    done
  done
  [ "$(grep -c 'speechbert.bin.sqa_train' "${TMP_DIR}/calls.log")" -eq 2 ]
}

@test "sqa.sh without --seeds keeps the plain names and decodes the validation set too" {
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 8 --stop_stage 8
  assert_status 0
  grep -q -- "sqa_decode --model_dir exp/finetune --data data/dev" "${TMP_DIR}/calls.log"
  grep -q -- "sqa_decode --model_dir exp/finetune --data data/test" "${TMP_DIR}/calls.log"
  refute_grep "--system_name end-to-end --seed" "${TMP_DIR}/calls.log"
  refute_grep "_seed" "${TMP_DIR}/calls.log"
}

@test "sqa.sh stage 10 chooses the ensemble weight on the validation set unless one is given" {
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 10 --stop_stage 10
  assert_status 0
  grep -q -- "ensemble --e2e exp/finetune/decode_test/predictions.jsonl .*--dev_e2e exp/finetune/decode_dev/predictions.jsonl --dev_cascade exp/finetune_text/decode_dev_asr_ctc/predictions.jsonl --dev_data data/dev" "${TMP_DIR}/calls.log"
  grep -q -- "speechbert.bin.report --exp_dir exp --data data/test --out exp/report/test/index.html" "${TMP_DIR}/calls.log"
  rm "${TMP_DIR}/calls.log"
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 10 --stop_stage 10 --ensemble_weight 0.3
  assert_status 0
  grep -q -- "ensemble .*--weight 0.3 --out" "${TMP_DIR}/calls.log"
  refute_grep "--dev_e2e" "${TMP_DIR}/calls.log"
}

@test "sqa.sh rejects --seeds that are not integers" {
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 7 --stop_stage 7 --seeds "1 two"
  assert_status 2
  assert_output_contains "--seeds must be non-negative integers, got '1 two'"
}

@test "sqa.sh --nj defaults to the CPU count with run.pl (not OMP_NUM_THREADS), and is checked" {
  for x in train dev test; do mkdir -p "data/${x}" && echo "${x}-1 /audio/${x}-1.wav" > "data/${x}/wav.scp"; done
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 2
  assert_status 0
  grep -q -- "steps/make_feats.sh --cmd run.pl --nj $(env -u OMP_NUM_THREADS nproc) " "${TMP_DIR}/calls.log"
  rm "${TMP_DIR}/calls.log"
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 2 --nj 3
  grep -q -- "steps/make_feats.sh --cmd run.pl --nj 3 " "${TMP_DIR}/calls.log"
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 2 --nj 0
  assert_status 2
  assert_output_contains "--nj must be a positive integer, got '0'"
}

@test "sqa.sh stage 4 transcribes with the aligner's CMVN, as it aligns" {
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 4 --stop_stage 4
  assert_status 0
  grep -q -- "asr_transcribe --asr ctc --data data/test --dump dump/fbank/test --model_dir exp/ctc_aligner" "${TMP_DIR}/calls.log"
  refute_grep "asr_transcribe.*--cmvn" "${TMP_DIR}/calls.log"
}

@test "spoken_squad run.sh with the placeholder db.sh says to edit db.sh" {
  cd "${REPO_ROOT}/egs/spoken_squad/sqa1"
  run env -u SPOKEN_SQUAD -u SQUAD ./run.sh --stage 1 --stop_stage 1
  assert_status 2
  assert_output_contains "SPOKEN_SQUAD is still the placeholder '/path/to/spoken_squad': edit db.sh"
}

@test "sqa.sh stage 2 computes the features of sets with the same audio once" {
  mkdir -p data/train data/dev data/test data/test_noisy
  for x in train dev test; do echo "${x}-1 /audio/${x}-1.wav" > "data/${x}/wav.scp"; done
  cp data/test/wav.scp data/test_noisy/wav.scp
  mkdir -p dump/fbank/test_noisy  # left by an earlier run: replaced by the link
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 2 --test_sets "test test_noisy"
  assert_status 0
  assert_output_contains "data/test_noisy has the audio of data/test: dump/fbank/test_noisy links to its features"
  [ "$(grep -c 'steps/make_feats.sh' "${TMP_DIR}/calls.log")" -eq 3 ]
  [ "$(readlink dump/fbank/test_noisy)" = test ]
}

@test "sqa.sh stage 2 without data says to run stage 1" {
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 2
  assert_status 1
  assert_output_contains "data/train/wav.scp is missing (run stage 1, data preparation, first)"
}

@test "sqa.sh --pretrain_sets: features, alignment and stages 5-6 read them; fine-tuning does not" {
  for x in train dev test ls_a ls_b; do mkdir -p "data/${x}" && echo "${x}-1 /audio/${x}-1.wav" > "data/${x}/wav.scp"; done
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 7 --skip_stages 3 --pretrain_sets "ls_a ls_b"
  assert_status 0
  grep -q -- "steps/make_feats.sh .* data/ls_b dump/fbank/ls_b" "${TMP_DIR}/calls.log"
  grep -q -- "steps/align.sh .* data/ls_a dump/fbank/ls_a exp/ctc_aligner exp/align/ls_a" "${TMP_DIR}/calls.log"
  refute_grep "asr_transcribe .*data/ls_a" "${TMP_DIR}/calls.log"
  local extra="--extra_train_data data/ls_a data/ls_b --extra_train_dump dump/fbank/ls_a dump/fbank/ls_b --extra_train_ctm exp/align/ls_a/word.ctm exp/align/ls_b/word.ctm"
  grep -q -- "speechbert.bin.joint_embed_train .*${extra}" "${TMP_DIR}/calls.log"
  grep -q -- "speechbert.bin.pretrain .*${extra} --init_audio_encoder" "${TMP_DIR}/calls.log"
  refute_grep "speechbert.bin.sqa_train .*extra_train" "${TMP_DIR}/calls.log"
}

@test "sqa.sh refuses stage selections that would run nothing or are not numbers" {
  local args=(--python "${TMP_DIR}/stub" --bert_dir bert)
  run ./sqa.sh "${args[@]}" --stage 5 --stop_stage 3
  assert_status 2
  assert_output_contains "--stage 5 is after --stop_stage 3: nothing would run"
  run ./sqa.sh "${args[@]}" --stage 11
  assert_status 2
  assert_output_contains "--stage 11: the stages are 1 to 10"
  run ./sqa.sh "${args[@]}" --stage three
  assert_status 2
  assert_output_contains "--stage must be a stage number, got 'three'"
  refute_grep "line [0-9]*:" <(echo "${output}")  # no bash errors on the way
  run ./sqa.sh "${args[@]}" --stage 10 --skip_stages "x y"
  assert_status 2
  assert_output_contains "--skip_stages 'x y': 'x' is not a stage number (1 to 10)"
  [ ! -e "${TMP_DIR}/calls.log" ]
}

@test "sqa.sh keeps the logs of earlier training attempts as train.log.1, .2, ..." {
  mkdir -p exp/finetune
  echo attempt1 > exp/finetune/train.log
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 7 --stop_stage 7
  assert_status 0
  [ "$(cat exp/finetune/train.log.1)" = attempt1 ]
  echo attempt2 > exp/finetune/train.log
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 7 --stop_stage 7
  [ "$(cat exp/finetune/train.log.1)" = attempt2 ] && [ "$(cat exp/finetune/train.log.2)" = attempt1 ]
  grep -q "speechbert.bin.sqa_train" exp/finetune/train.log  # the new attempt's own log
}

@test "sqa.sh: one dump per feature config; the aligner reads align_feats_config's, the encoder awe_feats_config's" {
  for x in train dev test; do mkdir -p "data/${x}" && echo "${x}-1 /audio/${x}-1.wav" > "data/${x}/wav.scp"; done
  printf 'frontend: mfcc\n' > conf/mfcc.yaml
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 8 --skip_stages 4 --awe_feats_config conf/mfcc.yaml
  assert_status 0
  for x in train dev test; do
    [ "$(grep -c -- "--feats_config conf/fbank.yaml data/${x} dump/fbank/${x}\$" "${TMP_DIR}/calls.log")" -eq 1 ]
    [ "$(grep -c -- "--feats_config conf/mfcc.yaml data/${x} dump/mfcc/${x}\$" "${TMP_DIR}/calls.log")" -eq 1 ]
  done
  for t in fbank mfcc; do
    grep -q -- "compute_cmvn --feats_scp dump/${t}/train/feats.scp --out dump/${t}/train/cmvn.ark" "${TMP_DIR}/calls.log"
  done
  grep -q -- "align_train .*--train_dump dump/fbank/train --valid_data data/dev --valid_dump dump/fbank/dev --cmvn dump/fbank/train/cmvn.ark" "${TMP_DIR}/calls.log"
  for tool in joint_embed_train pretrain sqa_train; do
    grep -q -- "speechbert.bin.${tool} .*--train_dump dump/mfcc/train .*--valid_dump dump/mfcc/dev .*--cmvn dump/mfcc/train/cmvn.ark" "${TMP_DIR}/calls.log"
  done
  grep -q -- "sqa_decode --model_dir exp/finetune --data data/test --dump dump/mfcc/test --ctm exp/align/test/word.ctm --cmvn dump/mfcc/train/cmvn.ark" "${TMP_DIR}/calls.log"
  rm "${TMP_DIR}/calls.log"
  # The same config twice (the default): one dump, computed once.
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 2 --align_feats_config ./conf/fbank.yaml
  assert_status 0
  [ "$(grep -c 'steps/make_feats.sh' "${TMP_DIR}/calls.log")" -eq 3 ]
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 2 --awe_feats_config conf/nope.yaml
  assert_status 2
  assert_output_contains "--awe_feats_config conf/nope.yaml: no such file"
}

@test "sqa.sh refuses two different feature configs with one dump name" {
  mkdir -p conf/tuning
  printf 'frontend: fbank\nfrontend_conf: {num_mel_bins: 40}\n' > conf/tuning/fbank.yaml
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 2 --awe_feats_config conf/tuning/fbank.yaml
  assert_status 2
  assert_output_contains "the feature configs conf/fbank.yaml and conf/tuning/fbank.yaml differ but both have dump/fbank: rename one"
  [ ! -e "${TMP_DIR}/calls.log" ]
}

@test "sqa.sh stage 2 runs an SSL frontend through cuda_cmd --gpu 1 when --ngpu > 0, on the CPU otherwise" {
  for x in train dev test; do mkdir -p "data/${x}" && echo "${x}-1 /audio/${x}-1.wav" > "data/${x}/wav.scp"; done
  printf 'frontend: ssl   # a neural frontend\nfrontend_conf:\n  layer: 3\n' > conf/ssl.yaml
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 2 --awe_feats_config conf/ssl.yaml --ngpu 2 --nj 3
  assert_status 0
  grep -q -- "steps/make_feats.sh --cmd run.pl --gpu 1 --nj 2 --ngpu 1 --feats_config conf/ssl.yaml data/train dump/ssl/train" "${TMP_DIR}/calls.log"
  grep -q -- "steps/make_feats.sh --cmd run.pl --nj 3 --feats_config conf/fbank.yaml data/train dump/fbank/train" "${TMP_DIR}/calls.log"
  rm "${TMP_DIR}/calls.log"
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 2 --awe_feats_config conf/ssl.yaml --nj 3
  assert_status 0
  grep -q -- "steps/make_feats.sh --cmd run.pl --nj 3 --feats_config conf/ssl.yaml data/train dump/ssl/train" "${TMP_DIR}/calls.log"
  refute_grep "--gpu" "${TMP_DIR}/calls.log"
}

@test "sqa.sh --units_config: units learned on its features' training dump, every set dumped, stages 5-8 read them" {
  for x in train dev test test_noisy; do mkdir -p "data/${x}" && echo "${x}-1 /audio/${x}-1.wav" > "data/${x}/wav.scp"; done
  cp data/test/wav.scp data/test_noisy/wav.scp
  printf 'frontend: ssl\n' > conf/ssl.yaml
  printf '# k-means\nfeats_config: conf/ssl.yaml  # the features\nnum_units: 16\n' > conf/km16.yaml
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 2 --stop_stage 8 --skip_stages "3 4" \
    --units_config conf/km16.yaml --test_sets "test test_noisy"
  assert_status 0
  grep -q -- "--feats_config conf/ssl.yaml data/train dump/ssl/train" "${TMP_DIR}/calls.log"
  grep -q -- "--feats_config conf/fbank.yaml data/train dump/fbank/train" "${TMP_DIR}/calls.log"  # the aligner's
  [ "$(cat dump/units_km16/conf/learn_units.yaml)" = "$(printf '# k-means\nnum_units: 16')" ]
  grep -q -- "learn_units --config dump/units_km16/conf/learn_units.yaml --feats_scp dump/ssl/train/feats.scp --out dump/units_km16/codebook.npz" "${TMP_DIR}/calls.log"
  for x in train dev test; do
    grep -q -- "dump_units --feats_scp dump/ssl/${x}/feats.scp --codebook dump/units_km16/codebook.npz --out_dir dump/units_km16/${x}" "${TMP_DIR}/calls.log"
  done
  refute_grep "dump_units .*test_noisy" "${TMP_DIR}/calls.log"
  [ "$(readlink dump/units_km16/test_noisy)" = test ]
  grep -q -- "speechbert.bin.joint_embed_train .*--train_dump dump/units_km16/train .*--valid_dump dump/units_km16/dev --valid_ctm exp/align/dev/word.ctm --bert_dir bert" "${TMP_DIR}/calls.log"
  grep -q -- "sqa_decode --model_dir exp/finetune --data data/test --dump dump/units_km16/test --ctm exp/align/test/word.ctm --nj" "${TMP_DIR}/calls.log"
  refute_grep "joint_embed_train .*--cmvn" "${TMP_DIR}/calls.log"
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 5 --stop_stage 5 --units_config conf/km16.yaml --awe_feats_config conf/ssl.yaml
  assert_status 2
  assert_output_contains "--awe_feats_config conf/ssl.yaml and --units_config conf/km16.yaml: give one"
  printf 'num_units: 16\n' > conf/km_bad.yaml
  run ./sqa.sh --python "${TMP_DIR}/stub" --bert_dir bert --stage 5 --stop_stage 5 --units_config conf/km_bad.yaml
  assert_status 2
  assert_output_contains "conf/km_bad.yaml has no feats_config: key"
}
