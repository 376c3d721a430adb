# shellcheck shell=bash
# shellcheck disable=SC2154  # $output and $status are set by bats' `run`
# Helpers shared by the bats tests in test/shell/ (load with: load helpers/common).

REPO_ROOT=$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)
UTILS=${REPO_ROOT}/utils
export REPO_ROOT UTILS
export LC_ALL=C

# Makes a fresh scratch directory, cd's into it and stores it in $TMP_DIR.
make_tmp_dir() {
  TMP_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/speechbert-shell.XXXXXX")
  cd "${TMP_DIR}" || return 1
}

remove_tmp_dir() {
  cd / || return 1
  if [ -n "${TMP_DIR:-}" ] && [ -d "${TMP_DIR}" ]; then
    rm -rf "${TMP_DIR}"
  fi
}

# The setup of the test files whose tests each work on the small data directory ./data
# (make_data_dir below) in a fresh scratch directory:
#   setup() { setup_data_dir; }
#   teardown() { remove_tmp_dir; }
setup_data_dir() {
  make_tmp_dir
  make_data_dir data
}

# Writes a small valid data directory in $1 (doc/design.md ids): three passages
# (contexts) read by one speaker each, 7 utterances, 4 questions.
make_data_dir() {
  local dir=$1 utt cid
  mkdir -p "${dir}"
  cat > "${dir}/contexts" <<'EOF'
test-0000-0000 test-0000-0000-000 test-0000-0000-001 test-0000-0000-002
test-0000-0001 test-0000-0001-000 test-0000-0001-001
test-0001-0000 test-0001-0000-000 test-0001-0000-001
EOF
  : > "${dir}/wav.scp"
  : > "${dir}/text"
  : > "${dir}/utt2spk"
  : > "${dir}/utt2dur"
  while read -r cid utts; do
    for utt in ${utts}; do
      echo "${utt} wav/${utt}.wav" >> "${dir}/wav.scp"
      echo "${utt} the sentence ${utt##*-} of ${cid}" >> "${dir}/text"
      echo "${utt} ${cid}" >> "${dir}/utt2spk"
      echo "${utt} 1.${utt##*-}" >> "${dir}/utt2dur"
    done
  done < "${dir}/contexts"
  cat > "${dir}/spk2utt" <<'EOF'
test-0000-0000 test-0000-0000-000 test-0000-0000-001 test-0000-0000-002
test-0000-0001 test-0000-0001-000 test-0000-0001-001
test-0001-0000 test-0001-0000-000 test-0001-0000-001
EOF
  cat > "${dir}/questions.jsonl" <<'EOF'
{"id": "q1", "context_id": "test-0000-0000", "question": "what sentence", "answers": [{"text": "the sentence", "char_start": 0}]}
{"id": "q2", "context_id": "test-0000-0001", "question": "which one", "answers": [{"text": "sentence", "char_start": 4}]}
{"id": "q3", "context_id": "test-0001-0000", "question": "of what", "answers": [{"text": "of", "char_start": 17}]}
{"id": "q4", "context_id": "test-0000-0000", "question": "again", "answers": [{"text": "the", "char_start": 0}]}
EOF
  cat > "${dir}/oracle.ctm" <<'EOF'
test-0000-0000-000 1 0.10 0.20 the 1.0
test-0000-0000-000 1 0.30 0.40 sentence 1.0
test-0000-0001-001 1 0.05 0.25 the 1.0
EOF
}

# Fails (with a message) unless "$output" contains $1.
assert_output_contains() {
  if [[ "${output}" != *"$1"* ]]; then
    echo "expected the output to contain: $1" >&2
    echo "--- output was:" >&2
    echo "${output}" >&2
    return 1
  fi
}

assert_output_not_contains() {
  if [[ "${output}" == *"$1"* ]]; then
    echo "expected the output not to contain: $1" >&2
    echo "--- output was:" >&2
    echo "${output}" >&2
    return 1
  fi
}

# Fails unless $status equals $1.
assert_status() {
  if [ "${status}" -ne "$1" ]; then
    echo "expected exit status $1, got ${status}; output:" >&2
    echo "${output}" >&2
    return 1
  fi
}

# Fails unless files $1 and $2 are identical (prints the diff).
assert_same_file() {
  diff -u "$1" "$2" >&2
}

# Fails unless file $1 has exactly $2 lines.
assert_line_count() {
  local n
  n=$(wc -l < "$1")
  if [ "${n}" -ne "$2" ]; then
    echo "expected $2 lines in $1, found ${n}:" >&2
    cat "$1" >&2
    return 1
  fi
}

# Prints the largest number of tasks that ran at the same time, from files holding
# "<start> <end>" (seconds since the epoch) lines.
max_overlap() {
  cat "$@" | awk '{ print $1, 1; print $2, -1 }' | sort -k1,1g -k2,2n |
    awk '{ n += $2; if (n > max) max = n } END { print max + 0 }'
}

# Waits until every file $2... is non-empty, polling every 0.1 s at most $1 times. Returns 0
# either way: a test that needs the files checks them afterwards.
wait_for_files() {
  local tries=$1 _ f ready
  shift
  for _ in $(seq 1 "${tries}"); do
    ready=1
    for f in "$@"; do
      [ -s "${f}" ] || ready=0
    done
    [ "${ready}" -eq 1 ] && break
    sleep 0.1
  done
  return 0
}

# Waits for the background process $1 and sets $status to its exit status (as bats' run does).
wait_status() {
  status=0
  wait "$1" || status=$?
}

# Succeeds once process $1 has exited (or is a zombie nobody reaped yet); waits up to 5 s.
wait_process_gone() {
  local _
  for _ in $(seq 1 50); do
    if ! kill -0 "$1" 2> /dev/null ||
      [ "$(ps -o stat= -p "$1" 2> /dev/null | cut -c1)" = Z ]; then
      return 0
    fi
    sleep 0.1
  done
  echo "process $1 is still running" >&2
  return 1
}
