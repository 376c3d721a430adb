"""Time-span overlap scores of spoken question answering.

For a predicted span X = [xs, xe] and a reference span Y = [ys, ye] (seconds of passage time,
end = end of the last word):

* frame-level F1 (FF1): precision |X∩Y| / |X|, recall |X∩Y| / |Y|, their harmonic mean
  (which simplifies to 2 |X∩Y| / (|X| + |Y|));
* audio overlapping score (AOS): |X∩Y| / |X∪Y|.

A prediction with start >= end, a missing prediction, or no overlap scores 0. With several
references a question gets the best score over them (FF1 and AOS maximised separately, as SQuAD
does for EM and F1).

The *pooled* frame F1 of ESPnet's SLUE-SQA-5 recipe is a different number: 10 ms frames are summed
over the whole set before one precision/recall/F1. It is offered separately
(:class:`PooledFrameF1`) and never mixed with the per-question average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

Span = Sequence[float]


def _valid(span: Span | None) -> bool:
    return (span is not None and len(span) == 2 and span[0] is not None and span[1] is not None
            and math.isfinite(span[0]) and math.isfinite(span[1]) and span[0] < span[1])


def span_scores(pred: Span | None, ref: Span) -> tuple[float, float]:
    """Return ``(ff1, aos)`` of one predicted span against one reference span, each in [0, 1].

    An invalid prediction (None, start >= end, non-finite) or an invalid reference scores 0.
    """
    if not (_valid(pred) and _valid(ref)):
        return 0.0, 0.0
    ps, pe = float(pred[0]), float(pred[1])  # type: ignore[index]
    rs, re_ = float(ref[0]), float(ref[1])
    inter = min(pe, re_) - max(ps, rs)
    if inter <= 0.0:
        return 0.0, 0.0
    plen, rlen = pe - ps, re_ - rs
    ff1 = 2.0 * inter / (plen + rlen)
    aos = inter / (plen + rlen - inter)
    return ff1, aos


def best_span_scores(pred: Span | None, refs: Sequence[Span]) -> tuple[float, float]:
    """Return the best ``(ff1, aos)`` of ``pred`` over all ``refs`` (0, 0 when there are none)."""
    best_ff1 = best_aos = 0.0
    for ref in refs:
        ff1, aos = span_scores(pred, ref)
        best_ff1 = max(best_ff1, ff1)
        best_aos = max(best_aos, aos)
    return best_ff1, best_aos


def to_frames(span: Span, frame_shift: float = 0.01) -> tuple[int, int]:
    """Map a time span to a half-open frame range ``[round(start/shift), round(end/shift))``."""
    return int(round(span[0] / frame_shift)), int(round(span[1] / frame_shift))


def frame_counts(pred: Span | None, refs: Sequence[Span], frame_shift: float = 0.01) -> tuple[int, int, int]:
    """One question's contribution to the pooled frame F1: ``(overlap, predicted, reference)`` frames.

    The reference is the question's best reference (highest FF1; the first valid one on a tie or
    when nothing overlaps). A missing or invalid prediction contributes reference frames only.
    Returns ``(0, 0, 0)`` when no reference is valid.
    """
    usable = [r for r in refs if _valid(r)]
    if not usable:
        return 0, 0, 0
    best = max(range(len(usable)), key=lambda k: (span_scores(pred, usable[k])[0], -k))
    rs, re_ = to_frames(usable[best], frame_shift)
    reference = max(0, re_ - rs)
    if not _valid(pred):
        return 0, 0, reference
    ps, pe = to_frames(pred, frame_shift)  # type: ignore[arg-type]
    return max(0, min(pe, re_) - max(ps, rs)), max(0, pe - ps), reference


@dataclass
class PooledFrameF1:
    """Frame counts pooled over a whole set, then one precision/recall/F1 (SLUE-SQA-5 style).

    Not comparable with the per-question FF1 average: long answers weigh more, and a question
    that is answered badly costs in proportion to its frames.
    """

    frame_shift: float = 0.01
    overlap: int = 0
    predicted: int = 0
    reference: int = 0
    questions: int = 0

    def add(self, pred: Span | None, refs: Sequence[Span]) -> None:
        """Add one question; questions without a valid reference are ignored."""
        if not any(_valid(r) for r in refs):
            return
        self.add_counts(*frame_counts(pred, refs, self.frame_shift))

    def add_counts(self, overlap: int, predicted: int, reference: int) -> None:
        """Add one question's :func:`frame_counts`."""
        self.questions += 1
        self.overlap += overlap
        self.predicted += predicted
        self.reference += reference

    @property
    def precision(self) -> float:
        return self.overlap / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.overlap / self.reference if self.reference else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready summary; scores ×100."""
        return {"ff1_pooled": 100.0 * self.f1, "precision": 100.0 * self.precision,
                "recall": 100.0 * self.recall, "overlap_frames": self.overlap,
                "predicted_frames": self.predicted, "reference_frames": self.reference,
                "questions": self.questions, "frame_shift": self.frame_shift}
