#!/usr/bin/env bats
# utils/fix_data_dir.sh: repairs what validate_data_dir.sh rejects, reports why.

load helpers/common

setup() { setup_data_dir; }
teardown() { remove_tmp_dir; }

@test "an unsorted directory with duplicates is rejected by validate and repaired by fix" {
  sort -r data/text > t
  sed -n 1p t >> t
  mv t data/text
  cp data/utt2spk expected_utt2spk
  run "${UTILS}/validate_data_dir.sh" --no-feats data
  assert_status 1
  run "${UTILS}/fix_data_dir.sh" data
  assert_status 0
  assert_output_contains "1 duplicate line(s) removed from text"
  assert_output_contains "kept 7 of 7 utterances"
  assert_output_contains "old files are kept in data/.backup"
  run "${UTILS}/validate_data_dir.sh" --no-feats data
  assert_status 0
  assert_same_file expected_utt2spk data/utt2spk
  [ "$(head -n 1 data/text)" = "test-0000-0000-000 the sentence 000 of test-0000-0000" ]
  assert_line_count data/.backup/text 8
}

@test "utterances missing from a file are dropped, with their incomplete passages" {
  sed -i '/test-0000-0000-001/d' data/wav.scp
  run "${UTILS}/fix_data_dir.sh" data
  assert_status 0
  assert_output_contains "1 utterance(s) not in wav.scp (e.g. test-0000-0000-001)"
  assert_output_contains "2 utterance(s) removed because other sentences of their passage (contexts) were removed"
  assert_output_contains "kept 4 of 7 utterances"
  assert_output_contains "kept 2 of 3 contexts"
  assert_output_contains "kept 2 of 4 questions"
  run "${UTILS}/validate_data_dir.sh" --no-feats data
  assert_status 0
  ! grep -q test-0000-0000 data/utt2spk data/spk2utt data/text data/contexts data/questions.jsonl data/oracle.ctm
  assert_line_count data/spk2utt 2
  assert_line_count data/questions.jsonl 2
  [ "$(cat data/oracle.ctm)" = "test-0000-0001-001 1 0.05 0.25 the 1.0" ]
}

@test "malformed lines and non-positive durations are dropped and counted" {
  sed -i '3s/ 1\.[0-9]*$/ 0/' data/utt2dur
  sed -i '6s/$/ extra field/' data/utt2spk
  run "${UTILS}/fix_data_dir.sh" data
  assert_status 0
  assert_output_contains "1 malformed line(s) removed from utt2dur (first: data/utt2dur:3: value '0' is not a positive number)"
  assert_output_contains "1 malformed line(s) removed from utt2spk (first: data/utt2spk:6: expected 2 fields, found 4)"
  run "${UTILS}/validate_data_dir.sh" --no-feats data
  assert_status 0
}

@test "feats.scp restricts the utterances; spk2utt is regenerated" {
  grep -v test-0001-0000 data/utt2spk | awk '{ print $1, "f.ark:" NR }' > data/feats.scp
  echo "stale spk2utt" > data/spk2utt
  run "${UTILS}/fix_data_dir.sh" data
  assert_status 0
  assert_output_contains "2 utterance(s) not in feats.scp"
  run "${UTILS}/validate_data_dir.sh" data
  assert_status 0
  assert_line_count data/feats.scp 5
  [ "$(tail -n 1 data/spk2utt)" = "test-0000-0001 test-0000-0001-000 test-0000-0001-001" ]
}

@test "a directory where nothing would remain is an error and is left unchanged" {
  printf 'other-0000 x.wav\n' > data/wav.scp
  cp -r data before
  run "${UTILS}/fix_data_dir.sh" data
  assert_status 1
  assert_output_contains "no utterances remained: not proceeding further"
  diff -r -x .backup before data
}

@test "questions.jsonl lines that are not JSON are dropped" {
  echo 'not json' >> data/questions.jsonl
  run "${UTILS}/fix_data_dir.sh" data
  assert_status 0
  assert_output_contains "kept 4 of 5 questions"
  run "${UTILS}/validate_data_dir.sh" --no-feats data
  assert_status 0
}

@test "with segments, wav.scp is keyed by recording; segments of missing recordings go" {
  mkdir seg
  printf 'r1 r1.wav\nr2 r2.wav\n' > seg/wav.scp
  printf 'r1-a r1 0 1.5\nr1-b r1 1.5 3\nr2-a r2 0 2\n' > seg/segments
  printf 'r1-a r1\nr1-b r1\nr2-a r2\n' > seg/utt2spk
  printf 'r1 r1-a r1-b\nr2 r2-a\n' > seg/spk2utt
  printf 'r1-a x\nr1-b y\nr2-a z\n' > seg/text
  run "${UTILS}/validate_data_dir.sh" --no-feats seg
  assert_status 0
  sed -i '/^r2 /d' seg/wav.scp
  run "${UTILS}/validate_data_dir.sh" --no-feats seg
  assert_status 1
  assert_output_contains "seg/segments:3: recording 'r2' is not in seg/wav.scp"
  run "${UTILS}/fix_data_dir.sh" seg
  assert_status 0
  assert_output_contains "1 segment(s) whose recording is not in wav.scp"
  assert_output_contains "kept 2 of 3 utterances"
  run "${UTILS}/validate_data_dir.sh" --no-feats seg
  assert_status 0
}

