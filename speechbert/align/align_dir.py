"""Aligning every utterance of a data directory, with counted skips."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import torch

from speechbert.align.aligner import Aligner
from speechbert.align.data import FeatureSource
from speechbert.align.forced import AlignmentSkip, align_words
from speechbert.errors import ConfigError
from speechbert.io.ctm import CtmEntry
from speechbert.progress import track

log = logging.getLogger(__name__)


@dataclass
class DirResult:
    """CTM of the aligned utterances and what happened to the others."""

    ctm: dict[str, list[CtmEntry]] = field(default_factory=dict)
    skipped: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # reason -> [(utt, why)]
    dropped_chars: Counter = field(default_factory=Counter)
    utts_with_dropped_chars: int = 0
    audio_seconds: float = 0.0
    forward_seconds: float = 0.0
    align_seconds: float = 0.0

    def skip(self, reason: str, utt: str, message: str) -> None:
        self.skipped.setdefault(reason, []).append((utt, message))
        log.warning("%s: not aligned (%s): %s", utt, reason, message)

    @property
    def n_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def summary(self) -> str:
        """One line for the stage log."""
        parts = [f"aligned {len(self.ctm)} utterances"]
        if self.skipped:
            parts.append("skipped " + ", ".join(f"{len(v)} {k}" for k, v in sorted(self.skipped.items())))
        if self.dropped_chars:
            chars = " ".join(f"{c!r}x{n}" for c, n in self.dropped_chars.most_common(10))
            parts.append(f"{self.utts_with_dropped_chars} utterances had characters outside the "
                         f"vocabulary, ignored: {chars}")
        if self.audio_seconds and self.forward_seconds:
            total = self.forward_seconds + self.align_seconds
            parts.append(f"{self.audio_seconds / total:.0f}x real time "
                         f"(model forward alone {self.audio_seconds / self.forward_seconds:.0f}x)")
        return "; ".join(parts)


def job_slice(keys: Sequence[str], nj: int, job: int) -> list[str]:
    """Keys of job ``job`` (1-based) of ``nj``: contiguous, nearly equal pieces, as split_scp.pl."""
    if nj < 1 or not 1 <= job <= nj:
        raise ConfigError(f"--job must be in 1..--nj ({nj}), got {job}")
    n = len(keys)
    base, extra = divmod(n, nj)
    start = (job - 1) * base + min(job - 1, extra)
    return list(keys[start:start + base + (1 if job - 1 < extra else 0)])


def greedy_words(log_probs: torch.Tensor, aligner: Aligner) -> list[str]:
    """Best-path CTC decoding: argmax per frame, repeats merged, blanks removed, split at ``|``."""
    best = log_probs.argmax(dim=-1).tolist()
    ids = [t for k, t in enumerate(best) if t != aligner.vocab.blank and (k == 0 or t != best[k - 1])]
    return aligner.vocab.decode(ids).replace("|", " ").split()


def align_dir(aligner: Aligner, text: Mapping[str, str], source: FeatureSource,
              utts: Sequence[str], utt2dur: Mapping[str, float] | None = None) -> DirResult:
    """Align ``text[utt]`` for each of ``utts``.

    Word times are utterance-relative seconds clipped to the utterance duration. Utterances
    that cannot be aligned are counted in ``DirResult.skipped`` by reason: ``no_features``,
    ``empty`` (empty transcript), ``no_letters``, ``too_short``.
    """
    res = DirResult()
    for utt in track(utts, "aligning utterances", log=log):
        if utt not in source:
            res.skip("no_features", utt, "not in feats.scp")
            continue
        feats = source.load(utt)
        duration = (utt2dur or {}).get(utt, len(feats) * aligner.frame_shift)
        t0 = time.perf_counter()
        lp = aligner.log_probs(feats, normalized=source.cmvn is not None)
        t1 = time.perf_counter()
        res.forward_seconds += t1 - t0
        res.audio_seconds += len(feats) * aligner.frame_shift
        words = text.get(utt, "").split()
        try:
            times, targets = align_words(lp, words, aligner.vocab, aligner.output_shift,
                                         aligner.rule, duration)
        except AlignmentSkip as e:
            res.align_seconds += time.perf_counter() - t1
            res.skip(e.reason, utt, str(e))
            continue
        res.align_seconds += time.perf_counter() - t1
        if targets.dropped_chars:
            res.dropped_chars.update(targets.dropped_chars)
            res.utts_with_dropped_chars += 1
            log.warning("%s: ignored characters outside the aligner's vocabulary: %s", utt,
                        " ".join(sorted(set(targets.dropped_chars))))
        res.ctm[utt] = [CtmEntry(utt, t.start, t.end - t.start, w, t.conf)
                        for w, t in zip(words, times)]
    return res

