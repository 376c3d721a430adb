"""Estimating the word-boundary rule of a trained aligner from reference word times."""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

from speechbert.align.aligner import Aligner
from speechbert.align.data import FeatureSource
from speechbert.align.forced import (AlignmentSkip, BoundaryRule, RawWord, estimate_boundary_rule,
                                     frame_path, raw_words)
from speechbert.io.ctm import CtmEntry

log = logging.getLogger(__name__)


def collect_raw_words(aligner: Aligner, text: Mapping[str, str], source: FeatureSource,
                      ref: Mapping[str, Sequence[CtmEntry]], utts: Sequence[str]
                      ) -> tuple[list[RawWord], list[float], list[float]]:
    """Candidate boundaries of the words of ``utts`` next to their reference start and end."""
    raws: list[RawWord] = []
    starts: list[float] = []
    ends: list[float] = []
    for utt in utts:
        words = text.get(utt, "").split()
        entries = ref.get(utt)
        if not words or utt not in source or entries is None or len(entries) != len(words):
            continue
        lp = aligner.log_probs(source.load(utt), normalized=source.cmvn is not None)
        targets = aligner.vocab.encode(words)
        try:
            spans = frame_path(lp, targets.ids, aligner.vocab.blank)
        except AlignmentSkip:
            continue
        for raw, e in zip(raw_words(spans, targets, aligner.output_shift, aligner.vocab), entries):
            if raw is not None:
                raws.append(raw)
                starts.append(e.start)
                ends.append(e.end)
    return raws, starts, ends


def calibrate(aligner: Aligner, text: Mapping[str, str], source: FeatureSource,
              ref: Mapping[str, Sequence[CtmEntry]], max_utts: int = 200,
              min_count: int = 15) -> BoundaryRule | None:
    """Estimate and set ``aligner.rule`` from up to ``max_utts`` utterances with reference times.

    Returns the rule, or ``None`` (rule unchanged) when no utterance has usable reference times.
    """
    utts = [u for u in text if u in ref][:max_utts]
    raws, starts, ends = collect_raw_words(aligner, text, source, ref, utts)
    if not raws:
        log.warning("no reference word times to estimate the boundary rule from; keeping %s",
                    aligner.rule)
        return None
    rule, within = estimate_boundary_rule(raws, starts, ends, min_count)
    log.info("boundary rule from %d words of %d utterances: %s (within 20 ms after the offset: %s)",
             len(raws), len(utts), rule, ", ".join(f"{k} {100 * v:.1f}%" for k, v in within.items()))
    aligner.rule = rule
    return rule
