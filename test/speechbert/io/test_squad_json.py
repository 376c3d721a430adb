"""Tests for speechbert.io.squad_json."""

from __future__ import annotations

import json

import pytest

from speechbert.errors import DataError
from speechbert.io.squad_json import iter_paragraphs, load_squad, write_squad

DOC = {"version": "1.1", "data": [
    {"title": "A", "paragraphs": [{"context": "x y", "qas": []},
                                  {"context": "p q r", "qas": [{"id": "q1", "question": "?",
                                                                "answers": [{"text": "q", "answer_start": 2}]}]}]},
    {"title": "B", "paragraphs": [{"context": "z", "qas": [{"id": "q2", "question": "?",
                                                           "answers": [{"text": "z", "answer_start": 0}]}]}]}]}


def test_round_trip(tmp_path):
    p = tmp_path / "in.json"
    p.write_text(json.dumps(DOC))
    arts = load_squad(p)
    assert [par.key for par in iter_paragraphs(arts)] == ["0_0", "0_1", "1_0"]
    write_squad(tmp_path / "out.json", arts, speechbert={"k": 1})
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["speechbert"] == {"k": 1}
    assert out["data"][0]["paragraphs"][1]["qas"][0]["answers"] == [{"answer_start": 2, "text": "q"}]


@pytest.mark.parametrize("mutate, msg", [
    (lambda d: d["data"][1]["paragraphs"][0]["qas"][0].update(id="q1"), r"data\[1\].paragraphs\[0\].qas\[0\]: duplicate question id 'q1'"),
    (lambda d: d["data"][0]["paragraphs"][1]["qas"][0]["answers"][0].update(answer_start=-1), r"answers\[0\]"),
    (lambda d: d["data"][0]["paragraphs"][1]["qas"][0].update(answers=[]), "no answers"),
    (lambda d: d["data"][0]["paragraphs"][0].pop("context"), r"data\[0\].paragraphs\[0\]"),
    (lambda d: d.pop("data"), "'data' list"),
])
def test_invalid(tmp_path, mutate, msg):
    doc = json.loads(json.dumps(DOC))
    mutate(doc)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(DataError, match=msg):
        load_squad(p)


def test_unreadable(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_squad(tmp_path / "none.json")
    (tmp_path / "latin1.json").write_bytes('{"data": ["caf\xe9"]}'.encode("latin-1"))
    with pytest.raises(DataError, match="UTF-8"):
        load_squad(tmp_path / "latin1.json")
    (tmp_path / "trunc.json").write_text('{"data": [')
    with pytest.raises(DataError, match="invalid JSON"):
        load_squad(tmp_path / "trunc.json")
