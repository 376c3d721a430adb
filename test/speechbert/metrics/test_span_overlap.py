"""FF1 / AOS of time spans and the pooled frame F1, hand-computed."""

from __future__ import annotations

import pytest

from speechbert.metrics.span_overlap import PooledFrameF1, best_span_scores, frame_counts, span_scores


def test_identical_spans() -> None:
    assert span_scores([1.0, 2.0], [1.0, 2.0]) == (1.0, 1.0)


def test_partial_overlap() -> None:
    # X = [0, 2], Y = [1, 4]: inter 1, P = 1/2, R = 1/3, F1 = 0.4, AOS = 1/4.
    ff1, aos = span_scores([0.0, 2.0], [1.0, 4.0])
    assert ff1 == pytest.approx(0.4)
    assert aos == pytest.approx(0.25)


def test_nested_spans() -> None:
    # X = [2, 3] inside Y = [1, 5]: P = 1, R = 1/4, F1 = 0.4, AOS = 1/4; symmetric when swapped.
    assert span_scores([2.0, 3.0], [1.0, 5.0]) == pytest.approx((0.4, 0.25))
    assert span_scores([1.0, 5.0], [2.0, 3.0]) == pytest.approx((0.4, 0.25))


@pytest.mark.parametrize("pred", [
    [1.0, 2.0],            # touches the reference's start: no overlap
    [5.0, 6.0],            # touches its end
    [6.0, 7.0],            # disjoint
    [3.0, 3.0],            # empty (start == end)
    [3.5, 3.0],            # reversed (start > end)
    None,                  # no prediction
    [None, 2.0],           # no time
    [float("nan"), 4.0],   # not a number
])
def test_disjoint_touching_empty_and_invalid_score_zero(pred) -> None:
    assert span_scores(pred, [2.0, 5.0]) == (0.0, 0.0)


def test_invalid_reference_scores_zero() -> None:
    assert span_scores([2.0, 5.0], [3.0, 3.0]) == (0.0, 0.0)


def test_several_references_take_the_best_each() -> None:
    refs = [[0.0, 1.0], [2.0, 3.0], [2.0, 6.0]]
    ff1, aos = best_span_scores([2.0, 4.0], refs)
    # vs [2,3]: F1 2/3, AOS 1/2; vs [2,6]: F1 2*2/(2+4) = 2/3, AOS 2/4 = 1/2.
    assert ff1 == pytest.approx(2 / 3)
    assert aos == pytest.approx(0.5)
    assert best_span_scores([2.0, 4.0], []) == (0.0, 0.0)
    # The maxima come from different references when they disagree.
    ff1, aos = best_span_scores([0.0, 4.0], [[0.0, 1.0], [1.0, 4.0]])
    assert ff1 == pytest.approx(2 * 3 / 7) and aos == pytest.approx(0.75)


def test_frame_counts_and_pooled_f1() -> None:
    # Best reference [1.0, 2.0] (100 frames); prediction [1.5, 2.5]: 50 overlap of 100 predicted.
    assert frame_counts([1.5, 2.5], [[5.0, 6.0], [1.0, 2.0]]) == (50, 100, 100)
    assert frame_counts(None, [[1.0, 1.2]]) == (0, 0, 20)
    assert frame_counts([1.0, 2.0], [None]) == (0, 0, 0)  # type: ignore[list-item]
    pooled = PooledFrameF1()
    pooled.add([1.5, 2.5], [[1.0, 2.0]])   # 50 / 100 / 100
    pooled.add(None, [[0.0, 3.0]])          # 0 / 0 / 300
    pooled.add([0.0, 1.0], [None])          # no usable reference: ignored  # type: ignore[list-item]
    assert (pooled.overlap, pooled.predicted, pooled.reference, pooled.questions) == (50, 100, 400, 2)
    # P = 0.5, R = 0.125, F1 = 0.2 (the per-question FF1 mean would be (0.5 + 0) / 2 = 0.25).
    assert pooled.f1 == pytest.approx(0.2)
    assert pooled.as_dict()["ff1_pooled"] == pytest.approx(20.0)
