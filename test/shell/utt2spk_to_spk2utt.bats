#!/usr/bin/env bats
# utils/utt2spk_to_spk2utt.pl, utils/spk2utt_to_utt2spk.pl, utils/filter_scp.pl

load helpers/common

setup() { setup_data_dir; }
teardown() { remove_tmp_dir; }

@test "utt2spk_to_spk2utt.pl inverts utt2spk (file or stdin)" {
  run "${UTILS}/utt2spk_to_spk2utt.pl" data/utt2spk
  assert_status 0
  [ "${output}" = "$(cat data/spk2utt)" ]
  run bash -c "'${UTILS}/utt2spk_to_spk2utt.pl' < data/utt2spk"
  [ "${output}" = "$(cat data/spk2utt)" ]
}

@test "spk2utt_to_utt2spk.pl is its inverse" {
  run "${UTILS}/spk2utt_to_utt2spk.pl" data/spk2utt
  assert_status 0
  [ "${output}" = "$(cat data/utt2spk)" ]
}

@test "malformed lines are errors naming file and line" {
  printf 'u1 s1\nu2\n' > bad
  run "${UTILS}/utt2spk_to_spk2utt.pl" bad
  assert_status 1
  assert_output_contains "bad:2: expected '<utt> <spk>'"
  printf 's1 u1\ns2\n' > bad2
  run "${UTILS}/spk2utt_to_utt2spk.pl" bad2
  assert_status 1
  assert_output_contains "bad2:2: expected '<spk> <utt> ...'"
}

@test "filter_scp.pl keeps (or with --exclude drops) lines by id, on any field" {
  printf 'test-0000-0001-000\ntest-0001-0000-001 extra\n' > ids
  run "${UTILS}/filter_scp.pl" ids data/text
  assert_status 0
  [ "${output}" = "$(grep -e test-0000-0001-000 -e test-0001-0000-001 data/text)" ]
  run "${UTILS}/filter_scp.pl" --exclude ids data/wav.scp
  [ "$(echo "${output}" | wc -l)" -eq 5 ]
  echo test-0000-0001 > spk
  run "${UTILS}/filter_scp.pl" -f 2 spk data/utt2spk
  [ "${output}" = "$(grep ' test-0000-0001$' data/utt2spk)" ]
  run "${UTILS}/filter_scp.pl" -f 5 spk data/utt2spk
  assert_status 1
  assert_output_contains "data/utt2spk:1: has no field 5"
  run "${UTILS}/filter_scp.pl" missing data/utt2spk
  assert_status 1
  assert_output_contains "cannot read missing"
}
