"""Answer-span decoding: sliding windows over a passage and the best start/end spans.

Pure functions shared by SQA fine-tuning (validation) and the decoding stage.

Vocabulary:
- a *unit* is one passage position as the model sees it: an audio word (one unit per passage
  word) or a WordPiece token (one or more units per passage word);
- a *window* is a contiguous run of units ``[start, end)`` that fits into one model input;
- a *span* is an inclusive ``(first, last)`` pair, over window positions or passage words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from speechbert.errors import ConfigError


@dataclass(frozen=True)
class ScoredSpan:
    """An inclusive span ``[first, last]`` with its score (start logit + end logit)."""

    first: int
    last: int
    score: float


def make_windows(num_units: int, window: int, stride: int) -> list[tuple[int, int]]:
    """Cut ``num_units`` passage units into windows ``[start, end)`` of at most ``window`` units.

    Consecutive windows start ``stride`` units apart (``stride <= window``, so they overlap by
    ``window - stride``); the last window is shifted left to end at the passage end so it is
    as full as possible. Every unit is in at least one window. A passage of no units gives no
    windows.
    """
    if window <= 0:
        raise ConfigError(f"window length must be positive, got {window}")
    if stride <= 0 or stride > window:
        raise ConfigError(f"window stride must be in 1..window ({window}), got {stride}")
    if num_units <= 0:
        return []
    if num_units <= window:
        return [(0, num_units)]
    windows = []
    start = 0
    while True:
        if start + window >= num_units:
            windows.append((num_units - window, num_units))
            break
        windows.append((start, start + window))
        start += stride
    return windows


def best_spans(start_logits: Sequence[float] | np.ndarray, end_logits: Sequence[float] | np.ndarray,
               valid_mask: Sequence[bool] | np.ndarray, max_answer_len: int,
               n_best: int) -> list[ScoredSpan]:
    """Return the ``n_best`` highest-scoring spans of one window, best first.

    A span ``(i, j)`` is allowed when ``i <= j``, ``j - i + 1 <= max_answer_len``, both
    ``i`` and ``j`` are valid (passage) positions and its score ``start[i] + end[j]`` is finite
    (a ``-inf`` logit forbids a position as start or end). Ties are
    broken by position (earlier, then shorter, first) so the result is deterministic.
    """
    start = np.asarray(start_logits, dtype=np.float64).reshape(-1)
    end = np.asarray(end_logits, dtype=np.float64).reshape(-1)
    valid = np.asarray(valid_mask, dtype=bool).reshape(-1)
    if not (len(start) == len(end) == len(valid)):
        raise ValueError(f"start ({len(start)}), end ({len(end)}) and mask ({len(valid)}) lengths differ")
    if max_answer_len <= 0 or n_best <= 0:
        raise ConfigError(f"max_answer_len and n_best must be positive, got {max_answer_len}, {n_best}")
    n = len(start)
    if n == 0 or not valid.any():
        return []
    # score[i, j] for the allowed (i, j) band; everything else is -inf.
    scores = start[:, None] + end[None, :]
    i_idx = np.arange(n)[:, None]
    j_idx = np.arange(n)[None, :]
    allowed = (j_idx >= i_idx) & (j_idx - i_idx < max_answer_len) & valid[:, None] & valid[None, :]
    # A -inf logit marks a position that cannot start (or end) a span.
    allowed &= np.isfinite(scores)
    scores = np.where(allowed, scores, -np.inf)
    flat = scores.reshape(-1)
    k = min(n_best, int(allowed.sum()))
    # Stable sort on -score keeps the row-major (earlier start, then shorter) order among ties.
    order = np.argsort(-flat, kind="stable")[:k]
    return [ScoredSpan(int(o // n), int(o % n), float(flat[o])) for o in order]


def window_spans_to_words(spans: Iterable[ScoredSpan], unit_words: Sequence[int],
                          window_offset: int) -> list[ScoredSpan]:
    """Map spans over window positions to passage word spans.

    ``unit_words[u]`` is the passage word index of passage unit ``u``; window position ``p``
    (counted from the first passage unit of the window) is passage unit ``window_offset + p``.
    """
    out = []
    for s in spans:
        first = unit_words[window_offset + s.first]
        last = unit_words[window_offset + s.last]
        out.append(ScoredSpan(int(first), int(last), s.score))
    return out


def merge_spans(span_lists: Iterable[Iterable[ScoredSpan]], n_best: int) -> list[ScoredSpan]:
    """Merge the word spans found in several windows of one passage.

    A word span found in several windows keeps its maximum score; the ``n_best`` best spans
    are returned best first (ties: earlier, then shorter span first).
    """
    best: dict[tuple[int, int], float] = {}
    for spans in span_lists:
        for s in spans:
            key = (s.first, s.last)
            if key not in best or s.score > best[key]:
                best[key] = s.score
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1]))
    return [ScoredSpan(f, l, sc) for (f, l), sc in ranked[:n_best]]


def word_f1(pred: tuple[int, int], ref: tuple[int, int]) -> float:
    """Overlap F1 between two inclusive word spans (the passage-word analogue of SQuAD F1)."""
    overlap = min(pred[1], ref[1]) - max(pred[0], ref[0]) + 1
    if overlap <= 0 or pred[1] < pred[0]:
        return 0.0
    precision = overlap / (pred[1] - pred[0] + 1)
    recall = overlap / (ref[1] - ref[0] + 1)
    return 2 * precision * recall / (precision + recall)


def best_word_f1_em(pred: tuple[int, int], refs: Sequence[Sequence[int]]) -> tuple[float, float]:
    """Best F1 and exact match of ``pred`` over several reference word spans (0, 0 if none)."""
    f1 = 0.0
    em = 0.0
    for ref in refs:
        if ref is None:
            continue
        r = (int(ref[0]), int(ref[1]))
        f1 = max(f1, word_f1(pred, r))
        em = max(em, float(tuple(pred) == r))
    return f1, em


def units_to_word_logits(start_logits: Sequence[float] | np.ndarray, end_logits: Sequence[float] | np.ndarray,
                         unit_words: Sequence[int] | np.ndarray, window_start: int,
                         ) -> tuple[int, np.ndarray, np.ndarray]:
    """Word-level start/end logits of one window whose units are WordPieces.

    ``start_logits``/``end_logits`` cover the window's units (passage units ``window_start`` ...);
    ``unit_words`` maps every passage unit to its word. A word may start where its FIRST piece
    is in the window (its logit there) and end where its LAST piece is (its logit there);
    elsewhere the word's logit is ``-inf``. Returns ``(first_word, word_start, word_end)`` over
    the words ``first_word ...`` touched by the window.
    """
    start = np.asarray(start_logits, dtype=np.float64).reshape(-1)
    end = np.asarray(end_logits, dtype=np.float64).reshape(-1)
    words = np.asarray(unit_words, dtype=np.int64)
    n = len(start)
    if n == 0:
        return 0, np.zeros(0), np.zeros(0)
    lo, hi = int(words[window_start]), int(words[window_start + n - 1])
    w_start = np.full(hi - lo + 1, -np.inf)
    w_end = np.full(hi - lo + 1, -np.inf)
    for p in range(n):
        u = window_start + p
        w = int(words[u])
        if u == 0 or words[u - 1] != w:
            w_start[w - lo] = start[p]
        if u == len(words) - 1 or words[u + 1] != w:
            w_end[w - lo] = end[p]
    return lo, w_start, w_end
