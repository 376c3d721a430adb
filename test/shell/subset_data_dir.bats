#!/usr/bin/env bats
# utils/subset_data_dir.sh: --first, --last, evenly spaced, --utt-list, --spk-list.

load helpers/common

setup() { setup_data_dir; }
teardown() { remove_tmp_dir; }

@test "--first 3 keeps the first passage whole, with its questions" {
  run "${UTILS}/subset_data_dir.sh" --first data 3 sub
  assert_status 0
  assert_output_contains "wrote 3 of 7 utterances of data to sub"
  [ "$(cut -d' ' -f1 sub/utt2spk | tr '\n' ' ')" = "test-0000-0000-000 test-0000-0000-001 test-0000-0000-002 " ]
  assert_line_count sub/contexts 1
  [ "$(grep -c '"context_id": "test-0000-0000"' sub/questions.jsonl)" -eq 2 ]
  assert_line_count sub/questions.jsonl 2
  assert_line_count sub/oracle.ctm 2
  run "${UTILS}/validate_data_dir.sh" --no-feats sub
  assert_status 0
}

@test "--last 2 keeps the last passage; a partial passage is left out with a warning" {
  run "${UTILS}/subset_data_dir.sh" --last data 2 sub
  assert_status 0
  assert_line_count sub/utt2spk 2
  [ "$(cat sub/contexts)" = "test-0001-0000 test-0001-0000-000 test-0001-0000-001" ]
  run "${UTILS}/subset_data_dir.sh" --last data 3 sub3
  assert_status 0
  assert_output_contains "warning: 1 passage(s) are only partly in sub3"
  assert_line_count sub3/utt2spk 3
  assert_line_count sub3/contexts 1
  run "${UTILS}/validate_data_dir.sh" --no-feats sub3
  assert_status 0
}

@test "without --first/--last the utterances are spread evenly" {
  run "${UTILS}/subset_data_dir.sh" data 3 sub
  assert_status 0
  [ "$(cut -d' ' -f1 sub/utt2spk | tr '\n' ' ')" = "test-0000-0000-000 test-0000-0000-002 test-0000-0001-001 " ]
}

@test "--utt-list and --spk-list" {
  printf 'test-0000-0001-001 x\ntest-0000-0000-002\nnot-there\n' > utts
  run "${UTILS}/subset_data_dir.sh" --utt-list utts data sub
  assert_status 0
  [ "$(cut -d' ' -f1 sub/utt2spk | tr '\n' ' ')" = "test-0000-0000-002 test-0000-0001-001 " ]
  echo test-0000-0001 > spks
  run "${UTILS}/subset_data_dir.sh" --spk-list spks data sub2
  assert_status 0
  assert_line_count sub2/utt2spk 2
  [ "$(cut -d' ' -f1 sub2/contexts)" = test-0000-0001 ]
  [ "$(grep -c . sub2/questions.jsonl)" -eq 1 ]
  run "${UTILS}/validate_data_dir.sh" --no-feats sub2
  assert_status 0
}

@test "asking for more utterances than exist, or a bad option, is an error" {
  run "${UTILS}/subset_data_dir.sh" --first data 8 sub
  assert_status 1
  assert_output_contains "cannot take 8 utterances: data has only 7"
  run "${UTILS}/subset_data_dir.sh" --shortest data 2 sub
  assert_status 1
  assert_output_contains "unknown option --shortest"
  run "${UTILS}/subset_data_dir.sh" --first data two sub
  assert_status 1
  assert_output_contains "<num-utts> must be a positive integer, got 'two'"
}

@test "files of an earlier subset that the source lacks are removed from <dest>" {
  run "${UTILS}/subset_data_dir.sh" --first data 3 sub
  assert_status 0
  [ -f sub/oracle.ctm ]
  rm data/oracle.ctm
  echo "stale" > sub/text.asr
  run "${UTILS}/subset_data_dir.sh" --first data 3 sub
  assert_status 0
  [ ! -e sub/oracle.ctm ] && [ ! -e sub/text.asr ]
  run "${UTILS}/validate_data_dir.sh" --no-feats sub
  assert_status 0
}

@test "a full disk names the file being written and keeps its old version" {
  run "${UTILS}/subset_data_dir.sh" --first data 3 sub
  assert_status 0
  cp sub/text text.before
  PERL5LIB="${BATS_TEST_DIRNAME}/helpers" PERL5OPT=-MFailWrite FAIL_WRITE_MATCH='/sub/text\.tmp' \
    run "${UTILS}/subset_data_dir.sh" --last data 2 sub
  assert_status 1
  assert_output_contains "subset_data_dir.sh: error: cannot write sub/text: No space left on device"
  assert_same_file text.before sub/text
  [ -z "$(find sub -name '*.tmp*')" ]
}
