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

The weight is chosen on a development set (:func:`choose_weight`): the grid 0, 0.05, …, 1, the
weight with the best mean FF1 of the ensemble's answers (scored by :mod:`speechbert.metrics`),
ties to the weight closest to 0.5, then the smaller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from speechbert.errors import ConfigError, DataError
from speechbert.metrics.sqa_scoring import Prediction, score_question

#: The weights :func:`choose_weight` tries: 0, 0.05, …, 1.
WEIGHT_GRID = tuple(round(0.05 * k, 2) for k in range(21))


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


@dataclass
class _Supports:
    """One question's candidates with both systems' support, for both candidate orders."""

    ce: list[Candidate]
    cc: list[Candidate]
    # e2e_first (w >= 0.5) -> [(order, candidate, q_e2e, q_cascade)], deduplicated spans.
    tables: dict[bool, list[tuple[int, Candidate, float, float]]] = field(default_factory=dict)

    def effective_weight(self, weight: float) -> float:
        # With one system missing, its weight goes to the other.
        return weight if self.ce and self.cc else (1.0 if self.ce else 0.0)

    def table(self, w: float) -> list[tuple[int, Candidate, float, float]]:
        e2e_first = w >= 0.5
        if e2e_first not in self.tables:
            seen: set[tuple[int, int]] = set()
            rows = []
            first, second = (self.ce, self.cc) if e2e_first else (self.cc, self.ce)
            for order, c in enumerate(first + second):
                key = (int(round(c.start * 1000)), int(round(c.end * 1000)))
                if key in seen:
                    continue
                seen.add(key)
                span = (c.start, c.end)
                rows.append((order, c, support(span, self.ce), support(span, self.cc)))
            self.tables[e2e_first] = rows
        return self.tables[e2e_first]

    def ranked(self, weight: float) -> list[tuple[Candidate, float]]:
        """Candidates best first with their combined scores (ties: earlier in the list first)."""
        w = self.effective_weight(weight)
        scored = [(-(w * qe + (1.0 - w) * qc), order, c) for order, c, qe, qc in self.table(w)]
        scored.sort(key=lambda t: (t[0], t[1]))
        return [(c, -neg) for neg, _, c in scored]


def _supports(e2e: Mapping | None, cascade: Mapping | None, e2e_temperature: float,
              cascade_temperature: float) -> _Supports:
    return _Supports(system_candidates(e2e, "e2e", e2e_temperature),
                     system_candidates(cascade, "cascade", cascade_temperature))


def _check_weight(weight: float) -> None:
    if not 0.0 <= weight <= 1.0:
        raise ConfigError(f"ensemble weight must be in [0, 1], got {weight}")


def combine_question(e2e: Mapping | None, cascade: Mapping | None, weight: float, *, nbest: int = 5,
                     e2e_temperature: float = 1.0, cascade_temperature: float = 1.0) -> dict | None:
    """The ensemble record of one question (``None`` when neither system has a timed span)."""
    _check_weight(weight)
    sup = _supports(e2e, cascade, e2e_temperature, cascade_temperature)
    if not sup.ce and not sup.cc:
        return None
    top = sup.ranked(weight)[:max(1, nbest)]

    def entry(c: Candidate, score: float) -> dict:
        e = c.entry
        return {"word_span": e.get("word_span"), "words": e.get("words"), "start": c.start, "end": c.end,
                "score": score, "system": c.system,
                "word_source": (e2e if c.system == "e2e" else cascade or {}).get("word_source")}

    best_c, best_score = top[0]
    base = e2e if e2e is not None else cascade
    record = {"id": base["id"], "context_id": base.get("context_id"), **entry(best_c, best_score),
              "nbest": [entry(c, s) for c, s in top]}
    return record


def _question_ids(e2e: Mapping[str, Mapping], cascade: Mapping[str, Mapping]) -> list[str]:
    """Question ids in output order (the e2e file's, then the rest), the two contexts checked."""
    ids = list(e2e) + [q for q in cascade if q not in e2e]
    for qid in ids:
        a, b = e2e.get(qid), cascade.get(qid)
        if a is not None and b is not None and a.get("context_id") != b.get("context_id"):
            raise ConfigError(f"question {qid!r}: the two systems name different contexts "
                              f"({a.get('context_id')!r} vs {b.get('context_id')!r})")
    return ids


