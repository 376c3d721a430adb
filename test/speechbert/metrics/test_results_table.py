"""Collecting result.json files into RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speechbert.errors import DataError
from speechbert.metrics.results_table import (collect_results, environment_info, format_results_md,
                                              paired_comparisons, read_scores)


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


def _scored(exp: Path, rel: str, name: str, ff1: list[float], *, seed: int | None = None,
            data_set: str = "test", asr_error: list[bool] | None = None, half: float | None = 2.5) -> None:
    """result.json with intervals plus the scores.jsonl of per-question FF1 (AOS = FF1 / 2)."""
    mean = sum(ff1) / len(ff1)
    res = _result(name, mean, data_set=data_set)
    for g in (res["overall"], *res["by_asr_error"].values()):
        g["ff1_ci"], g["ff1_ci_half"] = ([g["ff1"] - half, g["ff1"] + half], half) if half is not None else (None, None)
    if seed is not None:
        res["seed"] = seed
    res["bootstrap"] = {"samples": 1000, "seed": 1234, "level": 0.95}
    _put(exp, rel, res)
    flags = asr_error or [k % 2 == 0 for k in range(len(ff1))]
    (exp / rel / "scores.jsonl").write_text("".join(
        json.dumps({"id": f"q{k}", "ff1": v, "aos": v / 2, "em": None, "f1": None, "asr_error": e}) + "\n"
        for k, (v, e) in enumerate(zip(ff1, flags))), encoding="utf-8")


def _row(md: str, start: str) -> list[str]:
    line = next(x for x in md.splitlines() if x.startswith(start))
    return [c.strip() for c in line.strip("|").split("|")]


def test_intervals_in_the_table_and_dev_apart(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    _scored(exp, "finetune/decode_test", "end-to-end", [80.0] * 10, half=6.14)
    _scored(exp, "finetune/decode_dev", "end-to-end", [70.0] * 10, data_set="dev")
    md = format_results_md(collect_results(exp), {}, exp)
    cells = _row(md, "| end-to-end |")
    assert cells[1] == "80.0 ± 6.1"  # mean ± half-width of the interval
    assert cells[2] == "40.00"       # AOS: no interval in this result.json
    assert "half the width of the 95 % percentile bootstrap interval" in md
    # dev comes after test, in its own section that says it is for choices
    assert md.index("## Data set: test") < md.index("## Data set: dev (development set")
    assert "70.0 ± 2.5" in md.split("## Data set: dev")[1]


def test_seed_rows_and_their_mean(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    for k, v in enumerate((60.0, 62.0, 64.0), start=1):
        # seed 3 only from its experiment name
        _scored(exp, f"finetune_seed{k}/decode_test", "end-to-end", [v] * 4, seed=k if k < 3 else None)
    _scored(exp, "baseline_first_sentence/decode_test", "baseline-first-sentence", [10.0] * 4)
    results = collect_results(exp)
    assert [r.label for r in results] == ["baseline-first-sentence", "end-to-end (seed 1)", "end-to-end (seed 2)",
                                          "end-to-end (seed 3)"]
    md = format_results_md(results, {}, exp)
    assert _row(md, "| end-to-end (seed 2) |")[1] == "62.0 ± 2.5"
    mean = _row(md, "| end-to-end (mean ± std over 3 seeds) |")
    assert mean[1] == "62.0 ± 2.0"  # sample std of 60, 62, 64
    assert mean[2] == "31.0 ± 1.0"
    assert mean[13:] == ["10", "6", "4", "—", "22.50"]
    assert "(mean ± std over" not in _row(md, "| baseline-first-sentence |")[0]
    assert md.count("(mean ± std over 3 seeds)") == 1


def test_paired_tests_of_e2e_cascade_and_ensemble(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    n = 200
    cascade = [float((7 * k) % 50) for k in range(n)]
    e2e = [v + 5.0 for v in cascade]                       # better on every question
    _scored(exp, "finetune/decode_test", "end-to-end", e2e)
    _scored(exp, "finetune_text/decode_test_asr_ctc", "cascade-ctc", cascade)
    _scored(exp, "ensemble/decode_test", "ensemble", list(e2e))  # identical to the end-to-end model
    comps, notes = paired_comparisons(collect_results(exp), samples=1000, seed=1)
    assert notes == []
    got = {(c.a.name, c.b.name, c.split): c.tests for c in comps}
    assert set(got) == {(a, b, s) for a, b in [("end-to-end", "cascade-ctc"), ("ensemble", "end-to-end"),
                                               ("ensemble", "cascade-ctc")] for s in ("all", "ASR error")}
    t = got[("end-to-end", "cascade-ctc", "all")]["ff1"]
    assert t.questions == n and t.diff == pytest.approx(5.0) and t.p < 0.01
    assert got[("end-to-end", "cascade-ctc", "all")]["aos"].diff == pytest.approx(2.5)
    assert got[("end-to-end", "cascade-ctc", "ASR error")]["ff1"].questions == n // 2
    same = got[("ensemble", "end-to-end", "all")]["ff1"]
    assert (same.diff, same.low, same.high, same.p) == (0.0, 0.0, 0.0, 1.0)
    md = format_results_md(collect_results(exp), {}, exp, bootstrap_samples=1000, bootstrap_seed=1)
    assert "Paired bootstrap tests (1000 resamples" in md
    row = _row(md, "| end-to-end vs cascade-ctc | all |")
    assert row[2] == "200" and row[3] == "+5.0 [+5.0, +5.0]" and row[4] == "0.002"
    assert _row(md, "| ensemble vs end-to-end | all |")[3:5] == ["+0.0 [+0.0, +0.0]", "1.000"]


def test_paired_tests_per_seed_and_missing_scores(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    for seed in (1, 2):
        _scored(exp, f"finetune_seed{seed}/decode_test", "end-to-end", [50.0 + seed] * 20, seed=seed)
        _scored(exp, f"ensemble_seed{seed}/decode_test", "ensemble", [49.0] * 20, seed=seed)
    _scored(exp, "finetune_text/decode_test_asr_ctc", "cascade-ctc", [40.0] * 20)  # no seed: pairs with each
    _put(exp, "finetune_text/decode_test_asr_w2v", _result("cascade-w2v", 30.0))    # old result: no scores.jsonl
    comps, notes = paired_comparisons(collect_results(exp), samples=200)
    pairs = sorted({(c.a.label, c.b.label) for c in comps})
    assert pairs == sorted([("end-to-end (seed 1)", "cascade-ctc"), ("end-to-end (seed 2)", "cascade-ctc"),
                            ("ensemble (seed 1)", "end-to-end (seed 1)"), ("ensemble (seed 2)", "end-to-end (seed 2)"),
                            ("ensemble (seed 1)", "cascade-ctc"), ("ensemble (seed 2)", "cascade-ctc")])
    diffs = {(c.a.label, c.b.label): c.tests["ff1"].diff for c in comps if c.split == "all"}
    assert diffs[("ensemble (seed 2)", "end-to-end (seed 2)")] == pytest.approx(-3.0)
    assert len(notes) == 4 and all("cascade-w2v" in x and "scores.jsonl" in x for x in notes)


def test_bad_scores_jsonl_names_file_and_line(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    _scored(exp, "finetune/decode_test", "end-to-end", [1.0, 2.0])
    _scored(exp, "finetune_text/decode_test_asr_ctc", "cascade-ctc", [1.0, 2.0])
    bad = exp / "finetune_text" / "decode_test_asr_ctc" / "scores.jsonl"
    bad.write_text('{"id": "q0", "ff1": 1.0}\n{"id": "q1", "ff1": "high"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"decode_test_asr_ctc/scores.jsonl:2.*'ff1'"):
        format_results_md(collect_results(exp), {}, exp)
    assert read_scores(exp / "finetune" / "decode_test" / "scores.jsonl")["q1"]["ff1"] == 2.0
