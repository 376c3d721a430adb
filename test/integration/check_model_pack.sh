#!/usr/bin/env bash
# Packed models (issue 14): pack a finished recipe's end-to-end model, copy the archive to a fresh
# directory without exp/, synthesize a new recording with eSpeak NG and answer a question about
# it from the archive; the answer (span, times, score, n-best, recognised words) must be the one
# the experiment directory gives. Exits non-zero on any difference.
#
#   check_model_pack.sh <recipe_dir> <out_dir>
#
# <recipe_dir>: a recipe directory with a finished run (exp/finetune, exp/ctc_aligner, RESULTS.md
# if there is one); it is only read. <out_dir>: where model.zip, the recording and both answers
# (answer_exp.json, answer_pack.json) are written; created if missing.
set -euo pipefail
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (check_model_pack.sh) $*" >&2; }
if [ $# -ne 2 ]; then
    log "Error: usage: check_model_pack.sh <recipe_dir> <out_dir>"
    exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
python="${PYTHON:-${root}/tools/venv/bin/python}"
recipe=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
fresh="${out}/fresh"
question="what does the miller grind"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

for need in exp/finetune/model.avg.pt exp/finetune/inputs.yaml exp/ctc_aligner/aligner.yaml; do
    if [ ! -e "${recipe}/${need}" ]; then
        log "Error: ${recipe}/${need} is missing: run the recipe first"
        exit 1
    fi
done
results=()
if [ -f "${recipe}/RESULTS.md" ]; then
    results=(--results RESULTS.md)
fi

log "packing ${recipe}/exp/finetune into ${out}/model.zip"
(cd "${recipe}" && "${python}" -m speechbert.bin.pack_model --exp_dir exp/finetune --out "${out}/model.zip" \
    "${results[@]}")

rm -rf "${fresh}"
mkdir -p "${fresh}"
cp "${out}/model.zip" "${fresh}/model.zip"
log "synthesizing a new recording: ${fresh}/new.wav"
"${python}" - "${fresh}/new.wav" <<'PY'
import sys

import numpy as np
import soundfile

from speechbert.synth.tts import EspeakSynthesizer, Voice

sentences = ["the old mill stands by the river", "every morning the miller grinds wheat into flour",
             "the bread is sold in the town market"]
syn = EspeakSynthesizer(sample_rate=16000)
rng = np.random.default_rng(5)
parts = []
for k, sentence in enumerate(sentences):
    parts.append(syn.synthesize(sentence, Voice("en-us"), seed=k).audio)
    parts.append((3e-3 * rng.standard_normal(4800)).astype(np.float32))
soundfile.write(sys.argv[1], np.concatenate(parts), 16000)
PY

log "answering from the experiment directory"
(cd "${recipe}" && "${python}" -m speechbert.bin.answer --model_dir exp/finetune --aligner_dir exp/ctc_aligner \
    --audio "${fresh}/new.wav" --question "${question}" --json --verbose 0) > "${out}/answer_exp.json"
log "answering from the archive in ${fresh} (no exp/ there)"
(cd "${fresh}" && "${python}" -m speechbert.bin.answer --model_pack model.zip --audio new.wav \
    --question "${question}" --json --verbose 0) > "${out}/answer_pack.json"
if [ -e "${fresh}/exp" ]; then
    log "Error: answering from the archive created ${fresh}/exp"
    exit 1
fi

"${python}" - "${out}/answer_exp.json" "${out}/answer_pack.json" <<'PY'
import json
import sys

exp, pack = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
keys = ("start", "end", "score", "word_span", "words", "nbest", "recognized_words", "transcript", "chunks")
diff = [k for k in keys if exp.get(k) != pack.get(k)]
for k in diff:
    print(f"check_model_pack.sh: {k} differs: exp dir {exp.get(k)!r}, archive {pack.get(k)!r}", file=sys.stderr)
if diff:
    sys.exit(1)
print(f"same answer from the exp dir and the archive: {exp['start']:.2f}-{exp['end']:.2f} s "
      f"\"{exp['words']}\" (score {exp['score']:.3f}, {exp['recognized_words']} recognised words)")
PY
log "OK: ${out}/model.zip answers as exp/finetune does"
