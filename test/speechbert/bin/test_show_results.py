"""show_results: RESULTS.md from scored decode directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speechbert.bin import show_results


def _put(exp: Path, rel: str, name: str, ff1: float) -> None:
    group = {"questions": 4, "scored_time": 4, "scored_text": 4, "missing_predictions": 0,
             "ff1": ff1, "aos": ff1 / 2, "em": 10.0, "f1": 20.0, "ff1_pooled": ff1}
    res = {"system_name": name, "data_set": "test", "overall": group, "counts": {"missing_predictions": 0},
           "by_asr_error": {"no_asr_error": group, "with_asr_error": group}, "wer": {"wer": 21.0}}
    p = exp / rel / "result.json"
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps(res), encoding="utf-8")


def test_show_results_writes_and_prints(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    exp = tmp_path / "exp"
    _put(exp, "a/decode_test", "e2e", 61.5)
    _put(exp, "b/decode_test", "ensemble", 66.25)
    out = tmp_path / "RESULTS.md"
    assert show_results.main(["--exp_dir", str(exp), "--out", str(out)]) == 0
    md = out.read_text(encoding="utf-8")
    assert md == capsys.readouterr().out
    assert "## Environments" in md and "- python:" in md and "- torch:" in md
    assert "| e2e | 61.50 | 30.75 | 10.00 | 20.00 |" in md
    assert "| ensemble | 66.25 |" in md


def test_show_results_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert show_results.main(["--exp_dir", str(tmp_path / "missing")]) == 1
    assert "missing" in capsys.readouterr().err
    bad = tmp_path / "exp" / "x" / "decode_test" / "result.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{oops", encoding="utf-8")
    out = tmp_path / "RESULTS.md"
    assert show_results.main(["--exp_dir", str(tmp_path / "exp"), "--out", str(out)]) == 1
    assert "decode_test/result.json" in capsys.readouterr().err and not out.exists()


def test_show_results_paired_section_and_options(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    exp = tmp_path / "exp"
    _put(exp, "finetune/decode_test", "end-to-end", 61.5)
    _put(exp, "finetune_text/decode_test_asr_ctc", "cascade-ctc", 50.0)
    for rel, ff1 in (("finetune/decode_test", [100.0, 50.0, 80.0, 0.0]),
                     ("finetune_text/decode_test_asr_ctc", [0.0, 50.0, 80.0, 0.0])):
        (exp / rel / "scores.jsonl").write_text("".join(
            json.dumps({"id": f"q{k}", "ff1": v, "aos": v, "asr_error": k < 2}) + "\n" for k, v in enumerate(ff1)),
            encoding="utf-8")
    assert show_results.main(["--exp_dir", str(exp), "--bootstrap_samples", "500", "--bootstrap_seed", "3"]) == 0
    md = capsys.readouterr().out
    assert "Paired bootstrap tests (500 resamples of the questions both systems answer, seed 3)" in md
    row = next(x for x in md.splitlines() if x.startswith("| end-to-end vs cascade-ctc | all |"))
    assert "| 4 | +25.0 [" in row  # one question of four 100 points better
    assert show_results.main(["--exp_dir", str(exp), "--bootstrap_samples", "0"]) == 1
    assert "--bootstrap_samples must be at least 1" in capsys.readouterr().err
