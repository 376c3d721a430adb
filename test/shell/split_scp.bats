#!/usr/bin/env bats
# utils/split_scp.pl: even and speaker-aligned splits, -j form, errors.

load helpers/common

setup() { setup_data_dir; }
teardown() { remove_tmp_dir; }

@test "an even split keeps the order and sizes differ by at most one" {
  run "${UTILS}/split_scp.pl" data/wav.scp o1 o2 o3
  assert_status 0
  [ "$(cat o1 o2 o3)" = "$(cat data/wav.scp)" ]
  sizes=$(wc -l < o1; wc -l < o2; wc -l < o3)
  [ "$(echo "${sizes}" | sort -n | head -n 1)" -ge 2 ]
  [ "$(echo "${sizes}" | sort -n | tail -n 1)" -le 3 ]
}

@test "--utt2spk keeps each speaker in one piece" {
  run "${UTILS}/split_scp.pl" --utt2spk=data/utt2spk data/wav.scp o1 o2 o3
  assert_status 0
  [ "$(cut -c1-14 o1 | sort -u)" = test-0000-0000 ]
  [ "$(cut -c1-14 o2 | sort -u)" = test-0000-0001 ]
  [ "$(cut -c1-14 o3 | sort -u)" = test-0001-0000 ]
}

@test "-j N k writes piece k (counted from 0) to stdout or a file" {
  run "${UTILS}/split_scp.pl" -j 3 1 --utt2spk data/utt2spk data/wav.scp
  assert_status 0
  [ "${output}" = "$(grep test-0000-0001 data/wav.scp)" ]
  "${UTILS}/split_scp.pl" -j 7 6 data/wav.scp last
  [ "$(cat last)" = "$(tail -n 1 data/wav.scp)" ]
}

@test "more pieces than lines or speakers is an error" {
  run "${UTILS}/split_scp.pl" --utt2spk=data/utt2spk data/wav.scp o1 o2 o3 o4
  assert_status 1
  assert_output_contains "cannot split 3 speakers of data/wav.scp into 4 pieces: a piece would be empty"
  run "${UTILS}/split_scp.pl" data/wav.scp o1 o2 o3 o4 o5 o6 o7 o8
  assert_status 1
  assert_output_contains "cannot split 7 lines of data/wav.scp into 8 pieces"
}

@test "an utterance missing from utt2spk, or non-contiguous speakers, is an error" {
  echo "zz-extra x.wav" >> data/wav.scp
  run "${UTILS}/split_scp.pl" --utt2spk=data/utt2spk data/wav.scp o1 o2
  assert_status 1
  assert_output_contains "data/wav.scp:8: utterance 'zz-extra' is not in data/utt2spk"
  printf 'a s1\nb s2\nc s1\n' > u2s
  run "${UTILS}/split_scp.pl" --utt2spk=u2s u2s o1 o2
  assert_status 1
  assert_output_contains "u2s:3: the lines of speaker 's1' are not contiguous"
}
