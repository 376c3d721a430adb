#!/usr/bin/env bats
# utils/validate_data_dir.sh: every rule, each with a file:line message.

load helpers/common

setup() { setup_data_dir; }
teardown() { remove_tmp_dir; }

validate() {
  run "${UTILS}/validate_data_dir.sh" --no-feats "$@" data
}

@test "a valid data directory passes" {
  validate
  assert_status 0
  assert_output_contains "Successfully validated data-directory data"
}

@test "feats.scp, text and wav.scp are required unless --no-feats/--no-text/--no-wav" {
  run "${UTILS}/validate_data_dir.sh" data
  assert_status 1
  assert_output_contains "no such file data/feats.scp (if this is by design, specify --no-feats)"
  rm data/text data/wav.scp
  run "${UTILS}/validate_data_dir.sh" --no-feats --no-wav data
  assert_status 1
  assert_output_contains "no such file data/text (if this is by design, specify --no-text)"
  run "${UTILS}/validate_data_dir.sh" --no-feats --no-wav --no-text data
  assert_status 0
}

@test "unsorted keys are rejected with file and line" {
  sort -r data/text > t && mv t data/text
  validate
  assert_status 1
  assert_output_contains "data/text:2: key 'test-0001-0000-000' is not in sorted order after 'test-0001-0000-001'"
}

@test "duplicate keys are rejected" {
  sed -i '2p' data/utt2dur
  validate
  assert_status 1
  assert_output_contains "data/utt2dur:3: duplicate key 'test-0000-0000-001'"
}

@test "sorting follows LC_ALL=C (uppercase before lowercase)" {
  printf 'A-0000 A\nb-0000 b\n' > data/utt2spk
  printf 'A A-0000\nb b-0000\n' > data/spk2utt
  printf 'A-0000 a.wav\nb-0000 b.wav\n' > data/wav.scp
  printf 'A-0000 x\nb-0000 y\n' > data/text
  rm data/utt2dur data/contexts data/questions.jsonl data/oracle.ctm
  validate
  assert_status 0
}

@test "utterance lists must match across the per-utterance files" {
  sed -i '/test-0000-0001-001/d' data/utt2dur
  validate
  assert_status 1
  assert_output_contains "the utterance lists of data/utt2spk and data/utt2dur differ: 1 only in utt2spk (test-0000-0001-001)"
  assert_output_contains "run utils/fix_data_dir.sh data"
}

@test "feats.scp and utt2num_frames are checked when present" {
  awk '{ print $1, "feats.ark:" NR }' data/utt2spk > data/feats.scp
  awk '{ print $1, 100 }' data/utt2spk > data/utt2num_frames
  run "${UTILS}/validate_data_dir.sh" data
  assert_status 0
  sed -i '3s/ 100$/ 0/' data/utt2num_frames
  run "${UTILS}/validate_data_dir.sh" data
  assert_status 1
  assert_output_contains "data/utt2num_frames:3: value '0' is not a positive integer"
}

@test "spk2utt must be the inverse of utt2spk" {
  sed -i '2s/ test-0000-0001-001$//' data/spk2utt
  validate
  assert_status 1
  assert_output_contains "data/spk2utt:2: spk2utt is not the inverse of utt2spk"
  assert_output_contains "utt2spk_to_spk2utt.pl data/utt2spk > data/spk2utt"
}

@test "speaker ids that are not prefixes of utterance ids break the speaker sort rule" {
  printf 'u1 s2\nu2 s1\n' > data/utt2spk
  "${UTILS}/utt2spk_to_spk2utt.pl" data/utt2spk | sort > data/spk2utt
  printf 'u1 a.wav\nu2 b.wav\n' > data/wav.scp
  printf 'u1 x\nu2 y\n' > data/text
  rm data/utt2dur data/contexts data/questions.jsonl data/oracle.ctm
  validate
  assert_status 1
  assert_output_contains "data/utt2spk:2: utt2spk is not in sorted order when sorted first on speaker-id"
  assert_output_contains "making speaker-ids prefixes of utt-ids"
  validate --no-spk-sort
  assert_status 0
}

