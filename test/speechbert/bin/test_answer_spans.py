"""speechbert.bin.answer_spans: questions.jsonl rewritten with word and time spans."""

from __future__ import annotations

import json

from speechbert.bin import answer_spans
from speechbert.io.kaldi_table import write_table


def _data(d):
    d.mkdir()
    write_table(d / "text", {"train-0000-0000-000": "the cat sat", "train-0000-0000-001": "on the red mat",
                             "train-0000-0001-000": "dogs bark"})
    write_table(d / "utt2dur", {"train-0000-0000-000": "1.5", "train-0000-0000-001": "2.0",
                                "train-0000-0001-000": "1.0"})
    write_table(d / "contexts", {"train-0000-0000": "train-0000-0000-000 train-0000-0000-001",
                                 "train-0000-0001": "train-0000-0001-000"})
    qs = [{"id": "q1", "context_id": "train-0000-0000", "question": "where did the cat sit",
           "answers": [{"text": "red mat", "char_start": 19}]},
          {"id": "q2", "context_id": "train-0000-0001", "question": "what do dogs do",
           "answers": [{"text": "bark", "char_start": 5}]}]
    (d / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in qs))
    return d


CTM = ("train-0000-0000-000 1 0.100 0.200 the 1.0\ntrain-0000-0000-000 1 0.300 0.400 cat 1.0\n"
       "train-0000-0000-000 1 0.800 0.400 sat 1.0\ntrain-0000-0000-001 1 0.200 0.200 on 1.0\n"
       "train-0000-0000-001 1 0.400 0.100 the 1.0\ntrain-0000-0000-001 1 0.500 0.300 red 1.0\n"
       "train-0000-0000-001 1 0.900 0.500 mat 1.0\n")


def test_spans_added_and_unaligned_answers_listed(tmp_path):
    d = _data(tmp_path / "data")
    ctm = tmp_path / "exp" / "word.ctm"
    ctm.parent.mkdir()
    ctm.write_text(CTM)
    assert answer_spans.main(["--data", str(d), "--ctm", str(ctm)]) == 0
    qs = [json.loads(line) for line in (d / "questions.jsonl").read_text().splitlines()]
    assert qs[0]["answer_word_spans"] == [[5, 6]] and qs[0]["answer_time_spans"] == [[2.0, 2.9]]
    assert qs[1]["answer_word_spans"] == [[1, 1]] and qs[1]["answer_time_spans"] == [None]
    assert (tmp_path / "exp" / "answer_spans.unaligned").read_text() == \
        "q2 0 utterance train-0000-0001-000 is not aligned\n"


def test_mismatched_ctm_leaves_questions_untouched(tmp_path, capsys):
    d = _data(tmp_path / "data")
    before = (d / "questions.jsonl").read_text()
    ctm = tmp_path / "word.ctm"
    ctm.write_text(CTM.replace(" mat ", " rug "))
    assert answer_spans.main(["--data", str(d), "--ctm", str(ctm)]) == 1
    assert "word 3 is 'rug', text has 'mat'" in capsys.readouterr().err
    assert (d / "questions.jsonl").read_text() == before
    ctm.write_text(CTM.replace("train-0000-0000-001", "train-0000-0009-001"))
    assert answer_spans.main(["--data", str(d), "--ctm", str(ctm)]) == 1
    assert "'train-0000-0009-001' is not in the data directory's text" in capsys.readouterr().err
    assert (d / "questions.jsonl").read_text() == before
