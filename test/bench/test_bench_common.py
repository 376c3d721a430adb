"""bench/bench_common.py and bench/run_all.py: the final line, --json, missed targets, the suite."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import bench_common as bc  # noqa: E402
import run_all  # noqa: E402


def test_line_json_and_missed_targets(tmp_path, capsys):
    out = tmp_path / "r.json"
    b = bc.Bench("demo", type("A", (), {"json": str(out)})())
    b.record(ratio=1.23456789, name="x y", ok=True, n=3)
    assert b.target("ratio", 1.2, "<=", 1.1) is False
    assert b.target("n", 3, ">=", 2) is True
    assert b.finish() == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "MISSED demo: ratio = 1.2, target <= 1.1"
    assert lines[-1] == "bench demo: ratio=1.23457 name=x_y ok=true n=3 missed=1"
    r = json.loads(out.read_text())
    assert r["values"]["ratio"] == 1.23456789 and r["line"] == lines[-1]
    assert [t["ok"] for t in r["targets"]] == [False, True]


def test_interleaved_runs_in_turn_and_keeps_the_least():
    calls = []
    costs = iter([0, 0, 3, 1, 2, 5])  # warm-up a, b; then a, b, a, b

    def work(name):
        def fn():
            calls.append(name)
            n = next(costs)
            t0 = bc.cpu_seconds()
            while bc.cpu_seconds() - t0 < n * 0.01:
                pass
        return fn

    best = bc.interleaved({"a": work("a"), "b": work("b")}, 2)
    assert calls == ["a", "b", "a", "b", "a", "b"]
    assert 0.015 <= best["a"] < 0.03 and 0.005 <= best["b"] < 0.02


def test_suite_runs_everything_and_reports_every_miss(tmp_path, monkeypatch, capsys):
    common = Path(bc.__file__).parent
    for name, body in {"good": 'b.record(x=1); b.target("x", 1, ">=", 1)',
                       "slow": 'b.record(x=2); b.target("x", 2, "<=", 1)',
                       "broken": 'raise RuntimeError("boom")'}.items():
        (tmp_path / f"{name}.py").write_text(
            f"import sys\nsys.path.insert(0, {str(common)!r})\nimport argparse\nfrom bench_common import Bench, add_bench_args\n"
            f"p = argparse.ArgumentParser(); add_bench_args(p); b = Bench({name!r}, p.parse_args())\n{body}\n"
            "sys.exit(b.finish())\n")
    monkeypatch.setattr(run_all, "BENCH_DIR", tmp_path)
    results = tmp_path / "RESULTS.md"
    assert run_all.main(["--out", str(results)]) == 1
    out = capsys.readouterr().out
    assert "MISSED slow: x = 2, target <= 1" in out and "FAILED broken: exit 1" in out
    assert "bench good: x=1 missed=0" in out
    md = results.read_text()
    assert "| good | 0 |" in md and "| slow | 1 |" in md and "| broken | 1 |" in md
    assert "| slow | x | 2 | <= 1 | **no** |" in md and "torch" in md and "cores" in md