@test "text must be printable UTF-8 (--non-print allows control characters)" {
  rm data/questions.jsonl  # their answers are in the text changed here
  printf 'test-0000-0000-000 caf\xc3\xa9 ok\n' > t
  tail -n +2 data/text >> t
  cp t data/text
  validate
  assert_status 0
  sed -i '2s/sentence/sen\x01tence/' data/text
  validate
  assert_status 1
  assert_output_contains "data/text:2: text contains a control character"
  validate --non-print
  assert_status 0
  sed -i '3s/sentence/sen\xfftence/' data/text
  validate --non-print
  assert_status 1
  assert_output_contains "data/text:3: text is not valid UTF-8"
}

@test "keys with whitespace or shell metacharacters are rejected" {
  sed -i '1s/^test-0000-0000-000/test-0000-0000-00$/' data/wav.scp
  validate
  assert_status 1
  assert_output_contains "data/wav.scp:1: key 'test-0000-0000-00\$' contains the character '\$'"
}

@test "a missing final newline and Windows line endings are rejected" {
  printf '%s' "$(cat data/utt2dur)" > data/utt2dur
  validate
  assert_status 1
  assert_output_contains "data/utt2dur:7: the last line does not end with a newline"
  make_data_dir data
  sed -i '4s/$/\r/' data/text
  validate
  assert_status 1
  assert_output_contains "data/text:4: Windows line ending"
}

@test "wrong field counts and bad durations are rejected" {
  sed -i '2s/$/ extra/' data/utt2spk
  validate
  assert_status 1
  assert_output_contains "data/utt2spk:2: expected 2 fields, found 3"
  make_data_dir data
  sed -i '5s/ 1\.[0-9]*$/ -1/' data/utt2dur
  validate
  assert_status 1
  assert_output_contains "data/utt2dur:5: value '-1' is not a positive number"
}

@test "every utterance listed in contexts must exist, once" {
  sed -i '2s/$/ test-0000-0001-002/' data/contexts
  validate
  assert_status 1
  assert_output_contains "data/contexts:2: utterance 'test-0000-0001-002' of context 'test-0000-0001' is not in data/utt2spk"
  make_data_dir data
  sed -i '3s/$/ test-0000-0000-001/' data/contexts
  validate
  assert_status 1
  assert_output_contains "data/contexts:3: utterance 'test-0000-0000-001' is listed twice"
}

@test "questions must be JSON objects of known contexts with unique ids" {
  sed -i '2s/test-0000-0001/test-0009-0009/' data/questions.jsonl
  validate
  assert_status 1
  assert_output_contains "data/questions.jsonl:2: context 'test-0009-0009' is not in data/contexts"
  make_data_dir data
  echo '{"id": "q5", "context_id": ' >> data/questions.jsonl
  validate
  assert_status 1
  assert_output_contains "data/questions.jsonl:5:"
  make_data_dir data
  sed -n '1p' data/questions.jsonl >> data/questions.jsonl
  validate
  assert_status 1
  assert_output_contains "data/questions.jsonl:5: duplicate question id 'q1' (first on line 1)"
}

@test "oracle.ctm must name known utterances, grouped by utterance" {
  echo "test-0000-0000-000 1 0.50 0.10 again 1.0" >> data/oracle.ctm
  validate
  assert_status 1
  assert_output_contains "data/oracle.ctm:4: the lines of utterance 'test-0000-0000-000' are not together"
}

@test "an unknown option is an error" {
  run "${UTILS}/validate_data_dir.sh" --no-such-thing data
  assert_status 1
  assert_output_contains "unknown option --no-such-thing"
  assert_output_contains "Usage:"
}

@test "questions: an empty question or an answer that is not at its char_start is an error" {
  validate
  assert_status 0
  cp data/questions.jsonl q.orig
  sed -i '1s/"question": "what sentence"/"question": "  "/' data/questions.jsonl
  validate
  assert_status 1
  assert_output_contains "data/questions.jsonl:1: question 'q1': no question text"
  cp q.orig data/questions.jsonl
  sed -i '1s/"char_start": 0/"char_start": 4/' data/questions.jsonl
  validate
  assert_status 1
  assert_output_contains "data/questions.jsonl:1: question 'q1': answers[0] 'the sentence' is not at char_start 4 of its passage (found 'sentence 000')"
  cp q.orig data/questions.jsonl
  sed -i '1s/"char_start": 0/"char_start": 9999/' data/questions.jsonl
  validate
  assert_status 1
  assert_output_contains "answers[0].char_start 9999 is outside its passage of"
}