@test "--utt-extra-files are intersected as well; unknown options are errors" {
  awk 'NR != 2 { print $1, "en" }' data/utt2spk > data/utt2lang
  run "${UTILS}/fix_data_dir.sh" --utt-extra-files utt2lang data
  assert_status 0
  assert_output_contains "1 utterance(s) not in utt2lang"
  assert_line_count data/utt2lang 4
  run "${UTILS}/fix_data_dir.sh" --extra data
  assert_status 1
  assert_output_contains "invalid option --extra"
}

@test "a tab between key and text keeps the utterance (Kaldi's fix keeps it too)" {
  sed -i '1s/ /\t/' data/text
  run "${UTILS}/fix_data_dir.sh" data
  assert_status 0
  assert_output_contains "kept 7 of 7 utterances"
  run "${UTILS}/validate_data_dir.sh" --no-feats data
  assert_status 0
}

@test "fix fails when the repaired directory would still fail validation (Kaldi's fix fails too)" {
  # speakers s1 and s10: utt2spk cannot be sorted by utterance and by speaker at once
  mkdir -p bad
  printf 's10_1 hello\ns1_1 world\n' > bad/text
  printf 's10_1 s10\ns1_1 s1\n' > bad/utt2spk
  printf 's1 s1_1\ns10 s10_1\n' > bad/spk2utt
  run "${UTILS}/fix_data_dir.sh" bad
  assert_status 1
  assert_output_contains "the repaired directory still fails validation"
  assert_output_contains "utt2spk is not in sorted order when sorted first on speaker-id"
}

@test "a last line without a newline is repaired by fix (validate still reports it)" {
  printf '%s' "$(cat data/text)" > t && mv t data/text
  printf '%s' "$(cat data/questions.jsonl)" > q && mv q data/questions.jsonl
  run "${UTILS}/validate_data_dir.sh" --no-feats data
  assert_status 1
  assert_output_contains "the last line does not end with a newline"
  run "${UTILS}/fix_data_dir.sh" data
  assert_status 0
  assert_output_contains "data/text:7: no newline at the end (added)"
  assert_output_contains "kept 7 of 7 utterances"
  run "${UTILS}/validate_data_dir.sh" --no-feats data
  assert_status 0
}

@test "segments without wav.scp is an error that changes nothing (Kaldi's fix stops there too)" {
  awk '{ print $1, $1, 0, -1 }' data/wav.scp > data/segments
  rm data/wav.scp
  cp -r data before
  run "${UTILS}/fix_data_dir.sh" data
  assert_status 1
  assert_output_contains "data/segments exists but data/wav.scp does not"
  diff -r before data
}

@test "a write that fails (file size limit, as a full disk) names the file and changes nothing" {
  tail=$(printf ' and more words%.0s' $(seq 1 40))
  sed -i "s/\$/${tail}/" data/text
  echo "test-0000-0000-001 duplicate" >> data/text
  "${UTILS}/fix_data_dir.sh" data 2> /dev/null   # a first .backup that fits
  echo "test-0000-0000-001 duplicate" >> data/text
  cp -r data before
  run bash -c 'ulimit -f 2; trap "" XFSZ; exec "$0" "$@"' "${UTILS}/fix_data_dir.sh" data
  assert_status 1
  assert_output_contains "fix_data_dir.sh: error: cannot write data/"
  assert_output_contains "/text: File too large"
  diff -r before/text data/text
  [ -z "$(find data -name '*.tmp*' -o -name '.fix_tmp*')" ]
}

@test "a full disk while writing the repaired files names the file, changes nothing, leaves no scratch copy" {
  echo "test-0000-0000-001 duplicate" >> data/text
  cp -r data before
  PERL5LIB="${BATS_TEST_DIRNAME}/helpers" PERL5OPT=-MFailWrite FAIL_WRITE_MATCH='/out/text\.tmp' \
    run "${UTILS}/fix_data_dir.sh" data
  assert_status 1
  assert_output_contains "/out/text: No space left on device (the files in data were not changed)"
  rm -r data/.backup
  diff -r before data
}

@test "Windows line endings are removed by fix, and said so (validate refuses them)" {
  sed -i 's/$/\r/' data/utt2dur
  run "${UTILS}/fix_data_dir.sh" data
  assert_status 0
  assert_output_contains "utt2dur: Windows line endings (\\r) removed from 7 line(s) (first: data/utt2dur:1)"
  assert_output_contains "kept 7 of 7 utterances"
  ! grep -q $'\r' data/utt2dur
  run "${UTILS}/validate_data_dir.sh" --no-feats data
  assert_status 0
}
