"""A tiny trained system to pack: a one-step end-to-end model (20-dim features) in
``<root>/exp/finetune`` with an energy aligner beside it in ``<root>/exp/ctc_aligner`` (where
``pack_model`` looks by default), and a RESULTS.md."""

from __future__ import annotations

import sys
from pathlib import Path

DECODE_TESTS = Path(__file__).resolve().parents[1] / "decode"
if str(DECODE_TESTS) not in sys.path:
    sys.path.insert(0, str(DECODE_TESTS))

import answer_fixture as af  # noqa: E402

RESULTS = """# RESULTS

## Data set: test

| system | FF1 all | EM all | #Q |
|---|---:|---:|---:|
| cascade-ctc | 38.6 ± 3.7 | 23.9 ± 3.5 | 619 |
| end-to-end | 44.6 ± 3.6 | 36.7 ± 3.6 | 619 |

## Data set: dev

| system | FF1 all | EM all | #Q |
|---|---:|---:|---:|
| end-to-end | 41.0 ± 3.0 | 30.1 ± 3.1 | 600 |
"""


def make_system(root: Path) -> dict[str, Path]:
    """Train the system under ``root``; returns its paths (``exp``, ``aligner``, ``results``)."""
    import torch

    torch.set_num_threads(1)
    af.make_corpus(root, n_train=4, n_test=1)
    exp = af.train_qa_exp(root, root / "exp" / "finetune", "audio")
    # The aligner's own CMVN comes from eSpeak speech, as a real aligner's from its training set.
    audio, _ = af.synthesize(["the dog ran to the house"], seed=7)
    from speechbert.audio.features import FeatureConfig, FeatureExtractor

    feats = FeatureExtractor(FeatureConfig(num_mel_bins=af.DIM))(audio)
    aligner = af.make_energy_aligner(root / "exp" / "ctc_aligner", af.DIM,
                                     af.write_cmvn(root / "aligner_cmvn.ark", feats))
    results = root / "RESULTS.md"
    results.write_text(RESULTS, encoding="utf-8")
    return {"root": root, "exp": exp, "aligner": aligner, "results": results}

