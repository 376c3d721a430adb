"""Ensemble of the end-to-end model and the cascade on the n-best time spans of each question.

Method (doc/answering.md):

1. Each system's n-best scores (start + end logits) become probabilities with a softmax over that
   system's n-best list, with a per-system temperature: ``p_k = exp(s_k / T) / Σ_j exp(s_j / T)``.
   Entries without a time span are dropped first.
2. The candidates are the time spans of both lists (identical spans, to the millisecond, merged).
3. A system's support for a candidate ``c`` is the best overlap-weighted probability of its
   entries: ``q(c) = max_k p_k · IoU(c, span_k)`` (IoU = the audio overlapping score of the two
   time spans). A system's own top span gets its full probability; a span it did not propose
   gets credit in proportion to how much it overlaps the system's spans.
4. ``score(c) = w · q_e2e(c) + (1 − w) · q_cascade(c)``; the best candidate is the answer, the
   ranked candidates its n-best. Identical spans and ties go to the system with the larger weight
   (the end-to-end model at ``w = 0.5``), then to the candidate earlier in its list.

With ``w = 1`` the answer is the end-to-end model's top span (no candidate beats
``p_top · 1``), with ``w = 0`` the cascade's; in between, a span both systems support wins over
a span only one of them ranks first. A question one system has no prediction for takes the
other system's answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from speechbert.errors import ConfigError


@dataclass(frozen=True)
class Candidate:
    """One time span proposed by a system, with its probability there and its descriptive fields."""

    start: float
    end: float
    prob: float
    system: str  # "e2e" or "cascade"
    entry: dict


def softmax(scores: Sequence[float], temperature: float = 1.0) -> np.ndarray:
    """Softmax of ``scores / temperature`` (numerically stable)."""
    if temperature <= 0:
        raise ConfigError(f"temperature must be positive, got {temperature}")
    x = np.asarray(scores, dtype=np.float64) / temperature
    if x.size == 0:
        return x
    x = np.exp(x - x.max())
    return x / x.sum()


def time_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Intersection over union of two time spans (0 for disjoint or empty spans)."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    union = max(a[1], b[1]) - min(a[0], b[0])
    if inter <= 0 or union <= 0:
        return 1.0 if a == b else 0.0
    return inter / union


def system_candidates(record: Mapping | None, system: str, temperature: float) -> list[Candidate]:
    """The timed n-best entries of one system's record with their softmax probabilities."""
    if record is None:
        return []
    entries = [e for e in record.get("nbest") or []
               if e.get("start") is not None and e.get("end") is not None and e.get("score") is not None]
    if not entries:
        return []
    probs = softmax([float(e["score"]) for e in entries], temperature)
    return [Candidate(float(e["start"]), float(e["end"]), float(p), system, e) for e, p in zip(entries, probs)]


def support(span: tuple[float, float], cands: Sequence[Candidate]) -> float:
    """``max_k p_k · IoU(span, span_k)`` over one system's candidates (0 if none)."""
    return max((c.prob * time_iou(span, (c.start, c.end)) for c in cands), default=0.0)


def combine_question(e2e: Mapping | None, cascade: Mapping | None, weight: float, *, nbest: int = 5,
                     e2e_temperature: float = 1.0, cascade_temperature: float = 1.0) -> dict | None:
    """The ensemble record of one question (``None`` when neither system has a timed span)."""
    if not 0.0 <= weight <= 1.0:
        raise ConfigError(f"ensemble weight must be in [0, 1], got {weight}")
    ce = system_candidates(e2e, "e2e", e2e_temperature)
    cc = system_candidates(cascade, "cascade", cascade_temperature)
    if not ce and not cc:
        return None
    # With one system missing, its weight goes to the other.
    w = weight if ce and cc else (1.0 if ce else 0.0)
    seen: set[tuple[int, int]] = set()
    ranked = []
    first, second = (ce, cc) if w >= 0.5 else (cc, ce)
    for order, c in enumerate(first + second):
        key = (int(round(c.start * 1000)), int(round(c.end * 1000)))
        if key in seen:
            continue
        seen.add(key)
        span = (c.start, c.end)
        score = w * support(span, ce) + (1.0 - w) * support(span, cc)
        ranked.append((-score, order, c, score))
    ranked.sort(key=lambda t: (t[0], t[1]))
    top = ranked[:max(1, nbest)]

    def entry(c: Candidate, score: float) -> dict:
        e = c.entry
        return {"word_span": e.get("word_span"), "words": e.get("words"), "start": c.start, "end": c.end,
                "score": score, "system": c.system,
                "word_source": (e2e if c.system == "e2e" else cascade or {}).get("word_source")}

    best_c, best_score = top[0][2], top[0][3]
    base = e2e if e2e is not None else cascade
    record = {"id": base["id"], "context_id": base.get("context_id"), **entry(best_c, best_score),
              "nbest": [entry(c, s) for _, _, c, s in top]}
    return record


def ensemble_records(e2e: Mapping[str, Mapping], cascade: Mapping[str, Mapping], weight: float, *,
                     nbest: int = 5, e2e_temperature: float = 1.0,
                     cascade_temperature: float = 1.0) -> list[dict]:
    """Combine two systems' records (``{question id: record}``); order: the e2e file's, then the rest."""
    out = []
    for qid in list(e2e) + [q for q in cascade if q not in e2e]:
        a, b = e2e.get(qid), cascade.get(qid)
        if a is not None and b is not None and a.get("context_id") != b.get("context_id"):
            raise ConfigError(f"question {qid!r}: the two systems name different contexts "
                              f"({a.get('context_id')!r} vs {b.get('context_id')!r})")
        rec = combine_question(a, b, weight, nbest=nbest, e2e_temperature=e2e_temperature,
                               cascade_temperature=cascade_temperature)
        if rec is not None and math.isfinite(rec["score"]):
            out.append(rec)
    return out
