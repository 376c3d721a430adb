#!/usr/bin/env bash
# Kill-anywhere test of the mini recipe (test/kill/kill_anywhere.py, with the toolkit's Python):
# stages 2, 4, 7 and 8 are SIGKILLed at random times and in the middle of checkpoint/archive
# writes, re-run, and compared with an uninterrupted run (bytes; model files with torch.equal).
#
#   test/kill/kill_anywhere.sh --short     the CI version (the default: 1 kill per stage, 2 training updates)
#   test/kill/kill_anywhere.sh --long      `make kill-test` (5 kills per stage, 6 training updates)
#   test/kill/kill_anywhere.sh --kills 3 --seed 7 --stages "4 7" --size 0.1 --workdir /tmp/k
#
# Every option is kill_anywhere.py's (--help). Exit status: 0 every stage survived its kills with
# the reference's bytes and no temp files left, 1 it did not, 2 usage error, 3 the reference failed.
set -euo pipefail

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (kill_anywhere.sh) $*" >&2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python="${root}/tools/venv/bin/python"

if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
  sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
  exec "${python}" "${root}/test/kill/kill_anywhere.py" --help
fi
if [ ! -x "${python}" ] || [ ! -f "${root}/tools/activate_python.sh" ]; then
  log "Error: ${root}/tools/venv is not built: run \`make venv\` first"
  exit 2
fi

start=${SECONDS}
set +e
"${python}" "${root}/test/kill/kill_anywhere.py" "$@"
status=$?
set -e
log "exit ${status} after $((SECONDS - start)) s"
exit "${status}"
