"""score_sqa end to end on a tiny data directory: outputs, defaults and error handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speechbert.bin import score_sqa

CID = "test-0000-0000"
TEXT = {f"{CID}-000": "water boils at one hundred degrees", f"{CID}-001": "ice melts at zero"}
ASR = {f"{CID}-000": "water boils at one hundred degrees", f"{CID}-001": "ice belts at zero"}
# Passage words: water0 boils1 at2 one3 hundred4 degrees5 ice6 melts7 at8 zero9; word k at [k, k + 0.8].
QUESTIONS = [
    {"id": "qa", "answers": [{"text": "one hundred degrees", "char_start": 15}], "span": [3, 5]},
    {"id": "qb", "answers": [{"text": "melts", "char_start": 39}], "span": [7, 7]},
    {"id": "qc", "answers": [{"text": "zero", "char_start": 48}], "span": [9, 9]},
]


def make_data(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "text").write_text("".join(f"{k} {v}\n" for k, v in TEXT.items()), encoding="utf-8")
    (root / "text.asr").write_text("".join(f"{k} {v}\n" for k, v in ASR.items()), encoding="utf-8")
    (root / "contexts").write_text(f"{CID} {CID}-000 {CID}-001\n", encoding="utf-8")
    lines = []
    for q in QUESTIONS:
        f, last = q["span"]
        lines.append(json.dumps({"id": q["id"], "context_id": CID, "question": "what", "answers": q["answers"],
                                 "answer_word_spans": [[f, last]], "answer_time_spans": [[f, last + 0.8]]}) + "\n")
    (root / "questions.jsonl").write_text("".join(lines), encoding="utf-8")
    return root


def write_preds(path: Path, preds: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(p) + "\n" for p in preds), encoding="utf-8")
    return path


def test_score_sqa_writes_result_json_and_md(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = make_data(tmp_path / "data" / "test")
    dec = tmp_path / "exp" / "speechbert_ft" / "decode_test"
    pred = write_preds(dec / "predictions.jsonl", [
        {"id": "qa", "context_id": CID, "word_span": [3, 5], "words": "one hundred degrees", "start": 3.0,
         "end": 5.8, "score": 1.0, "nbest": []},
        {"id": "qb", "context_id": CID, "word_span": [7, 8], "words": "melts at", "start": 7.0, "end": 8.8,
         "score": 0.5, "nbest": []},
    ])
    ppw = tmp_path / "passage_wer"
    rc = score_sqa.main(["--data", str(data), "--predictions", str(pred), "--out_dir", str(dec),
                         "--per_passage_wer", str(ppw)])
    assert rc == 0
    assert ppw.read_text(encoding="utf-8") == f"{CID} 10.00 1 10\n"
    res = json.loads((dec / "result.json").read_text(encoding="utf-8"))
    assert res["system_name"] == "speechbert_ft" and res["data_set"] == "test"
    # qa: 1; qb: inter 0.8, |X| 1.8, |Y| 0.8 -> FF1 1.6/2.6, AOS 0.8/1.8; qc missing: 0.
    assert res["overall"]["ff1"] == pytest.approx(100 * (1 + 1.6 / 2.6) / 3)
    assert res["overall"]["aos"] == pytest.approx(100 * (1 + 0.8 / 1.8) / 3)
    assert res["overall"]["em"] == pytest.approx(100 / 3)
    assert res["counts"]["missing_predictions"] == 1
    # "melts" was recognised as "belts": qb is in the ASR-error split; WER 1/10.
    assert res["by_asr_error"]["with_asr_error"]["questions"] == 1
    assert res["by_asr_error"]["with_asr_error"]["ff1"] == pytest.approx(100 * 1.6 / 2.6)
    assert res["wer"]["wer"] == pytest.approx(10.0)
    md = (dec / "result.md").read_text(encoding="utf-8")
    assert "| overall |" in md and "ASR error in answer" in md
    assert "| overall |" in capsys.readouterr().out


def test_options_system_name_and_no_asr(tmp_path: Path) -> None:
    data = make_data(tmp_path / "data" / "dev")
    pred = write_preds(tmp_path / "p.jsonl", [{"id": "qa", "start": 3.0, "end": 5.8}])
    out = tmp_path / "out"
    per_q = tmp_path / "scores.jsonl"
    rc = score_sqa.main(["--data", str(data), "--predictions", str(pred), "--out_dir", str(out),
                         "--system_name", "cascade", "--asr_text", "none", "--per-question", str(per_q)])
    assert rc == 0
    res = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert res["system_name"] == "cascade" and res["data_set"] == "dev"
    assert res["wer"] is None and res["by_asr_error"] is None
    assert res["overall"]["em"] is None  # no words in any prediction
    assert [json.loads(x)["id"] for x in per_q.read_text().splitlines()] == ["qa", "qb", "qc"]


@pytest.mark.parametrize("line,expect", [
    ('{"id": "qzz", "start": 1, "end": 2}', "p.jsonl:2"),
    ('{"id": "qb", "start": 1, "end": 2', "p.jsonl:2: invalid JSON"),
    ('{"id": "qb", "start": 4, "end": 2}', "p.jsonl:2 (qb): start 4.0 is after end 2.0"),
    ('{"id": "qb", "start": -1, "end": 2}', "p.jsonl:2 (qb): negative start time -1.0"),
    ('{"id": "qb", "start": 1, "end": null}', "must both be numbers or both null"),
    ('{"id": "qb", "start": 1, "end": 2, "word_span": [5, 3]}', "'word_span' [5, 3] must have 0 <= first <= last"),
])
def test_bad_predictions_fail_without_output(tmp_path: Path, capsys: pytest.CaptureFixture,
                                             line: str, expect: str) -> None:
    data = make_data(tmp_path / "data" / "test")
    pred = tmp_path / "p.jsonl"
    pred.write_text('{"id": "qa", "start": 3, "end": 5}\n' + line + "\n", encoding="utf-8")
    out = tmp_path / "out"
    rc = score_sqa.main(["--data", str(data), "--predictions", str(pred), "--out_dir", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and expect in err
    if "qzz" in line:
        assert "qzz" in err
    assert not (out / "result.json").exists() and not (out / "result.md").exists()


def test_missing_asr_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = make_data(tmp_path / "data" / "test")
    pred = write_preds(tmp_path / "p.jsonl", [])
    rc = score_sqa.main(["--data", str(data), "--predictions", str(pred), "--out_dir", str(tmp_path / "o"),
                         "--asr_text", str(tmp_path / "nope")])
    assert rc == 1 and "nope" in capsys.readouterr().err


def _two_preds(dec: Path) -> Path:
    return write_preds(dec / "predictions.jsonl", [
        {"id": "qa", "context_id": CID, "words": "one hundred degrees", "start": 3.0, "end": 5.8},
        {"id": "qb", "context_id": CID, "words": "melts at", "start": 7.0, "end": 8.8},
    ])


def test_scores_jsonl_intervals_and_seed(tmp_path: Path) -> None:
    data = make_data(tmp_path / "data" / "test")
    dec = tmp_path / "exp" / "finetune_seed2" / "decode_test"
    pred = _two_preds(dec)
    argv = ["--data", str(data), "--predictions", str(pred), "--out_dir", str(dec), "--seed", "2",
            "--bootstrap_samples", "300", "--bootstrap_seed", "5"]
    assert score_sqa.main(argv) == 0
    res = json.loads((dec / "result.json").read_text(encoding="utf-8"))
    assert res["seed"] == 2
    assert res["bootstrap"]["samples"] == 300 and res["bootstrap"]["seed"] == 5
    for group in (res["overall"], res["by_asr_error"]["no_asr_error"], res["by_asr_error"]["with_asr_error"],
                  *res["by_passage_wer"]):
        for m in ("ff1", "aos", "em", "f1"):
            assert f"{m}_ci" in group and f"{m}_ci_half" in group
    o = res["overall"]
    # FF1 per question: 100, 61.5, 0 -> the resampled means lie in [0, 100] around 53.8.
    assert 0.0 <= o["ff1_ci"][0] < o["ff1"] < o["ff1_ci"][1] <= 100.0
    # qb alone is the ASR-error split: one question, a zero-width interval.
    assert res["by_asr_error"]["with_asr_error"]["ff1_ci"] == [pytest.approx(100 * 1.6 / 2.6)] * 2
    md = (dec / "result.md").read_text(encoding="utf-8")
    assert f"| overall | {o['ff1']:.2f} ± {o['ff1_ci_half']:.2f} |" in md and "training seed: 2" in md
    lines = [json.loads(x) for x in (dec / "scores.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["qa", "qb", "qc"]
    qa, qb, qc = lines
    assert (qa["ff1"], qa["em"], qa["asr_error"], qa["wer_bucket"]) == (100.0, 100.0, False, "(0,10]")
    assert qb["ff1"] == pytest.approx(100 * 1.6 / 2.6) and qb["asr_error"] is True
    assert (qc["ff1"], qc["has_prediction"]) == (0.0, False)
    # The same seed gives the same bytes; no --seed records null.
    first = (dec / "result.json").read_bytes()
    assert score_sqa.main(argv) == 0 and (dec / "result.json").read_bytes() == first
    assert score_sqa.main(argv[:6] + ["--bootstrap_samples", "0"]) == 0
    res = json.loads((dec / "result.json").read_text(encoding="utf-8"))
    assert res["seed"] is None and res["bootstrap"] is None and res["overall"]["ff1_ci"] is None


def test_existing_result_keys_are_kept(tmp_path: Path) -> None:
    data = make_data(tmp_path / "data" / "test")
    dec = tmp_path / "exp" / "x" / "decode_test"
    assert score_sqa.main(["--data", str(data), "--predictions", str(_two_preds(dec)), "--out_dir", str(dec)]) == 0
    res = json.loads((dec / "result.json").read_text(encoding="utf-8"))
    assert {"system_name", "data", "data_set", "predictions", "asr_text", "overall", "counts", "text_scored",
            "frame_shift", "error_rule", "ff1_pooled", "wer", "by_asr_error", "wer_edges",
            "by_passage_wer"} <= set(res)
    assert {"questions", "scored_time", "scored_text", "missing_predictions", "ff1", "aos", "em", "f1",
            "ff1_pooled"} <= set(res["overall"])
    assert res["bootstrap"]["samples"] == 1000  # the default
    assert score_sqa.main(["--data", str(data), "--predictions", str(dec / "predictions.jsonl"),
                           "--out_dir", str(dec), "--bootstrap_samples", "-2"]) == 1


def test_times_past_the_end_of_the_passage_are_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = make_data(tmp_path / "data" / "test")
    (data / "utt2dur").write_text(f"{CID}-000 6.0\n{CID}-001 4.0\n", encoding="utf-8")
    pred = tmp_path / "p.jsonl"
    pred.write_text('{"id": "qa", "start": 3, "end": 10.04}\n{"id": "qb", "start": 9, "end": 60}\n', encoding="utf-8")
    out = tmp_path / "out"
    assert score_sqa.main(["--data", str(data), "--predictions", str(pred), "--out_dir", str(out)]) == 1
    err = capsys.readouterr().err
    assert "p.jsonl:2: question 'qb': end time 60.0 s is past the end of its passage (10.000 s)" in err
    assert not (out / "result.json").exists()