def ensemble_records(e2e: Mapping[str, Mapping], cascade: Mapping[str, Mapping], weight: float, *,
                     nbest: int = 5, e2e_temperature: float = 1.0,
                     cascade_temperature: float = 1.0) -> list[dict]:
    """Combine two systems' records (``{question id: record}``); order: the e2e file's, then the rest."""
    out = []
    for qid in _question_ids(e2e, cascade):
        a, b = e2e.get(qid), cascade.get(qid)
        rec = combine_question(a, b, weight, nbest=nbest, e2e_temperature=e2e_temperature,
                               cascade_temperature=cascade_temperature)
        if rec is not None and math.isfinite(rec["score"]):
            out.append(rec)
    return out


# ----------------------------------------------------------------------------------------------
# Choosing the weight on a development set


@dataclass(frozen=True)
class WeightChoice:
    """The weight chosen on dev and the mean dev FF1 (×100) of every weight tried."""

    weight: float
    grid: list[tuple[float, float]]
    questions: int  # dev questions in the FF1 average (those with an aligned reference)

    @property
    def dev_ff1(self) -> float:
        """Mean dev FF1 (×100) of the chosen weight."""
        return dict(self.grid)[self.weight]


def _mean_ff1(answers: Mapping[str, tuple[float, float] | None], questions: Sequence[Mapping[str, Any]]
              ) -> tuple[float | None, int]:
    """Mean FF1 (×100) of one answer span per question, scored as score_sqa scores it."""
    total, n = 0.0, 0
    for q in questions:
        span = answers.get(q["id"])
        pred = None if span is None else Prediction(q["id"], q.get("context_id"), span[0], span[1], None)
        score, _ = score_question(q, pred, text_scored=False)
        if score.ff1 is not None:
            total += score.ff1
            n += 1
    return (100.0 * total / n if n else None), n


def choose_weight(e2e: Mapping[str, Mapping], cascade: Mapping[str, Mapping],
                  questions: Sequence[Mapping[str, Any]], *, grid: Sequence[float] = WEIGHT_GRID,
                  e2e_temperature: float = 1.0, cascade_temperature: float = 1.0) -> WeightChoice:
    """Choose the ensemble weight that maximises the mean FF1 on a development set.

    Every weight of ``grid`` ensembles the two systems' dev records exactly as
    :func:`ensemble_records` does; the answer spans are scored with
    :func:`speechbert.metrics.sqa_scoring.score_question` against the dev questions' reference
    ``answer_time_spans`` (a question without an ensemble answer scores 0; one without an aligned
    reference is left out). The best mean wins; ties (equal to 1e-9 points) go to the weight
    closest to 0.5, then to the smaller weight.

    Args:
        e2e: ``{question id: record}`` of the end-to-end model on dev.
        cascade: the same of the cascade.
        questions: the dev set's questions (``questions.jsonl``).
        grid: the weights to try, each in [0, 1].

    Raises:
        ConfigError: on an empty grid, a weight outside [0, 1], or records of the two systems
            naming different contexts.
        DataError: when no dev question has an aligned reference time span.
    """
    if not grid:
        raise ConfigError("the weight grid is empty")
    for w in grid:
        _check_weight(w)
    supports = {qid: _supports(e2e.get(qid), cascade.get(qid), e2e_temperature, cascade_temperature)
                for qid in _question_ids(e2e, cascade)}
    results: list[tuple[float, float]] = []
    n_scored = 0
    for w in grid:
        answers: dict[str, tuple[float, float] | None] = {}
        for qid, sup in supports.items():
            if sup.ce or sup.cc:
                best, score = sup.ranked(w)[0]
                if math.isfinite(score):
                    answers[qid] = (best.start, best.end)
        ff1, n_scored = _mean_ff1(answers, questions)
        if ff1 is None:
            raise DataError("no development question has an aligned reference time span "
                            "(answer_time_spans): the weight cannot be chosen")
        results.append((float(w), ff1))
    best_w = min(results, key=lambda t: (-round(t[1], 9), round(abs(t[0] - 0.5), 9), t[0]))[0]
    return WeightChoice(best_w, results, n_scored)