@test "questions: answers with non-ASCII text are located by characters, as Python does" {
  printf 'test-0000-0000-000 the caf\xc3\xa9 is open\n' > t
  tail -n +2 data/text >> t
  cp t data/text
  printf '{"id": "q1", "context_id": "test-0000-0000", "question": "what is open", "answers": [{"text": "is open", "char_start": 9}]}\n' > data/questions.jsonl
  validate
  assert_status 0
}

@test "a tab between key and text is whitespace, as for Kaldi (not a control character)" {
  sed -i '1s/ /\t/' data/text
  validate
  assert_status 0
  sed -i '1s/sentence/sen\x01tence/' data/text
  validate
  assert_status 1
  assert_output_contains "text contains a control character"
}

@test "a key with '/' (a path that could escape its directory) is refused" {
  sed -i '1s/^test-0000-0000-000/..\/..\/x/' data/text
  validate
  assert_status 1
  assert_output_contains "contains the character '/'"
}

@test "segments need wav.scp, even with --no-wav, and every recording needs a segment (as in Kaldi)" {
  mkdir seg
  printf 'r1 r1.wav\nr2 r2.wav\n' > seg/wav.scp
  printf 'r1-a r1 0 1.5\nr1-b r1 1.5 -1\n' > seg/segments
  printf 'r1-a r1\nr1-b r1\n' > seg/utt2spk
  printf 'r1 r1-a r1-b\n' > seg/spk2utt
  printf 'r1-a x\nr1-b y\n' > seg/text
  run "${UTILS}/validate_data_dir.sh" --no-feats seg
  assert_status 1
  assert_output_contains "seg/wav.scp:2: recording 'r2' has no segment in seg/segments"
  sed -i '/^r2 /d' seg/wav.scp
  run "${UTILS}/validate_data_dir.sh" --no-feats seg
  assert_status 0
  rm seg/wav.scp
  run "${UTILS}/validate_data_dir.sh" --no-feats --no-wav seg
  assert_status 1
  assert_output_contains "seg/segments exists but seg/wav.scp does not"
}

@test "a wav.scp path starting with '~' is refused (nothing expands it; Kaldi refuses it too)" {
  sed -i '2s| wav/| ~/wav/|' data/wav.scp
  validate
  assert_status 1
  assert_output_contains "data/wav.scp:2: the path '~/wav/test-0000-0000-001.wav' starts with '~'"
}

@test "whitespace other than spaces and tabs is refused in text and keys (Kaldi's validate_text.pl)" {
  sed -i '3s/sentence /sentence\xc2\xa0/' data/text
  validate
  assert_status 1
  assert_output_contains "data/text:3: text contains the whitespace character U+00A0"
  make_data_dir data
  sed -i '1s/^test-0000-0000-000 /test-0000-0000-000\xe2\x80\x83x /' data/utt2dur
  validate
  assert_status 1
  assert_output_contains "data/utt2dur:1: key 'test-0000-0000-000"
  assert_output_contains "contains the character 'U+2003'"
}

@test "spk2gender values are m or f" {
  awk '{ print $1, "f" }' data/spk2utt > data/spk2gender
  validate
  assert_status 0
  sed -i '2s/ f$/ female/' data/spk2gender
  validate
  assert_status 1
  assert_output_contains "data/spk2gender:2: value 'female' is not a gender (m or f)"
}

@test "like Kaldi's except on purpose: \\r refused in any table, no one-speaker warning, <s> allowed in text" {
  sed -i '3s/$/\r/' data/utt2spk
  validate
  assert_status 1
  assert_output_contains "data/utt2spk:3: Windows line ending"
  make_data_dir data
  sed -i '1s/ of / <s> #0 of /' data/text
  validate
  assert_status 0
  run "${UTILS}/subset_data_dir.sh" --spk-list <(echo test-0000-0000) data one
  assert_status 0
  run "${UTILS}/validate_data_dir.sh" --no-feats one
  assert_status 0
  assert_output_not_contains "speaker"
}
