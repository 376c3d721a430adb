#!/usr/bin/env bats
# utils/split_data.sh: speaker-aligned and per-utterance splits of a data directory.

load helpers/common

setup() { setup_data_dir; }
teardown() { remove_tmp_dir; }

@test "split into 3 speaker-aligned valid data directories" {
  run "${UTILS}/split_data.sh" data 3
  assert_status 0
  for k in 1 2 3; do
    run "${UTILS}/validate_data_dir.sh" --no-feats "data/split3/${k}"
    assert_status 0
    assert_line_count "data/split3/${k}/spk2utt" 1
    assert_line_count "data/split3/${k}/contexts" 1
  done
  [ "$(cat data/split3/{1,2,3}/utt2spk)" = "$(cat data/utt2spk)" ]
  [ "$(cat data/split3/{1,2,3}/questions.jsonl | sort)" = "$(sort data/questions.jsonl)" ]
}

@test "--per-utt splits by utterance into splitNutt" {
  run "${UTILS}/split_data.sh" --per-utt data 7
  assert_status 0
  for k in 1 2 3 4 5 6 7; do
    assert_line_count "data/split7utt/${k}/utt2spk" 1
    assert_line_count "data/split7utt/${k}/wav.scp" 1
  done
  [ "$(cat data/split7utt/*/text | sort)" = "$(cat data/text)" ]
}

@test "more pieces than speakers is an error pointing at --per-utt" {
  run "${UTILS}/split_data.sh" data 4
  assert_status 1
  assert_output_contains "use --per-utt"
  [ ! -e data/split4 ]
}

@test "an up-to-date split is not redone; a newer data file triggers a new split" {
  "${UTILS}/split_data.sh" data 2 2> /dev/null
  run "${UTILS}/split_data.sh" data 2
  assert_status 0
  assert_output_contains "data/split2 is up to date"
  sleep 1
  sed -i '/test-0001-0000/d' data/utt2spk data/text data/wav.scp data/utt2dur data/oracle.ctm
  sed -i '/test-0001-0000/d' data/spk2utt data/contexts data/questions.jsonl
  run "${UTILS}/split_data.sh" data 2
  assert_status 0
  assert_output_not_contains "up to date"
  [ "$(cat data/split2/{1,2}/utt2spk)" = "$(cat data/utt2spk)" ]
}
