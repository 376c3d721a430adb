"""First-sentence and random-span baselines: spans, passage times, determinism."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from speechbert.errors import ConfigError
from speechbert.io.ctm import CtmEntry
from speechbert.io.sqa_data import load_sqa_set
from speechbert.metrics.baselines import baseline_predictions, training_answer_lengths


def _ctm(toy: SimpleNamespace) -> dict[str, list[CtmEntry]]:
    """Word k of passage A at passage time [0.5k, 0.5k + 0.4]; utterance 001 starts at 3.0 s."""
    ctm = {}
    for utt, text in toy.TEXT.items():
        first = 6 if utt == f"{toy.CTX_A}-001" else 0
        offset = 3.0 if utt == f"{toy.CTX_A}-001" else 0.0
        ctm[utt] = [CtmEntry(utt, 0.5 * (first + i) - offset, 0.4, w, 1.0) for i, w in enumerate(text.split())]
    return ctm


def test_first_sentence(toy: SimpleNamespace, data_dir: Path) -> None:
    sqa = load_sqa_set(data_dir)
    preds, estimated = baseline_predictions(sqa, _ctm(toy), "first_sentence")
    assert not estimated
    assert [p["id"] for p in preds] == [q["id"] for q in sqa.questions]
    a = preds[0]
    assert a["word_span"] == [0, 5] and a["words"] == "the cat sat on the mat"
    assert (a["start"], a["end"]) == (0.0, 2.9)
    assert a["nbest"] == [{"word_span": [0, 5], "start": 0.0, "end": 2.9, "score": 0.0}]
    b = preds[-1]
    assert b["context_id"] == toy.CTX_B and b["word_span"] == [0, 5] and b["end"] == pytest.approx(2.9)


def test_random_span_is_seeded_and_inside_the_passage(toy: SimpleNamespace, data_dir: Path) -> None:
    sqa = load_sqa_set(data_dir)
    ctm = _ctm(toy)
    one, _ = baseline_predictions(sqa, ctm, "random_span", seed=3)
    two, _ = baseline_predictions(sqa, ctm, "random_span", seed=3)
    other, _ = baseline_predictions(sqa, ctm, "random_span", seed=4)
    assert one == two and one != other
    for p in one:
        first, last = p["word_span"]
        n = 13 if p["context_id"] == toy.CTX_A else 6
        assert 0 <= first <= last < n and 1 <= last - first + 1 <= 5
        if p["context_id"] == toy.CTX_A:
            assert (p["start"], p["end"]) == (0.5 * first, round(0.5 * last + 0.4, 3))
    fixed, _ = baseline_predictions(sqa, ctm, "random_span", lengths=[2])
    assert all(p["word_span"][1] - p["word_span"][0] == 1 for p in fixed)


def test_unaligned_utterance_times_are_spread(toy: SimpleNamespace, data_dir: Path) -> None:
    sqa = load_sqa_set(data_dir)
    ctm = _ctm(toy)
    del ctm[f"{toy.CTX_A}-000"]
    preds, estimated = baseline_predictions(sqa, ctm, "first_sentence")
    assert estimated == {f"{toy.CTX_A}-000"}
    # 6 words over the 3.0 s utterance: 0.5 s each.
    assert (preds[0]["start"], preds[0]["end"]) == (0.0, 3.0)


def test_training_lengths_and_bad_kind(toy: SimpleNamespace, data_dir: Path) -> None:
    qs = toy.make_questions()
    assert training_answer_lengths(qs)[:3] == [1, 3, 4]
    no_spans = [{k: v for k, v in q.items() if k != "answer_word_spans"} for q in qs]
    assert training_answer_lengths(no_spans) == training_answer_lengths(qs)
    with pytest.raises(ConfigError):
        baseline_predictions(load_sqa_set(data_dir), {}, "oracle")
