"""Collecting result.json files into RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speechbert.errors import DataError
from speechbert.metrics.results_table import collect_results, environment_info, format_results_md


def _result(name: str | None, ff1: float, data_set: str = "test", split: bool = True) -> dict:
    group = {"questions": 10, "scored_time": 10, "scored_text": 10, "missing_predictions": 0,
             "ff1": ff1, "aos": ff1 / 2, "em": None, "f1": None, "ff1_pooled": ff1 + 1}
    res = {"system_name": name, "data_set": data_set, "overall": group, "counts": {"missing_predictions": 2},
           "ff1_pooled": {"ff1_pooled": ff1 + 1, "precision": 1.0, "recall": 2.0, "questions": 10}}
    if split:
        res["by_asr_error"] = {"no_asr_error": {**group, "questions": 6, "ff1": ff1 + 10},
                               "with_asr_error": {**group, "questions": 4, "ff1": ff1 - 10}}
        res["wer"] = {"wer": 22.5}
        res["by_passage_wer"] = [{"bucket": "0", **group, "questions": 3}]
    return res


def _put(exp: Path, rel: str, res: dict) -> None:
    p = exp / rel / "result.json"
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps(res), encoding="utf-8")


def test_table_rows_and_columns(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    _put(exp, "speechbert_ft/decode_test", _result("e2e", 60.0))
    _put(exp, "cascade/decode_test", _result("cascade", 50.0))
    _put(exp, "baseline_first_sentence/decode_test", _result(None, 10.0, split=False))
    _put(exp, "cascade/decode_dev", _result("cascade", 55.0, data_set="dev"))
    (exp / "other").mkdir()
    (exp / "other" / "result.json").write_text("{}", encoding="utf-8")  # not under decode_*: ignored
    results = collect_results(exp)
    assert [(r.data_set, r.name) for r in results] == [
        ("dev", "cascade"), ("test", "baseline_first_sentence"), ("test", "cascade"), ("test", "e2e")]
    md = format_results_md(results, {"date": "d", "git": "abc"}, exp)
    assert "## Data set: dev" in md and "## Data set: test" in md
    assert "- git: `abc`" in md
    row = next(line for line in md.splitlines() if line.startswith("| e2e |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # FF1 AOS EM F1 overall, no-error, error; then #Q, #Q no err, #Q err, missing, WER.
    assert cells[1:5] == ["60.00", "30.00", "—", "—"]
    assert cells[5] == "70.00" and cells[9] == "50.00"
    assert cells[13:] == ["10", "6", "4", "2", "22.50"]
    base = next(line for line in md.splitlines() if line.startswith("| baseline_first_sentence |"))
    assert base.count("—") >= 10  # no splits, no WER
    assert "| e2e | 61.00 |" in md  # pooled table, apart from the main one
    assert "| e2e | 60.00 (3) |" in md  # bucket table


def test_bad_result_json_names_the_file(tmp_path: Path) -> None:
    _put(tmp_path, "x/decode_test", {"overall": {}})
    with pytest.raises(DataError, match="decode_test/result.json"):
        collect_results(tmp_path)


def test_empty_and_environment(tmp_path: Path) -> None:
    assert "No `decode_*/result.json` found" in format_results_md([], {"date": "x"}, tmp_path)
    env = environment_info()
    assert set(env) == {"date", "python", "torch", "speechbert", "git"}
