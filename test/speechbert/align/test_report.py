"""Alignment accuracy numbers against a reference CTM."""

import pytest

from speechbert.align.report import compare_ctms
from speechbert.io.ctm import CtmEntry


def _ctm(utt, items):
    return [CtmEntry(utt, s, e - s, w, 1.0) for w, s, e in items]


REF = {"a": _ctm("a", [("one", 0.10, 0.30), ("two", 0.30, 0.60), ("three", 0.70, 1.00)]),
       "b": _ctm("b", [("four", 0.0, 0.5)])}


def test_errors_percentages_and_missing_utterances():
    hyp = {"a": _ctm("a", [("one", 0.105, 0.33), ("two", 0.32, 0.60), ("three", 0.64, 1.10)])}
    rep = compare_ctms(hyp, REF)
    assert rep.starts.n == 3 and rep.ends.n == 3
    assert rep.starts.mean_ms == pytest.approx((5 + 20 + 60) / 3)
    assert rep.starts.median_ms == pytest.approx(20)
    assert rep.starts.within(10) == pytest.approx(100 / 3)
    assert rep.starts.within(20) == pytest.approx(200 / 3)
    assert rep.starts.within(50) == pytest.approx(200 / 3)
    assert rep.ends.within(50) == pytest.approx(200 / 3)     # 30, 0, 100 ms
    assert (rep.ref_words, rep.missing_words, rep.ref_utts, rep.missing_utts) == (4, 1, 2, 1)
    md = rep.to_markdown()
    assert "| word start | 3 | 28.3 | 20.0 | 33.3 | 66.7 | 66.7 |" in md
    assert "missing from the CTM: 1 (25.0%)" in md


def test_asr_ctm_is_scored_on_the_correctly_recognized_words_only():
    hyp = {"a": _ctm("a", [("one", 0.10, 0.30), ("too", 0.30, 0.60), ("three", 0.71, 1.0)]),
           "b": _ctm("b", [("for", 0.0, 0.5)])}
    rep = compare_ctms(hyp, REF)
    assert rep.starts.n == 2 and rep.missing_words == 2
    assert rep.starts.errors == pytest.approx([0.0, 0.01])


def test_unscored_reference_words_are_left_out():
    rep = compare_ctms(REF, REF, unscored={"a": {1}})
    assert rep.starts.n == 3 and rep.ref_words == 3 and rep.missing_words == 0
