"""Forced alignment of a transcript to CTC log-probabilities, and word boundaries from the path.

The CTC path puts each character on a short spike, not on the whole sound, so a word's first
letter is a poor start estimate (late for vowel-initial words). The boundary token ``|`` in
front of the word ends where the word's sound begins: ``start = end of the preceding |`` plus
a constant offset estimated on training data (``estimate_boundary_rule``). Ends are taken the
same way from the rule that fits the training data best.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Sequence

import torch
import torchaudio.functional as taf

from speechbert.align.vocab import CharVocab, Targets, min_frames
from speechbert.errors import ConfigError

START_RULES = ("boundary_end", "first_char_start")
END_RULES = ("last_char_end", "next_boundary_start")


@dataclass
class BoundaryRule:
    """How word start/end times are read off a CTC path, with constant corrections (seconds)."""

    start_rule: str = "boundary_end"
    end_rule: str = "last_char_end"
    start_offset: float = 0.0
    end_offset: float = 0.0

    def __post_init__(self) -> None:
        if self.start_rule not in START_RULES:
            raise ConfigError(f"start_rule must be one of {START_RULES}, got {self.start_rule!r}")
        if self.end_rule not in END_RULES:
            raise ConfigError(f"end_rule must be one of {END_RULES}, got {self.end_rule!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RawWord:
    """Candidate boundary times (seconds, before offsets) of one word, and its confidence."""

    boundary_end: float
    first_char_start: float
    last_char_end: float
    next_boundary_start: float
    conf: float


@dataclass
class WordTime:
    start: float
    end: float
    conf: float


class AlignmentSkip(Exception):
    """An utterance that cannot be aligned; ``reason`` is a short tag for counting."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def frame_path(log_probs: torch.Tensor, ids: Sequence[int], blank: int = 0
               ) -> list[tuple[int, int, float]]:
    """Viterbi path of ``ids`` through ``log_probs (T, V)``.

    Returns one ``(start_frame, end_frame_exclusive, mean_posterior)`` per target token.

    Raises:
        AlignmentSkip: ``too_short`` when the frames cannot hold the transcript.
    """
    n_frames = int(log_probs.size(0))
    need = min_frames(list(ids))
    if need > n_frames:
        raise AlignmentSkip("too_short", f"transcript needs at least {need} frames, the audio has "
                                         f"{n_frames}")
    targets = torch.tensor([list(ids)], dtype=torch.int32)
    path, scores = taf.forced_align(log_probs[None].float().cpu(), targets, blank=blank)
    spans = taf.merge_tokens(path[0], scores[0].exp(), blank=blank)
    if len(spans) != len(ids):  # cannot happen for a valid path; guard the index arithmetic
        raise AlignmentSkip("bad_path", f"path has {len(spans)} tokens for {len(ids)} targets")
    return [(s.start, s.end, float(s.score)) for s in spans]


def raw_words(spans: Sequence[tuple[int, int, float]], targets: Targets, frame_shift: float
              ) -> list[RawWord | None]:
    """Candidate times of each word (``None`` for words with no alignable character)."""
    out: list[RawWord | None] = []
    for rng in targets.word_token_ranges:
        if rng is None:
            out.append(None)
            continue
        first, last = rng
        # targets are "| w o r d | ...": the token before a word and after it are boundaries
        chars = spans[first:last + 1]
        conf = sum(s[2] * (s[1] - s[0]) for s in chars) / max(1, sum(s[1] - s[0] for s in chars))
        out.append(RawWord(boundary_end=spans[first - 1][1] * frame_shift,
                           first_char_start=chars[0][0] * frame_shift,
                           last_char_end=chars[-1][1] * frame_shift,
                           next_boundary_start=spans[last + 1][0] * frame_shift,
                           conf=conf))
    return out


def apply_rule(raw: Sequence[RawWord | None], rule: BoundaryRule, duration: float) -> list[WordTime]:
    """Word times from candidate times: offsets added, clipped to ``[0, duration]``, no overlaps.

    A word with no alignable character gets a zero-length slot where it sits between its
    neighbours, and confidence 0.
    """
    times: list[WordTime | None] = []
    for r in raw:
        if r is None:
            times.append(None)
            continue
        start = getattr(r, rule.start_rule) + rule.start_offset
        end = getattr(r, rule.end_rule) + rule.end_offset
        start = min(max(start, 0.0), duration)
        end = min(max(end, start), duration)
        times.append(WordTime(start, end, r.conf))
    known = [t for t in times if t is not None]
    for prev, cur in zip(known, known[1:]):
        if cur.start < prev.start:  # offsets can reorder very short words: keep time order
            cur.start = prev.start
        if prev.end > cur.start:
            prev.end = cur.start
        cur.end = max(cur.end, cur.start)
        prev.end = max(prev.end, prev.start)
    out: list[WordTime] = []
    for i, t in enumerate(times):
        if t is None:
            nxt = next((u for u in times[i + 1:] if u is not None), None)
            at = out[-1].end if out else (nxt.start if nxt is not None else 0.0)
            t = WordTime(at, at, 0.0)
        out.append(t)
    return out


def align_words(log_probs: torch.Tensor, words: list[str], vocab: CharVocab, frame_shift: float,
                rule: BoundaryRule, duration: float | None = None) -> tuple[list[WordTime], Targets]:
    """Align ``words`` to one utterance's ``log_probs (T, V)``; times in seconds.

    Raises:
        AlignmentSkip: ``empty`` (no words), ``no_letters`` (no word has an alignable
            character), ``too_short`` (transcript longer than the frames allow).
    """
    if not words:
        raise AlignmentSkip("empty", "empty transcript")
    targets = vocab.encode(words)
    if all(r is None for r in targets.word_token_ranges):
        raise AlignmentSkip("no_letters", "no word has a character in the aligner's vocabulary")
    spans = frame_path(log_probs, targets.ids, vocab.blank)
    if duration is None:
        duration = log_probs.size(0) * frame_shift
    return apply_rule(raw_words(spans, targets, frame_shift), rule, duration), targets


def estimate_boundary_rule(raw: Sequence[RawWord], ref_starts: Sequence[float],
                           ref_ends: Sequence[float]) -> tuple[BoundaryRule, dict[str, float]]:
    """Pick the start and end rules, and their offsets, that fit reference times best.

    For each rule the offset is the median of ``reference - candidate``; the rule with the
    most boundaries within 20 ms after that correction wins (ties: lower mean error).

    Returns:
        The rule and, per candidate, its fraction within 20 ms (for the training log).
    """
    if not raw:
        raise ValueError("no words to estimate the boundary rule from")
    scores: dict[str, float] = {}

    def best(rules: tuple[str, ...], refs: Sequence[float]) -> tuple[str, float]:
        ranked = []
        for name in rules:
            diffs = [ref - getattr(r, name) for r, ref in zip(raw, refs)]
            offset = statistics.median(diffs)
            errs = [abs(d - offset) for d in diffs]
            within = sum(e <= 0.020 for e in errs) / len(errs)
            scores[name] = within
            ranked.append((-within, statistics.fmean(errs), name, offset))
        ranked.sort()
        return ranked[0][2], ranked[0][3]

    start_rule, start_offset = best(START_RULES, ref_starts)
    end_rule, end_offset = best(END_RULES, ref_ends)
    return BoundaryRule(start_rule, end_rule, round(start_offset, 4), round(end_offset, 4)), scores
