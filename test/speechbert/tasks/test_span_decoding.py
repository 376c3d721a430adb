"""Sliding windows and best-span decoding on hand-made logits."""

import numpy as np
import pytest

from speechbert.errors import ConfigError
from speechbert.tasks.span_decoding import (ScoredSpan, best_spans, best_word_f1_em, make_windows, merge_spans,
                                            units_to_word_logits, window_spans_to_words, word_f1)

NEG = -1e9


@pytest.mark.parametrize("n,window,stride", [(1, 5, 2), (5, 5, 2), (6, 5, 2), (17, 5, 3), (100, 7, 7), (9, 4, 1)])
def test_windows_cover_every_unit_and_fit(n, window, stride):
    wins = make_windows(n, window, stride)
    covered = np.zeros(n, dtype=int)
    for s, e in wins:
        assert 0 <= s < e <= n and e - s <= window
        covered[s:e] += 1
    assert covered.min() >= 1
    starts = [s for s, _ in wins]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    if n > window:
        assert all(e - s == window for s, e in wins)  # last one shifted left to be full
        assert wins[-1][1] == n


def test_windows_exact_values_and_errors():
    assert make_windows(10, 4, 3) == [(0, 4), (3, 7), (6, 10)]
    assert make_windows(11, 4, 3) == [(0, 4), (3, 7), (6, 10), (7, 11)]
    assert make_windows(0, 4, 2) == []
    with pytest.raises(ConfigError):
        make_windows(10, 4, 5)
    with pytest.raises(ConfigError):
        make_windows(10, 0, 1)


def test_best_spans_by_hand():
    start = [0.0, 5.0, 1.0, 0.0, 3.0]
    end = [0.0, 0.0, 4.0, 6.0, 1.0]
    valid = [False, True, True, True, True]
    spans = best_spans(start, end, valid, max_answer_len=3, n_best=3)
    # (1,3): 5+6=11, (1,2): 5+4=9, (4,4): 3+1=4 vs (2,3): 1+6=7 -> third is (2,3)
    assert spans == [ScoredSpan(1, 3, 11.0), ScoredSpan(1, 2, 9.0), ScoredSpan(2, 3, 7.0)]
    # max length 2 forbids (1,3)
    assert best_spans(start, end, valid, 2, 1) == [ScoredSpan(1, 2, 9.0)]
    # position 0 is invalid even though it would score best with a big logit
    start[0] = 100.0
    assert best_spans(start, end, valid, 3, 1)[0] == ScoredSpan(1, 3, 11.0)


def test_best_spans_never_end_before_start_and_skip_minus_inf():
    start = [0.0, 0.0, 9.0]
    end = [9.0, 0.0, 0.0]
    spans = best_spans(start, end, [True] * 3, 3, 10)
    assert all(s.first <= s.last for s in spans)
    assert len(spans) == 6
    # ties (score 9) come in position order
    assert spans[:2] == [ScoredSpan(0, 0, 9.0), ScoredSpan(2, 2, 9.0)]
    spans = best_spans([-np.inf, 1.0], [2.0, -np.inf], [True, True], 2, 5)
    assert spans == []
    assert best_spans([1.0], [1.0], [False], 3, 2) == []


def test_merge_keeps_max_score_per_word_span():
    a = [ScoredSpan(3, 4, 2.0), ScoredSpan(5, 5, 1.0)]
    b = [ScoredSpan(3, 4, 7.0), ScoredSpan(0, 1, 3.0)]
    merged = merge_spans([a, b], n_best=5)
    assert merged == [ScoredSpan(3, 4, 7.0), ScoredSpan(0, 1, 3.0), ScoredSpan(5, 5, 1.0)]
    assert merge_spans([a, b], n_best=1) == [ScoredSpan(3, 4, 7.0)]


def test_window_spans_to_words():
    unit_words = [0, 0, 1, 2, 2, 2, 3]
    spans = window_spans_to_words([ScoredSpan(0, 2, 1.0)], unit_words, window_offset=2)
    assert spans == [ScoredSpan(1, 2, 1.0)]


def test_units_to_word_logits_first_and_last_piece():
    unit_words = [0, 1, 1, 1, 2, 3, 3]
    # window covers units 2..5: word 1 (pieces 2,3 of 1..3), word 2, word 3 (first piece only)
    start = [10.0, 11.0, 12.0, 13.0]
    end = [20.0, 21.0, 22.0, 23.0]
    lo, ws, we = units_to_word_logits(start, end, unit_words, window_start=2)
    assert lo == 1
    # word 1 starts at unit 1 (outside): no start; it ends at unit 3 (window pos 1)
    assert ws[0] == -np.inf and we[0] == 21.0
    # word 2 is unit 4 (window pos 2): both
    assert ws[1] == 12.0 and we[1] == 22.0
    # word 3 starts at unit 5 (pos 3) but ends at unit 6 (outside)
    assert ws[2] == 13.0 and we[2] == -np.inf
    spans = best_spans(ws, we, [True] * 3, 5, 5)
    assert {(s.first + lo, s.last + lo) for s in spans} == {(2, 2)}


def test_word_f1():
    assert word_f1((3, 5), (3, 5)) == 1.0
    assert word_f1((3, 5), (6, 8)) == 0.0
    assert word_f1((3, 6), (5, 8)) == pytest.approx(0.5)
    assert best_word_f1_em((2, 2), [[0, 1], [2, 3]]) == (pytest.approx(2 / 3), 0.0)
    assert best_word_f1_em((2, 3), [[0, 1], [2, 3]]) == (1.0, 1.0)
