#!/usr/bin/env bash
# Run the Python test suite with the project venv. An empty test run is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (run_pytest.sh) $*" >&2; }
export OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
log "pytest on test/ (excluding shell and integration tests)"
set +e
tools/venv/bin/python -m pytest -q -ra --durations=15 test --ignore=test/shell --ignore=test/integration "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    log "pytest collected no tests: failing on purpose"
    exit 1
fi
exit "$rc"
