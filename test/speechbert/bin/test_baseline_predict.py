"""baseline_predict end to end: CTM + data dir -> predictions.jsonl that score_sqa accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speechbert.bin import baseline_predict, score_sqa

CID = "test-0000-0000"
TEXT = {f"{CID}-000": "water boils at one hundred degrees", f"{CID}-001": "ice melts at zero"}


def make_data(root: Path) -> tuple[Path, Path]:
    """Two utterances (3.0 s and 2.0 s); word i of an utterance at [0.5 i, 0.5 i + 0.4]."""
    root.mkdir(parents=True)
    (root / "text").write_text("".join(f"{k} {v}\n" for k, v in TEXT.items()), encoding="utf-8")
    (root / "utt2dur").write_text(f"{CID}-000 3.0\n{CID}-001 2.0\n", encoding="utf-8")
    (root / "contexts").write_text(f"{CID} {CID}-000 {CID}-001\n", encoding="utf-8")
    q = {"id": "qa", "context_id": CID, "question": "what", "answers": [{"text": "melts", "char_start": 39}],
         "answer_word_spans": [[7, 7]], "answer_time_spans": [[3.5, 3.9]]}
    q2 = {**q, "id": "qb", "answers": [{"text": "water boils", "char_start": 0}],
          "answer_word_spans": [[0, 1]], "answer_time_spans": [[0.0, 0.9]]}
    (root / "questions.jsonl").write_text(json.dumps(q) + "\n" + json.dumps(q2) + "\n", encoding="utf-8")
    ctm = root.parent / "word.ctm"
    ctm.write_text("".join(f"{u} 1 {0.5 * i:.3f} 0.400 {w} 1.00\n"
                           for u, t in TEXT.items() for i, w in enumerate(t.split())), encoding="utf-8")
    return root, ctm


def test_first_sentence_end_to_end(tmp_path: Path) -> None:
    data, ctm = make_data(tmp_path / "data" / "test")
    out = tmp_path / "exp" / "first_sentence" / "decode_test" / "predictions.jsonl"
    assert baseline_predict.main(["--data", str(data), "--ctm", str(ctm), "--kind", "first_sentence",
                                  "--out", str(out)]) == 0
    preds = [json.loads(x) for x in out.read_text().splitlines()]
    assert [p["id"] for p in preds] == ["qa", "qb"]
    assert preds[0]["word_span"] == [0, 5] and (preds[0]["start"], preds[0]["end"]) == (0.0, 2.9)
    assert score_sqa.main(["--data", str(data), "--predictions", str(out), "--out_dir", str(out.parent)]) == 0
    res = json.loads((out.parent / "result.json").read_text())
    # qa: disjoint -> 0; qb: X [0, 2.9], Y [0, 0.9] -> FF1 1.8/3.8, AOS 0.9/2.9.
    assert res["overall"]["ff1"] == pytest.approx(100 * (1.8 / 3.8) / 2)
    assert res["overall"]["aos"] == pytest.approx(100 * (0.9 / 2.9) / 2)
    assert res["system_name"] == "first_sentence"


def test_random_span_uses_training_lengths_and_seed(tmp_path: Path) -> None:
    data, ctm = make_data(tmp_path / "data" / "test")
    outs = []
    for seed in (5, 5):
        out = tmp_path / f"p{len(outs)}.jsonl"
        assert baseline_predict.main(["--data", str(data), "--ctm", str(ctm), "--kind", "random_span",
                                      "--train_data", str(data), "--seed", str(seed), "--out", str(out)]) == 0
        outs.append(out.read_text())
    assert outs[0] == outs[1]
    for p in map(json.loads, outs[0].splitlines()):
        first, last = p["word_span"]
        assert last - first + 1 in (1, 2)  # training answer lengths of this data: 1 and 2
        utt_start = 0.0 if first < 6 else 3.0
        assert p["start"] == pytest.approx(utt_start + 0.5 * (first - (0 if first < 6 else 6)))


def test_ctm_that_does_not_match_text_fails(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data, ctm = make_data(tmp_path / "data" / "test")
    ctm.write_text(ctm.read_text().replace(" melts ", " belts "), encoding="utf-8")
    out = tmp_path / "p.jsonl"
    assert baseline_predict.main(["--data", str(data), "--ctm", str(ctm), "--kind", "first_sentence",
                                  "--out", str(out)]) == 1
    assert "word.ctm" in capsys.readouterr().err and not out.exists()
