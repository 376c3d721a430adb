"""Alignment accuracy: word boundary errors of a CTM against a reference CTM."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from speechbert.io.ctm import CtmEntry
from speechbert.metrics.wer import align_words

TOLERANCES_MS = (10, 20, 50)


@dataclass
class BoundaryStats:
    """Absolute errors (seconds) of one kind of boundary (word starts or word ends)."""

    errors: list[float] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.errors)

    @property
    def mean_ms(self) -> float:
        return 1000 * statistics.fmean(self.errors) if self.errors else float("nan")

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.errors) if self.errors else float("nan")

    def within(self, ms: float) -> float:
        """Percentage of boundaries with an error of at most ``ms`` milliseconds."""
        if not self.errors:
            return float("nan")
        # 1e-6 s of slack: times are written with 3 decimals
        return 100.0 * sum(e <= ms / 1000 + 1e-6 for e in self.errors) / len(self.errors)

    def to_dict(self) -> dict[str, float]:
        d = {"n": self.n, "mean_ms": self.mean_ms, "median_ms": self.median_ms}
        d.update({f"within_{t}ms": self.within(t) for t in TOLERANCES_MS})
        return d


@dataclass
class AlignmentReport:
    starts: BoundaryStats = field(default_factory=BoundaryStats)
    ends: BoundaryStats = field(default_factory=BoundaryStats)
    ref_words: int = 0
    missing_words: int = 0        # reference words with no hypothesis word to compare
    ref_utts: int = 0
    missing_utts: int = 0         # reference utterances absent from the hypothesis CTM
    #: per compared utterance, its word-start errors (seconds; not in to_dict: the JSON stays small)
    utt_start_errors: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"starts": self.starts.to_dict(), "ends": self.ends.to_dict(),
                "ref_words": self.ref_words, "missing_words": self.missing_words,
                "ref_utts": self.ref_utts, "missing_utts": self.missing_utts}

    def to_markdown(self, title: str = "Word alignment accuracy",
                    plots: Sequence[tuple[str, str]] = ()) -> str:
        """A small markdown report (one table, then the counts; then ``plots``, (caption,
        relative path) pairs, as images)."""
        lines = [f"# {title}", "",
                 "| boundary | n | mean abs err (ms) | median abs err (ms) | "
                 + " | ".join(f"<= {t} ms (%)" for t in TOLERANCES_MS) + " |",
                 "|---|---:|---:|---:|" + "---:|" * len(TOLERANCES_MS)]
        for name, s in (("word start", self.starts), ("word end", self.ends)):
            lines.append(f"| {name} | {s.n} | {s.mean_ms:.1f} | {s.median_ms:.1f} | "
                         + " | ".join(f"{s.within(t):.1f}" for t in TOLERANCES_MS) + " |")
        pct = 100.0 * self.missing_words / self.ref_words if self.ref_words else 0.0
        lines += ["", f"- reference words: {self.ref_words}; missing from the CTM: "
                      f"{self.missing_words} ({pct:.1f}%)",
                  f"- reference utterances: {self.ref_utts}; absent from the CTM: {self.missing_utts}",
                  ""]
        if plots:
            lines += ["## Plots", ""]
            for caption, path in plots:
                lines += [f"![{caption}]({path})", "", f"{caption} ([SVG]({Path(path).with_suffix('.svg')}))", ""]
        return "\n".join(lines)


def _pairs(hyp: Sequence[CtmEntry], ref: Sequence[CtmEntry]) -> list[tuple[CtmEntry, CtmEntry]]:
    """Pairs of hypothesis and reference entries for the same word.

    Same word sequence: pair by position. Otherwise (an ASR CTM) pair the words an edit-distance
    alignment marks correct.
    """
    hw = [e.word.lower() for e in hyp]
    rw = [e.word.lower() for e in ref]
    if hw == rw:
        return list(zip(hyp, ref))
    return [(hyp[h], ref[r]) for op, r, h in align_words(rw, hw) if op == "C"]


def compare_ctms(hyp: Mapping[str, Sequence[CtmEntry]], ref: Mapping[str, Sequence[CtmEntry]],
                 unscored: Mapping[str, set[int]] | None = None) -> AlignmentReport:
    """Boundary errors of ``hyp`` against ``ref`` over the reference utterances.

    Args:
        unscored: per utterance, indexes of reference words whose reference times are not
            trusted (left out of the error statistics, not counted missing).
    """
    rep = AlignmentReport()
    for utt, ref_entries in ref.items():
        skip = (unscored or {}).get(utt, set())
        n_scored = len(ref_entries) - len(skip)
        rep.ref_utts += 1
        rep.ref_words += n_scored
        if utt not in hyp:
            rep.missing_utts += 1
            rep.missing_words += n_scored
            continue
        index = {id(e): i for i, e in enumerate(ref_entries)}
        matched = 0
        utt_errors = rep.utt_start_errors.setdefault(utt, [])
        for h, r in _pairs(hyp[utt], ref_entries):
            if index[id(r)] in skip:
                continue
            matched += 1
            rep.starts.errors.append(abs(h.start - r.start))
            rep.ends.errors.append(abs(h.end - r.end))
            utt_errors.append(abs(h.start - r.start))
        rep.missing_words += n_scored - matched
    return rep
