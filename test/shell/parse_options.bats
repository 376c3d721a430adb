#!/usr/bin/env bats
# utils/parse_options.sh: option names, values, config files, booleans, help, errors.

load helpers/common

setup() {
  make_tmp_dir
  cat > script.sh <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
# Begin configuration section.
nj=4            # number of jobs
foo_bar=abc     # a string option
use_gpu=false   # a boolean
cmd=run.pl
# End configuration section.
. "${UTILS}/parse_options.sh"
echo "nj=\${nj} foo_bar=\${foo_bar} use_gpu=\${use_gpu} cmd=\${cmd} rest=\$*"
SCRIPT
  chmod +x script.sh
}

teardown() {
  remove_tmp_dir
}

@test "defaults are kept without options" {
  run ./script.sh a b
  assert_status 0
  [ "${output}" = "nj=4 foo_bar=abc use_gpu=false cmd=run.pl rest=a b" ]
}

@test "--foo-bar and --foo_bar both set foo_bar" {
  run ./script.sh --foo-bar x1 --nj 8 pos
  assert_status 0
  [ "${output}" = "nj=8 foo_bar=x1 use_gpu=false cmd=run.pl rest=pos" ]
  run ./script.sh --foo_bar x2 pos
  [ "${output}" = "nj=4 foo_bar=x2 use_gpu=false cmd=run.pl rest=pos" ]
}

@test "--opt=value form, including values with = and spaces" {
  run ./script.sh --nj=3 --foo-bar=a=b "--cmd=queue.pl --mem 2G" pos
  assert_status 0
  [ "${output}" = "nj=3 foo_bar=a=b use_gpu=false cmd=queue.pl --mem 2G rest=pos" ]
}

@test "an unknown option is an error naming it" {
  run ./script.sh --nj 2 --max-epoch 10 pos
  assert_status 1
  assert_output_contains "invalid option --max-epoch"
}

@test "an option without a value is an error" {
  run ./script.sh --nj
  assert_status 1
  assert_output_contains "option --nj needs a value"
}

@test "booleans accept only true or false" {
  run ./script.sh --use-gpu true
  assert_status 0
  assert_output_contains "use_gpu=true"
  run ./script.sh --use-gpu yes
  assert_status 1
  assert_output_contains "option --use-gpu expects true or false, got 'yes'"
}

@test "parsing stops at the first non-option and at --" {
  run ./script.sh pos --nj 5
  assert_status 0
  [ "${output}" = "nj=4 foo_bar=abc use_gpu=false cmd=run.pl rest=pos --nj 5" ]
  run ./script.sh --nj 5 -- --foo-bar x
  [ "${output}" = "nj=5 foo_bar=abc use_gpu=false cmd=run.pl rest=--foo-bar x" ]
}

@test "--config file sets values; the command line wins over it" {
  printf '# a comment\nnj=7\nfoo_bar="from config"\n' > my.conf
  run ./script.sh --config my.conf pos
  assert_status 0
  [ "${output}" = "nj=7 foo_bar=from config use_gpu=false cmd=run.pl rest=pos" ]
  run ./script.sh --nj 9 --config=my.conf pos
  [ "${output}" = "nj=9 foo_bar=from config use_gpu=false cmd=run.pl rest=pos" ]
}

@test "--config with an unknown name or a missing file is an error" {
  printf 'nj=7\nbogus=1\n' > bad.conf
  run ./script.sh --config bad.conf pos
  assert_status 1
  assert_output_contains "bad.conf:2: unknown option 'bogus'"
  run ./script.sh --config missing.conf pos
  assert_status 1
  assert_output_contains "config file missing.conf not found"
}

@test "--help prints help_message and exits 0" {
  sed -i 's|^\. "|help_message="Usage: script.sh [options] <dir>"\n. "|' script.sh
  run ./script.sh --help
  assert_status 0
  [ "${output}" = "Usage: script.sh [options] <dir>" ]
}

@test "-h without help_message prints the configuration section" {
  run ./script.sh -h
  assert_status 0
  assert_output_contains "nj=4            # number of jobs"
  assert_output_contains "use_gpu=false   # a boolean"
}
