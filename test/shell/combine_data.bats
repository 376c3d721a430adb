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

# Writes to $1 a valid data directory of one passage $2 with $3 sentences (read by speaker $2,
# one question). With a 4th argument "segments" the sentences are segments of one recording
# "$2-rec" (wav.scp keyed by recording); otherwise wav.scp is keyed by utterance.
make_passage_dir() {
  local dir=$1 cid=$2 n=$3 seg=${4:-} i utt utts=()
  mkdir -p "${dir}"
  : > "${dir}/wav.scp"
  : > "${dir}/text"
  : > "${dir}/utt2spk"
  : > "${dir}/utt2dur"
  for ((i = 0; i < n; i++)); do
    utt=$(printf '%s-%03d' "${cid}" "${i}")
    utts+=("${utt}")
    echo "${utt} word${i} of ${cid}" >> "${dir}/text"
    echo "${utt} ${cid}" >> "${dir}/utt2spk"
    echo "${utt} 1.5" >> "${dir}/utt2dur"
    if [ "${seg}" = segments ]; then
      echo "${utt} ${cid}-rec $((2 * i)) $((2 * i + 1)).5" >> "${dir}/segments"
    else
      echo "${utt} wav/${utt}.wav" >> "${dir}/wav.scp"
    fi
  done
  [ "${seg}" != segments ] || echo "${cid}-rec wav/${cid}.wav" > "${dir}/wav.scp"
  echo "${cid} ${utts[*]}" > "${dir}/contexts"
  echo "${cid} ${utts[*]}" > "${dir}/spk2utt"
  echo "{\"id\": \"q-${cid}\", \"context_id\": \"${cid}\", \"question\": \"which\"," \
    "\"answers\": [{\"text\": \"word0\", \"char_start\": 0}]}" > "${dir}/questions.jsonl"
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

@test "a directory with segments and one without: every utterance is kept (Kaldi makes the segments too)" {
  make_passage_dir seg test-0100-0000 5 segments
  make_passage_dir plain test-0101-0000 17
  run "${UTILS}/validate_data_dir.sh" --no-feats seg
  assert_status 0
  run "${UTILS}/combine_data.sh" all seg plain
  assert_status 0
  assert_output_contains "segments is missing from plain: using one segment '<utt> <utt> 0 -1' per utterance"
  assert_output_contains "kept 22 of 22 utterances"
  assert_output_contains "kept 2 of 2 questions"
  assert_line_count all/utt2spk 22
  assert_line_count all/segments 22
  assert_line_count all/wav.scp 18
  grep -qx 'test-0100-0000-004 test-0100-0000-rec 8 9.5' all/segments
  grep -qx 'test-0101-0000-016 test-0101-0000-016 0 -1' all/segments
  grep -qx 'test-0101-0000-016 wav/test-0101-0000-016.wav' all/wav.scp
  run "${UTILS}/validate_data_dir.sh" --no-feats all
  assert_status 0
}

@test "utt2uniq is made ('<utt> <utt>') for a source without it, as in Kaldi" {
  awk '{ print $1, "orig-" $1 }' part1/utt2spk > part1/utt2uniq
  run "${UTILS}/combine_data.sh" all part1 part2
  assert_status 0
  assert_output_contains "utt2uniq is missing from part2: using '<utt> <utt>' lines for it"
  assert_line_count all/utt2uniq 7
  grep -qx 'test-0000-0000-000 orig-test-0000-0000-000' all/utt2uniq
  grep -qx 'test-0001-0000-001 test-0001-0000-001' all/utt2uniq
}

@test "pieces of one recording combine back; one recording id naming two files is an error" {
  make_passage_dir seg test-0100-0000 5 segments
  "${UTILS}/subset_data_dir.sh" --first seg 2 a 2> /dev/null
  "${UTILS}/subset_data_dir.sh" --last seg 3 b 2> /dev/null
  run "${UTILS}/combine_data.sh" all a b
  assert_status 0
  for f in utt2spk text wav.scp segments utt2dur; do
    assert_same_file "seg/${f}" "all/${f}"
  done
  sed -i 's|wav/|other/|' b/wav.scp
  run "${UTILS}/combine_data.sh" all2 a b
  assert_status 1
  assert_output_contains "key 'test-0100-0000-rec' of wav.scp is in both a and b with different values"
}

@test "files of an earlier run are not left in the destination; the destination is no source" {
  run "${UTILS}/combine_data.sh" all part1 part2
  assert_status 0
  echo "stale" > all/text.asr
  awk '{ print $1, "1 0.1 0.2 stale" }' all/utt2spk > all/oracle.ctm.keep
  rm part1/oracle.ctm part2/oracle.ctm
  run "${UTILS}/combine_data.sh" all part1 part2
  assert_status 0
  [ ! -e all/text.asr ] && [ ! -e all/oracle.ctm ] && [ -e all/oracle.ctm.keep ]
  run "${UTILS}/combine_data.sh" part1/ part1 part2
  assert_status 1
  assert_output_contains "the destination part1 is also a source"
  run "${UTILS}/combine_data.sh" ./part1 part1 part2
  assert_status 1
  assert_output_contains "is also a source"
}

@test "--extra-files are combined where every source has them" {
  for d in part1 part2; do awk '{ print $1, "en" }' "${d}/utt2spk" > "${d}/utt2lang"; done
  run "${UTILS}/combine_data.sh" --extra-files utt2lang all part1 part2
  assert_status 0
  assert_same_file <(awk '{ print $1, "en" }' data/utt2spk) all/utt2lang
  rm part2/utt2lang
  run "${UTILS}/combine_data.sh" --extra-files utt2lang all part1 part2
  assert_status 0
  assert_output_contains "warning: not combining utt2lang: it is missing from part2"
  [ ! -e all/utt2lang ]
}

@test "a write that fails (file size limit, as a full disk) names the file and keeps the old one" {
  run "${UTILS}/combine_data.sh" all part1 part2
  assert_status 0
  cp all/text text.before
  tail=$(printf ' and more words%.0s' $(seq 1 30))
  sed -i "s/\$/${tail}/" part2/text
  # 1 KiB per file; with SIGXFSZ ignored a longer write fails with EFBIG
  run bash -c 'ulimit -f 1; trap "" XFSZ; exec "$0" "$@"' "${UTILS}/combine_data.sh" all part1 part2
  assert_status 1
  assert_output_contains "combine_data.sh: error: cannot write all/text: File too large"
  assert_same_file text.before all/text
  [ -z "$(find all -name '*.tmp*')" ]
}

@test "feats_type and frame_shift must be the same in every source (features of one kind)" {
  for d in part1 part2; do echo "fbank 80" > "${d}/feats_type"; done
  run "${UTILS}/combine_data.sh" all part1 part2
  assert_status 0
  [ "$(cat all/feats_type)" = "fbank 80" ]
  echo "mfcc 39" > part2/feats_type
  run "${UTILS}/combine_data.sh" all part1 part2
  assert_status 1
  assert_output_contains "feats_type differs between the sources (part1 part2)"
}

@test "copy_data_dir.sh validates a copy without wav.scp (--no-wav); files it does not know stay behind" {
  rm data/wav.scp
  awk '{ print $1, "1.0" }' data/utt2spk > data/reco2dur
  run "${UTILS}/copy_data_dir.sh" data copy
  assert_status 0
  assert_output_contains "Successfully validated data-directory copy"
  [ ! -e copy/wav.scp ] && [ ! -e copy/reco2dur ]
}
