#!/usr/bin/env bash
# The shell test suite (called by `make test`):
#   1. installs what it needs with tools/installers/ (bats, shellcheck, Slurm + munge,
#      Grid Engine; each installer returns at once when its tool is present);
#   2. runs shellcheck on every *.sh and run.sh under utils/ steps/ egs/ tools/ bench/ test/
#      and on the executable shell helpers of test/shell/helpers/;
#   3. runs every test/shell/*.bats file with bats (TAP output, then a summary line).
# Exits non-zero if an installation, a shellcheck finding or a test fails.
#
# Environment:
#   SPEECHBERT_SKIP_SLURM=1        do not install Slurm (slurm.bats then skips itself)
#   SPEECHBERT_SKIP_GRIDENGINE=1   do not install Grid Engine (queue_gridengine.bats skips)
#   BATS_FILTER=<regex>            run only the tests whose names match
set -euo pipefail

log() {
  echo "$(date '+%Y-%m-%dT%H:%M:%S') (run_shell_tests.sh) $*" >&2
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "${root}"
installers=tools/installers

log "installing test tools"
"${installers}/install_bats.sh"
"${installers}/install_shellcheck.sh"
if [ "${SPEECHBERT_SKIP_SLURM:-0}" != 1 ]; then
  "${installers}/install_slurm.sh"
fi
if [ "${SPEECHBERT_SKIP_GRIDENGINE:-0}" != 1 ]; then
  "${installers}/install_gridengine.sh"
fi

failed=0

log "shellcheck"
# Candidate files: tracked or new, but not git-ignored (generated files such as
# tools/activate_python.sh and the venv are not ours to lint).
list_files() {
  if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard -- "$@"
  else
    find "$@" -path tools/venv -prune -o -type f -print 2> /dev/null
  fi
}
mapfile -t scripts < <(
  list_files utils steps egs tools bench test | while IFS= read -r f; do
    [ -f "${f}" ] || continue
    case "${f}" in
      *.sh | *.bash) echo "${f}" ;;
      test/shell/helpers/*/*) [ -x "${f}" ] && echo "${f}" ;;
    esac
  done | LC_ALL=C sort -u
)
if shellcheck -x -P SCRIPTDIR -f gcc "${scripts[@]}"; then
  log "shellcheck: ${#scripts[@]} files clean"
else
  log "shellcheck found problems (above)"
  failed=1
fi

log "bats"
bats_args=(--tap --timing)
if [ -n "${BATS_FILTER:-}" ]; then
  bats_args+=(--filter "${BATS_FILTER}")
fi
tap=$(mktemp)
trap 'rm -f "${tap}"' EXIT
set +e
bats "${bats_args[@]}" test/shell/*.bats | tee "${tap}"
bats_status=${PIPESTATUS[0]}
set -e
total=$(grep -c '^\(not \)\?ok ' "${tap}" || true)
not_ok=$(grep -c '^not ok ' "${tap}" || true)
skipped=$(grep -c '^ok .* # skip' "${tap}" || true)
echo "# bats: ${total} tests, ${not_ok} failures, ${skipped} skipped"
if [ "${bats_status}" -ne 0 ]; then
  failed=1
fi

if [ "${failed}" -ne 0 ]; then
  log "FAILED"
  exit 1
fi
log "all shell checks passed"
