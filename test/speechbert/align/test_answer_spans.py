"""Answer word spans and passage-time spans from a word CTM."""

import pytest

from speechbert.align.answer_spans import add_answer_spans
from speechbert.io.ctm import CtmEntry
from speechbert.io.sqa_data import SQASet


def _sqa(questions):
    text = {"c-000": "the cat sat", "c-001": "on the red mat"}
    return SQASet(data_dir=None, text=text, contexts={"c": ["c-000", "c-001"]}, questions=questions,
                  utt2dur={"c-000": 1.5, "c-001": 2.0})


def _ctm(utt, items):
    return [CtmEntry(utt, s, e - s, w, 1.0) for w, s, e in items]


CTM = {"c-000": _ctm("c-000", [("the", 0.1, 0.3), ("cat", 0.3, 0.7), ("sat", 0.8, 1.2)]),
       "c-001": _ctm("c-001", [("on", 0.2, 0.4), ("the", 0.4, 0.5), ("red", 0.5, 0.8), ("mat", 0.9, 1.4)])}


def test_spans_use_passage_time_across_utterances():
    # passage: "the cat sat on the red mat"; "sat on the" starts at char 8
    q = {"id": "q1", "context_id": "c", "question": "where",
         "answers": [{"text": "red mat", "char_start": 19}, {"text": "sat on the", "char_start": 8}]}
    res = add_answer_spans(_sqa([q]), CTM)
    out = res.questions[0]
    assert out["answer_word_spans"] == [[5, 6], [2, 4]]
    assert out["answer_time_spans"] == [[1.5 + 0.5, 1.5 + 1.4], [0.8, 1.5 + 0.5]]
    assert res.answers == 2 and res.unaligned == []
    assert out["answers"] == q["answers"] and "answer_time_spans" not in q  # input untouched


def test_answer_in_an_unaligned_utterance_gets_null_and_is_listed():
    q = {"id": "q2", "context_id": "c", "question": "what",
         "answers": [{"text": "cat", "char_start": 4}, {"text": "mat", "char_start": 23}]}
    res = add_answer_spans(_sqa([q]), {"c-000": CTM["c-000"]})
    assert res.questions[0]["answer_time_spans"] == [[0.3, 0.7], None]
    assert res.questions[0]["answer_word_spans"] == [[1, 1], [6, 6]]
    assert res.unaligned == [("q2", 1, "utterance c-001 is not aligned")]


def test_rounding_to_milliseconds():
    ctm = {"c-000": _ctm("c-000", [("the", 0.1, 0.3), ("cat", 0.30049, 0.70051), ("sat", 0.8, 1.2)]),
           "c-001": CTM["c-001"]}
    q = {"id": "q3", "context_id": "c", "question": "who", "answers": [{"text": "cat", "char_start": 4}]}
    assert add_answer_spans(_sqa([q]), ctm).questions[0]["answer_time_spans"] == [[pytest.approx(0.3), 0.701]]
