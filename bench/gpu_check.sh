#!/usr/bin/env bash
# One GPU check (issue 12 item 7): everything that needs a GPU, in one go (< 8 min on one
# H100/H200), written to ONE report. See doc/training.md, "GPU check".
#
#   bench/gpu_check.sh [--recipe_dir egs/mini_spoken_squad/sqa1] [--out DIR] [--cpu] [--parts abcde]
#
# Parts: (a) bf16 train step of our encoder vs transformers.BertModel sdpa (BERT-base, seq 384,
# largest batch that fits): tokens/s, MFU, host syncs; (b) one epoch of the recipe's fine-tuning
# stage, --ngpu 1, bf16: loss finite and falling; (c) GPU decoding of the test set vs the recipe's
# CPU predictions; (d) SSL frontend extraction (none yet: skipped); (e) torchrun DDP fine-tuning
# when two GPUs are visible. The recipe directory is read only: its inputs are copied to a
# scratch directory. --cpu runs the same parts on CPU with tiny sizes (how CI tests this script).
#
# Writes DIR/gpu_report.md, DIR/gpu_report.json and DIR/logs/; exit status 1 if a part failed.
set -euo pipefail

log() {
    echo "$(date '+%Y-%m-%dT%H:%M:%S') (gpu_check.sh) $*" >&2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "${here}")
python=${PYTHON:-${repo}/tools/venv/bin/python}
if [ ! -x "${python}" ]; then
    log "no Python at ${python} (build tools/venv or set PYTHON)"
    exit 2
fi

log "running ${here}/gpu_check/run_checks.py $*"
exec "${python}" "${here}/gpu_check/run_checks.py" "$@"
