"""The corpus's own ASR transcript (``data/<set>/text.asr``, e.g. Spoken SQuAD's CMU Sphinx
output), normalized and timed by forced alignment with the project's CTC aligner."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

from speechbert.align.aligner import Aligner
from speechbert.align.data import FeatureSource
from speechbert.align.forced import AlignmentSkip
from speechbert.asr.transcript import TimedWord, Transcript, normalize_timed_words
from speechbert.errors import DataError
from speechbert.io.kaldi_table import read_table
from speechbert.progress import track
from speechbert.text.normalize import normalize_text

logger = logging.getLogger(__name__)


def read_corpus_asr(data_dir: str | Path) -> dict[str, str]:
    """``data/<set>/text.asr`` as ``{utt: normalized words}``.

    Raises:
        DataError: when the file is missing or malformed.
    """
    path = Path(data_dir) / "text.asr"
    if not path.is_file():
        raise DataError("no such file: --asr corpus needs the corpus's ASR transcript", path)
    return {u: " ".join(normalize_text(v).split()) for u, v in read_table(path, allow_empty_value=True).items()}


def transcribe_corpus(asr_text: Mapping[str, str], aligner: Aligner, source: FeatureSource,
                      utts: Sequence[str], utt2dur: Mapping[str, float] | None = None) -> Transcript:
    """Time the words of ``asr_text`` for ``utts`` by forced alignment.

    An utterance absent from ``asr_text`` is skipped (``no_asr_text``); one that has words but
    no features, or cannot be aligned, keeps its words untimed.
    """
    out = Transcript()
    normalized = source.cmvn is not None
    for utt in track(utts, "timing ASR words", log=logger):
        if utt not in asr_text:
            out.skip(utt, "no_asr_text", "not in text.asr")
            continue
        words = asr_text[utt].split()
        if not words:
            out.add(utt, [])
            continue
        if utt not in source:
            logger.warning("%s: no features; its ASR words stay untimed", utt)
            out.add(utt, None, words)
            continue
        feats = source.load(utt)
        duration = (utt2dur or {}).get(utt, len(feats) * aligner.frame_shift)
        log_probs = aligner.log_probs(feats, normalized=normalized)
        try:
            times = aligner.align(log_probs, words, duration)
        except AlignmentSkip as e:
            logger.warning("%s: ASR words not aligned (%s: %s); they stay untimed", utt, e.reason, e)
            out.add(utt, None, words)
            continue
        out.add(utt, normalize_timed_words(TimedWord(w, t.start, t.end, t.conf) for w, t in zip(words, times)))
    return out
