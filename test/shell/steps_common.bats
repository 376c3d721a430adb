#!/usr/bin/env bats
# steps/lib/common.sh: the helpers the steps/*.sh scripts share.

load helpers/common

setup() {
  make_tmp_dir
  mkdir -p steps/lib out
  cp "${REPO_ROOT}/steps/lib/common.sh" steps/lib/
}

teardown() {
  remove_tmp_dir
}

# Runs `sort_into "$@"` in a strict-mode script, as a steps/*.sh script would.
sort_into_script() {
  printf '%s\n' 'set -euo pipefail' '. steps/lib/common.sh' 'sort_into "$@"' > merge.sh
  run bash merge.sh "$@"
}

@test "sort_into merges in LC_ALL=C order through a temporary file" {
  printf 'b 2\nB 1\n' > a.1
  printf 'a 3\n' > a.2
  sort_into_script out/merged a.1 a.2
  assert_status 0
  [ "$(cat out/merged)" = "$(printf 'B 1\na 3\nb 2')" ]
  sort_into_script out/merged -k2,2n a.1 a.2
  assert_status 0
  [ "$(cut -d' ' -f1 out/merged | tr -d '\n')" = "Bba" ]
  [ "$(ls -A out)" = merged ]
}

@test "a failed merge names the output, keeps its old content and leaves no temporary file" {
  echo old > out/merged
  sort_into_script out/merged a.missing
  assert_status 1
  assert_output_contains "Error: cannot write out/merged (see the message above)"
  [ "$(cat out/merged)" = old ]
  [ "$(ls -A out)" = merged ]
  seq 1 2000 > big
  run bash -c 'ulimit -f 1; trap "" XFSZ; exec bash merge.sh out/merged big'
  assert_status 1
  assert_output_contains "cannot write out/merged"
  [ "$(cat out/merged)" = old ]
  [ "$(ls -A out)" = merged ]
}
