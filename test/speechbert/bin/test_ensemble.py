"""ensemble CLI on two hand-made predictions files."""

from __future__ import annotations

import json
import math
from pathlib import Path

from speechbert.bin import score_sqa
from speechbert.bin.ensemble import main


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def rec(qid, spans, source):
    nbest = [{"word_span": [k, k], "words": f"{source}{k}", "start": s, "end": e, "score": math.log(p)}
             for k, (s, e, p) in enumerate(spans)]
    return {"id": qid, "context_id": "c1", **nbest[0], "word_source": source, "nbest": nbest}


def test_weights_pick_each_system_and_the_mix(tmp_path):
    e2e = write(tmp_path / "e.jsonl", [rec("q1", [(1.0, 2.0, 0.6), (5.0, 6.0, 0.4)], "reference"),
                                       rec("q2", [(0.0, 1.0, 1.0)], "reference")])
    cas = write(tmp_path / "c.jsonl", [rec("q1", [(5.0, 6.2, 0.55), (1.5, 2.0, 0.45)], "asr")])
    best = {}
    for w in ("1", "0", "0.5"):
        out = tmp_path / f"o{w}.jsonl"
        assert main(["--e2e", e2e, "--cascade", cas, "--weight", w, "--out", str(out)]) == 0
        recs = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
        assert set(recs) == {"q1", "q2"}
        assert (recs["q2"]["start"], recs["q2"]["system"]) == (0.0, "e2e")  # only e2e answered q2
        best[w] = (recs["q1"]["start"], recs["q1"]["end"], recs["q1"]["words"])
    assert best["1"] == (1.0, 2.0, "reference0")
    assert best["0"] == (5.0, 6.2, "asr0")
    assert best["0.5"] == (5.0, 6.2, "asr0")  # both systems support [5, 6]: not the e2e top-1


def test_bad_input_fails_without_output(tmp_path, capsys):
    good = write(tmp_path / "e.jsonl", [rec("q1", [(1.0, 2.0, 0.6)], "reference")])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "start": "x"}\n')
    out = tmp_path / "o.jsonl"
    assert main(["--e2e", good, "--cascade", str(bad), "--weight", "0.5", "--out", str(out)]) == 1
    assert "bad.jsonl:1" in capsys.readouterr().err
    assert main(["--e2e", good, "--cascade", good, "--weight", "2", "--out", str(out)]) == 1
    assert "--weight must be in [0, 1]" in capsys.readouterr().err
    assert not out.exists()


def make_dev(root: Path, refs: dict[str, list[float]]) -> Path:
    """A dev data dir: one passage "a b c d e f g h", one question per entry of ``refs``."""
    root.mkdir(parents=True)
    (root / "text").write_text("c1-000 a b c d e f g h\n")
    (root / "contexts").write_text("c1 c1-000\n")
    (root / "questions.jsonl").write_text("".join(
        json.dumps({"id": qid, "context_id": "c1", "question": "what", "answers": [{"text": "a", "char_start": 0}],
                    "answer_time_spans": [span]}) + "\n" for qid, span in refs.items()))
    return root


def test_weight_chosen_on_dev(tmp_path):
    # e2e right on both dev questions, the cascade wrong: the chosen weight favours e2e.
    dev = make_dev(tmp_path / "data" / "dev", {"q1": [1.0, 2.0], "q2": [0.0, 1.0]})
    e2e = write(tmp_path / "de.jsonl", [rec("q1", [(1.0, 2.0, 0.6), (5.0, 6.0, 0.4)], "reference"),
                                        rec("q2", [(0.0, 1.0, 0.5), (3.0, 4.0, 0.5)], "reference")])
    cas = write(tmp_path / "dc.jsonl", [rec("q1", [(5.0, 6.2, 0.55), (1.5, 2.0, 0.45)], "asr"),
                                        rec("q2", [(3.0, 4.0, 0.9), (0.0, 1.0, 0.1)], "asr")])
    out = tmp_path / "exp" / "ensemble" / "decode_dev" / "predictions.jsonl"
    assert main(["--e2e", e2e, "--cascade", cas, "--dev_e2e", e2e, "--dev_cascade", cas, "--dev_data", str(dev),
                 "--out", str(out)]) == 0
    info = json.loads((out.parent / "ensemble_weight.json").read_text())
    assert info["chosen_on"] == str(dev) and info["weight"] >= 0.5
    grid = dict((w, f) for w, f in info["grid"])
    assert len(grid) == 21 and grid[1.0] == 100.0 and grid[0.0] == 0.0
    assert grid[info["weight"]] == max(grid.values())
    assert all(grid[w] < 100.0 for w in grid if abs(w - 0.5) < abs(info["weight"] - 0.5))
    # The dev FF1 of the grid is score_sqa's FF1 of the predictions the ensemble wrote.
    assert score_sqa.main(["--data", str(dev), "--predictions", str(out), "--out_dir", str(out.parent),
                           "--bootstrap_samples", "0"]) == 0
    res = json.loads((out.parent / "result.json").read_text())
    assert res["overall"]["ff1"] == grid[info["weight"]]
    # A fixed --weight wins over dev and says so; the dev grid is still recorded.
    assert main(["--e2e", e2e, "--cascade", cas, "--dev_e2e", e2e, "--dev_cascade", cas, "--dev_data", str(dev),
                 "--weight", "0.2", "--out", str(out)]) == 0
    info = json.loads((out.parent / "ensemble_weight.json").read_text())
    assert (info["weight"], info["chosen_on"], len(info["grid"])) == (0.2, "--weight", 21)
    assert main(["--e2e", e2e, "--cascade", cas, "--weight", "1", "--out", str(out)]) == 0
    info = json.loads((out.parent / "ensemble_weight.json").read_text())
    assert info == {"weight": 1.0, "chosen_on": "--weight", "grid": None}


def test_weight_options_errors(tmp_path, capsys):
    dev = make_dev(tmp_path / "dev", {"q1": [1.0, 2.0]})
    e2e = write(tmp_path / "e.jsonl", [rec("q1", [(1.0, 2.0, 0.6)], "reference")])
    other = write(tmp_path / "t.jsonl", [rec("t9", [(1.0, 2.0, 0.6)], "reference")])
    out = tmp_path / "o" / "p.jsonl"
    assert main(["--e2e", e2e, "--cascade", e2e, "--out", str(out)]) == 1
    assert "give --weight W, or --dev_e2e, --dev_cascade and --dev_data" in capsys.readouterr().err
    assert main(["--e2e", e2e, "--cascade", e2e, "--dev_e2e", e2e, "--out", str(out)]) == 1
    assert "missing --dev_cascade, --dev_data" in capsys.readouterr().err
    assert main(["--e2e", e2e, "--cascade", e2e, "--dev_e2e", other, "--dev_cascade", e2e, "--dev_data", str(dev),
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "t.jsonl" in err and "'t9'" in err and "not in the dev set" in err
    assert not out.parent.exists()
