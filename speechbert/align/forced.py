"""Forced alignment of a transcript to CTC log-probabilities, and word boundaries from the path.

The CTC path puts each character on a short spike, not on the whole sound, so the spikes are
read with a rule: ``start = end of the | before the word`` (or the first letter's spike) plus
an offset, ``end = end of the last letter's spike`` (or the start of the next ``|``) plus an
offset. How late the model fires depends on the sound: the offsets are estimated on held-out
reference times per first letter (starts) and per last letter (ends), with one global offset
for letters seen too rarely (``estimate_boundary_rule``, ``doc/alignment.md``).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Sequence

import torch
import torchaudio.functional as taf

from speechbert.align.vocab import CharVocab, Targets, min_frames
from speechbert.errors import ConfigError

START_RULES = ("boundary_end", "first_char_start")
END_RULES = ("last_char_end", "next_boundary_start")


@dataclass
class BoundaryRule:
    """How word start/end times are read off a CTC path, with corrections (seconds).

    ``start_offsets`` / ``end_offsets`` map a word's first / last letter to its own offset; other
    letters use ``start_offset`` / ``end_offset``.
    """

    start_rule: str = "boundary_end"
    end_rule: str = "last_char_end"
    start_offset: float = 0.0
    end_offset: float = 0.0
    start_offsets: dict[str, float] = field(default_factory=dict)
    end_offsets: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.start_rule not in START_RULES:
            raise ConfigError(f"start_rule must be one of {START_RULES}, got {self.start_rule!r}")
        if self.end_rule not in END_RULES:
            raise ConfigError(f"end_rule must be one of {END_RULES}, got {self.end_rule!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (f"start = {self.start_rule} {self.start_offset * 1000:+.0f} ms "
                f"({len(self.start_offsets)} letter-specific offsets), end = {self.end_rule} "
                f"{self.end_offset * 1000:+.0f} ms ({len(self.end_offsets)} letter-specific offsets)")


@dataclass
class RawWord:
    """Candidate boundary times (seconds, before offsets) of one word, and its confidence."""

    boundary_end: float
    first_char_start: float
    last_char_end: float
    next_boundary_start: float
    conf: float
    first: str = ""         # first and last letter of the word (as aligned)
    last: str = ""


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


def raw_words(spans: Sequence[tuple[int, int, float]], targets: Targets, frame_shift: float,
              vocab: CharVocab | None = None) -> list[RawWord | None]:
    """Candidate times of each word (``None`` for words with no alignable character)."""
    tokens = (vocab or CharVocab()).tokens
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
                           conf=conf, first=tokens[targets.ids[first]], last=tokens[targets.ids[last]]))
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
        start = getattr(r, rule.start_rule) + rule.start_offsets.get(r.first, rule.start_offset)
        end = getattr(r, rule.end_rule) + rule.end_offsets.get(r.last, rule.end_offset)
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
    return apply_rule(raw_words(spans, targets, frame_shift, vocab), rule, duration), targets


def _offsets(diffs: Sequence[float], letters: Sequence[str], min_count: int
             ) -> tuple[float, dict[str, float]]:
    """Global median of ``diffs`` and the median per letter seen at least ``min_count`` times."""
    by_letter: dict[str, list[float]] = {}
    for d, c in zip(diffs, letters):
        by_letter.setdefault(c, []).append(d)
    per_letter = {c: round(statistics.median(v), 4) for c, v in sorted(by_letter.items())
                  if len(v) >= min_count}
    return round(statistics.median(diffs), 4), per_letter


def estimate_boundary_rule(raw: Sequence[RawWord], ref_starts: Sequence[float],
                           ref_ends: Sequence[float], min_count: int = 15
                           ) -> tuple[BoundaryRule, dict[str, float]]:
    """Pick the start and end rules, and their offsets, that fit reference times best.

    For each candidate rule the offset of a letter (first letter for starts, last for ends) is
    the median of ``reference - candidate`` over the words with that letter, if there are at
    least ``min_count``; the global median otherwise. The candidate with the most boundaries
    within 20 ms after the correction wins (ties: lower mean error).

    Returns:
        The rule and, per candidate, its fraction within 20 ms (for the training log).
    """
    if not raw:
        raise ValueError("no words to estimate the boundary rule from")
    scores: dict[str, float] = {}

    def best(rules: tuple[str, ...], refs: Sequence[float], letters: Sequence[str]
             ) -> tuple[str, float, dict[str, float]]:
        ranked = []
        for name in rules:
            diffs = [ref - getattr(r, name) for r, ref in zip(raw, refs)]
            offset, per_letter = _offsets(diffs, letters, min_count)
            errs = [abs(d - per_letter.get(c, offset)) for d, c in zip(diffs, letters)]
            within = sum(e <= 0.020 for e in errs) / len(errs)
            scores[name] = within
            ranked.append((-within, statistics.fmean(errs), name, offset, per_letter))
        ranked.sort(key=lambda t: t[:3])
        return ranked[0][2], ranked[0][3], ranked[0][4]

    start_rule, start_offset, start_offsets = best(START_RULES, ref_starts, [r.first for r in raw])
    end_rule, end_offset, end_offsets = best(END_RULES, ref_ends, [r.last for r in raw])
    return BoundaryRule(start_rule, end_rule, start_offset, end_offset, start_offsets, end_offsets), scores
