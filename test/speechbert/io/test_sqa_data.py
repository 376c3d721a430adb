"""Tests for speechbert.io.sqa_data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speechbert.errors import DataError
from speechbert.io.sqa_data import (char_span_to_word_span, load_sqa_set, passage_text, passage_word_utts,
                                    passage_words, read_contexts, read_questions, write_contexts,
                                    write_questions)

TEXT = {"train-0000-0000-000": "the cat sat", "train-0000-0000-001": "on the red mat"}
CTX = {"train-0000-0000": ["train-0000-0000-000", "train-0000-0000-001"]}


def _question(**over):
    q = {"id": "q1", "context_id": "train-0000-0000", "question": "where did the cat sit",
         "answers": [{"text": "the red mat", "char_start": 15}]}
    q.update(over)
    return q


def _write_set(d: Path, questions=None, dur=True):
    d.mkdir(parents=True, exist_ok=True)
    (d / "text").write_text("".join(f"{k} {v}\n" for k, v in TEXT.items()))
    write_contexts(d / "contexts", CTX)
    if dur:
        (d / "utt2dur").write_text("train-0000-0000-000 1.5\ntrain-0000-0000-001 2.25\n")
    write_questions(d / "questions.jsonl", questions or [_question()])


def test_passage_text_and_words():
    utts = CTX["train-0000-0000"]
    assert passage_text(utts, TEXT) == "the cat sat on the red mat"
    assert passage_words(utts, TEXT)[4] == "the"
    assert passage_word_utts(utts, TEXT)[3] == ("train-0000-0000-001", 0)


def test_char_span_to_word_span():
    p = "the cat sat on the red mat"
    assert char_span_to_word_span(p, 15, 11) == (4, 6)
    assert char_span_to_word_span(p, 0, 3) == (0, 0)
    assert char_span_to_word_span(p, 5, 4) == (1, 2)  # partial words are covered whole
    with pytest.raises(ValueError):
        char_span_to_word_span(p, 3, 2)
    with pytest.raises(ValueError):
        char_span_to_word_span(p, 20, 30)


def test_round_trip_and_load(tmp_path):
    d = tmp_path / "data"
    extra = _question(id="q2", answers=[{"text": "cat", "char_start": 4}, {"text": "the cat", "char_start": 0}],
                      answer_word_spans=[[1, 1], [0, 1]], answer_time_spans=[[0.2, 0.5], None])
    _write_set(d, [_question(), extra])
    first = (d / "questions.jsonl").read_text().splitlines()[1]
    assert list(json.loads(first)) == ["id", "context_id", "question", "answers", "answer_word_spans",
                                       "answer_time_spans"]
    s = load_sqa_set(d)
    assert [q["id"] for q in s.questions] == ["q1", "q2"]
    assert s.utt_offsets("train-0000-0000") == [0.0, 1.5]
    assert s.passage_words("train-0000-0000")[-1] == "mat"
    assert read_contexts(d / "contexts") == CTX


@pytest.mark.parametrize("line, msg", [
    (b'{"id": "q1"\n', "invalid JSON"),
    (b'\xff\xfe\n', "UTF-8"),
    (json.dumps(_question(answers=[])).encode() + b"\n", "answers"),
    (json.dumps(_question(answer_word_spans=[[3, 1]])).encode() + b"\n", "answer_word_spans"),
    (json.dumps(_question()).encode() + b"\n" + json.dumps(_question()).encode() + b"\n", "duplicate"),
])
def test_bad_questions_name_file_and_line(tmp_path, line, msg):
    p = tmp_path / "questions.jsonl"
    p.write_bytes(line)
    with pytest.raises(DataError, match=msg) as e:
        read_questions(p)
    assert e.value.line in (1, 2) and e.value.path == str(p)


def test_write_questions_is_atomic(tmp_path):
    p = tmp_path / "questions.jsonl"
    write_questions(p, [_question()])
    before = p.read_text()
    with pytest.raises(DataError, match="duplicate"):
        write_questions(p, [_question(id="zz"), _question(id="zz")])
    assert p.read_text() == before
    assert [f.name for f in tmp_path.iterdir()] == ["questions.jsonl"]


def test_load_rejects_inconsistent_sets(tmp_path):
    d = tmp_path / "a"
    _write_set(d, [_question(answers=[{"text": "blue mat", "char_start": 15}])])
    with pytest.raises(DataError, match="not at char_start"):
        load_sqa_set(d)
    d = tmp_path / "b"
    _write_set(d, [_question(context_id="train-0000-0009")])
    with pytest.raises(DataError, match="unknown context"):
        load_sqa_set(d)
    d = tmp_path / "c"
    _write_set(d)
    (d / "contexts").write_text("train-0000-0000 train-0000-0000-000 train-0000-0000-007\n")
    with pytest.raises(DataError, match="train-0000-0000-007") as e:
        load_sqa_set(d)
    assert e.value.line == 1
    d = tmp_path / "e"
    _write_set(d)
    (d / "contexts").write_text("train-0000-0000 train-0000-0000-000 train-0000-0000-000\n")
    with pytest.raises(DataError, match="listed twice"):
        read_contexts(d / "contexts")
    d = tmp_path / "f"
    _write_set(d, dur=False)
    with pytest.raises(DataError, match="no such file"):
        load_sqa_set(d)
    assert load_sqa_set(d, require_utt2dur=False).utt2dur == {}


def test_read_utt2dur_values_and_errors(tmp_path):
    from speechbert.errors import DataError
    from speechbert.io.sqa_data import read_utt2dur

    assert read_utt2dur(tmp_path, required=False) is None
    with pytest.raises(DataError, match="no such file"):
        read_utt2dur(tmp_path)
    (tmp_path / "utt2dur").write_text("a-1 1.25\na-2 0.5\n")
    assert read_utt2dur(tmp_path) == {"a-1": 1.25, "a-2": 0.5}
    for bad, words in (("a-1 x\n", "not a number"), ("a-1 0\n", "must be positive"), ("a-1 inf\n", "must be positive")):
        (tmp_path / "utt2dur").write_text(bad)
        with pytest.raises(DataError, match=words) as e:
            read_utt2dur(tmp_path)
        assert "utt2dur:1" in str(e.value)
