"""The project's CTC aligner used as an ASR: greedy decoding, then the hypothesis forced-aligned.

Best-path decoding (argmax per frame, repeats merged, blanks removed, words split at ``|``) gives
the words; forcing those words back through the same log-probabilities with the aligner's
boundary rule gives their times, exactly as stage 4 times reference words. No language model:
with a small aligner the word error rate is high, which is what the cascade baseline needs to
show (see doc/answering.md).
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np

from speechbert.align.align_dir import greedy_words
from speechbert.align.aligner import Aligner
from speechbert.align.data import FeatureSource
from speechbert.align.forced import AlignmentSkip
from speechbert.asr.transcript import TimedWord, Transcript, normalize_timed_words
from speechbert.progress import track

logger = logging.getLogger(__name__)


def recognize(aligner: Aligner, feats: np.ndarray, duration: float | None = None,
              normalized: bool = False) -> list[TimedWord]:
    """Recognise one utterance's features ``(T, D)``: normalized words with times (seconds).

    ``normalized``: the features already had the training CMVN applied (else the aligner's
    own CMVN is applied). ``duration`` clips word times (default: frames × frame shift).
    Returns ``[]`` when nothing but silence is recognised.
    """
    if len(feats) == 0:
        return []
    log_probs = aligner.log_probs(feats, normalized=normalized)
    words = greedy_words(log_probs, aligner)
    if not words:
        return []
    if duration is None:
        duration = len(feats) * aligner.frame_shift
    try:
        times = aligner.align(log_probs, words, duration)
    except AlignmentSkip as e:  # a greedy path always fits; guard against odd vocabularies
        logger.warning("greedy hypothesis %r could not be re-aligned (%s); spreading its words evenly",
                       " ".join(words), e)
        step = duration / len(words)
        return normalize_timed_words(TimedWord(w, k * step, (k + 1) * step, 0.0) for k, w in enumerate(words))
    return normalize_timed_words(TimedWord(w, t.start, t.end, t.conf) for w, t in zip(words, times))


def transcribe_ctc(aligner: Aligner, source: FeatureSource, utts: Sequence[str],
                   utt2dur: Mapping[str, float] | None = None) -> Transcript:
    """Recognise ``utts`` of a dump dir (``source`` applies the training CMVN)."""
    out = Transcript()
    normalized = source.cmvn is not None
    for utt in track(utts, "recognizing utterances (CTC)", log=logger):
        if utt not in source:
            out.skip(utt, "no_features", "not in feats.scp")
            continue
        feats = source.load(utt)
        duration = (utt2dur or {}).get(utt)
        out.add(utt, recognize(aligner, feats, duration, normalized=normalized))
    return out
