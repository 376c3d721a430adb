"""ensemble CLI on two hand-made predictions files."""

from __future__ import annotations

import json
import math

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
    assert main(["--e2e", good, "--cascade", str(bad), "--out", str(out)]) == 1
    assert "bad.jsonl:1" in capsys.readouterr().err
    assert main(["--e2e", good, "--cascade", good, "--weight", "2", "--out", str(out)]) == 1
    assert "--weight must be in [0, 1]" in capsys.readouterr().err
    assert not out.exists()
