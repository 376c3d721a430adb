#!/usr/bin/env bats
# utils/combine_data.sh and utils/copy_data_dir.sh

load helpers/common

setup() {
  make_tmp_dir
  make_data_dir data
  "${UTILS}/subset_data_dir.sh" --first data 3 part1 2> /dev/null
  "${UTILS}/subset_data_dir.sh" --last data 4 part2 2> /dev/null
}

teardown() {
  remove_tmp_dir
}

@test "combining two halves gives back the original directory" {
  run "${UTILS}/combine_data.sh" all part2 part1
  assert_status 0
  for f in utt2spk spk2utt text wav.scp utt2dur contexts oracle.ctm; do
    assert_same_file "data/${f}" "all/${f}"
  done
  [ "$(sort all/questions.jsonl)" = "$(sort data/questions.jsonl)" ]
  run "${UTILS}/validate_data_dir.sh" --no-feats all
  assert_status 0
}

@test "a file missing from one source is left out with a warning" {
  rm part1/utt2dur
  run "${UTILS}/combine_data.sh" all part1 part2
  assert_status 0
  assert_output_contains "warning: not combining utt2dur: it is missing from part1"
  [ ! -e all/utt2dur ]
  assert_line_count all/utt2spk 7
}

@test "utterance ids present in two sources are an error" {
  run "${UTILS}/combine_data.sh" all data part1
  assert_status 1
  assert_output_contains "key 'test-0000-0000-000' of utt2spk is in both data and part1"
}

@test "copy_data_dir.sh copies and validates; not split or backup dirs" {
  mkdir -p data/split2/1 data/.backup
  run "${UTILS}/copy_data_dir.sh" data copy
  assert_status 0
  assert_output_contains "Successfully validated data-directory copy"
  for f in utt2spk spk2utt text wav.scp utt2dur contexts questions.jsonl oracle.ctm; do
    assert_same_file "data/${f}" "copy/${f}"
  done
  [ ! -e copy/split2 ] && [ ! -e copy/.backup ]
  run "${UTILS}/copy_data_dir.sh" data data
  assert_status 1
  assert_output_contains "<src-dir> and <dest-dir> are the same directory"
}
