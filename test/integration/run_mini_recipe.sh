#!/usr/bin/env bash
# Integration test: the mini recipe end to end on CPU, from a clean state, then a check that the
# results table exists and every number in it is present and within [0, 100].
set -euo pipefail
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (run_mini_recipe.sh) $*" >&2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
recipe="${root}/egs/mini_spoken_squad/sqa1"

cd "${recipe}"
log "cleaning previous outputs in ${recipe}"
rm -rf data dump exp db RESULTS.md
log "running the mini recipe (all stages)"
./run.sh "$@"

log "checking RESULTS.md"
"${root}/tools/venv/bin/python" "${root}/test/integration/check_results.py" RESULTS.md exp
log "integration test passed"
