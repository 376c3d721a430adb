#!/usr/bin/env python3
"""Run every benchmark, report every missed target at the end, write ``bench/RESULTS.md``.

``make bench`` runs this. Each ``bench/<name>.py`` (except this script and ``bench_common.py``)
runs as its own process with ``--json``; one that fails or misses a target does not stop the
others. Exit status: 0 when every benchmark ran and met its targets, 1 otherwise (after all ran).

    tools/venv/bin/python bench/run_all.py [--only feats,score] [--out bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import REPO

from speechbert.io.atomic import atomic_open

BENCH_DIR = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"run_all", "bench_common"}
# Extra options per benchmark for the suite run (shorter than each script's stand-alone default).
SUITE_ARGS: dict[str, list[str]] = {}


def benchmarks(only: list[str] | None) -> list[Path]:
    """The benchmark scripts, in name order (or those named in ``only``)."""
    found = sorted(p for p in BENCH_DIR.glob("*.py") if p.stem not in NOT_BENCHMARKS)
    if only:
        unknown = set(only) - {p.stem for p in found}
        if unknown:
            raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
        found = [p for p in found if p.stem in only]
    return found


def machine() -> dict[str, str]:
    """CPU model and cores, Python and torch versions, git commit (with '-dirty')."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += "-dirty"
    return {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "torch": torch_version, "git": commit, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def run_one(script: Path, tmp: Path, timeout: float) -> dict:
    """Run one benchmark; its JSON results, or a record of how it failed."""
    out_json = tmp / f"{script.stem}.json"
    cmd = [sys.executable, str(script), "--json", str(out_json), *SUITE_ARGS.get(script.stem, [])]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    print(f"== {script.relative_to(REPO) if script.is_relative_to(REPO) else script}", flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=env, timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    wall = time.perf_counter() - t0
    if out_json.is_file():
        res = json.loads(out_json.read_text(encoding="utf-8"))
    else:
        res = {"name": script.stem, "values": {}, "targets": [], "line": f"bench {script.stem}: (no result)"}
    res.update(rc=rc, wall_s=round(wall, 1), script=script.name)
    return res


def results_markdown(info: dict[str, str], results: list[dict], note: str) -> str:
    """``bench/RESULTS.md``: the machine, then one row per benchmark line, then the targets."""
    lines = ["# Benchmark results", "",
             "Written by `make bench` (`bench/run_all.py`); every benchmark's final line is "
             "`bench <name>: key=value ...` (see `bench/bench_common.py`).", "",
             f"- machine: {info['cpu']}, {info['cores']} cores", f"- python {info['python']}, torch {info['torch']}",
             f"- git {info['git']}, {info['date']}"]
    if note:
        lines.append(f"- note: {note}")
    lines += ["", "The tables behind these lines, and what was tried for each missed target: "
              "`doc/features.md` (Speed), `doc/scoring.md` (Speed), `doc/alignment.md` (Measured; its "
              "Pareto table of aligner sizes and boundary rules: `align_rules` values rule0..rule4 are "
              "the recipe's rule, all-dev rules with >= 5 / 15 / 40 words per letter, one global offset)."]
    lines += ["", "| benchmark | exit | wall s | line |", "|---|---:|---:|---|"]
    for r in results:
        lines.append(f"| {r['name']} | {r['rc']} | {r['wall_s']} | `{r['line']}` |")
    lines += ["", "## Targets", "", "| benchmark | what | value | target | met |", "|---|---|---:|---|---|"]
    for r in results:
        for t in r["targets"]:
            lines.append(f"| {r['name']} | {t['what']} | {_num(t['value'])} | {t['op']} {_num(t['limit'])} "
                         f"| {'yes' if t['ok'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def _num(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    p.add_argument("--out", default=str(BENCH_DIR / "RESULTS.md"), help="results file ('' = none)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per benchmark")
    p.add_argument("--note", default="", help="a line for RESULTS.md (e.g. 'machine shared with other work')")
    args = p.parse_args(argv)
    scripts = benchmarks([s for s in args.only.split(",") if s])
    info = machine()
    with tempfile.TemporaryDirectory(prefix="bench_all.") as tmp:
        results = [run_one(s, Path(tmp), args.timeout) for s in scripts]
    print(f"\n== summary ({info['cpu']}, {info['cores']} cores, git {info['git']})")
    problems = 0
    for r in results:
        print(r["line"])
    for r in results:
        if r["rc"] != 0 and not r["targets"]:
            print(f"FAILED {r['name']}: exit {r['rc']}")
            problems += 1
        for t in r["targets"]:
            if not t["ok"]:
                print(f"MISSED {r['name']}: {t['what']} = {_num(t['value'])}, target {t['op']} {_num(t['limit'])}")
                problems += 1
        if r["rc"] not in (0, 1) and r["targets"]:
            print(f"FAILED {r['name']}: exit {r['rc']} after its checks")
            problems += 1
    if args.out:
        with atomic_open(args.out) as f:
            f.write(results_markdown(info, results, args.note))
        print(f"wrote {args.out}")
    print("all targets met" if not problems else f"{problems} missed target(s) or failure(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
