#!/usr/bin/env python
"""Run every check that needs a GPU in one go and write one report (``bench/gpu_check.sh``).

Parts (see ``doc/training.md``, "GPU check"): (a) bf16 train step of our encoder vs
``transformers.BertModel`` sdpa at BERT-base size, tokens/s and MFU; (b) one epoch of the
recipe's fine-tuning stage with ``--ngpu 1`` in bf16; (c) GPU decoding of the test set compared
with the recipe's CPU predictions; (d) the SSL frontend (none yet: skipped); (e) a DDP run with
``torchrun --nproc_per_node 2`` when two GPUs are visible. ``--cpu`` runs the same parts on CPU
with tiny sizes, which is how CI tests this script.

Writes ``<out>/gpu_report.md``, ``<out>/gpu_report.json`` and ``<out>/logs/``; exit status 1 when
a part failed.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import parts as P  # noqa: E402

sys.path.insert(0, str(P.REPO))
from speechbert.io.atomic import atomic_open  # noqa: E402


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipe_dir", type=Path, default=P.REPO / "egs" / "mini_spoken_squad" / "sqa1",
                   help="a recipe directory that has run its stages (read only: inputs are copied)")
    p.add_argument("--out", type=Path, default=Path("gpu_check_report"), help="report directory")
    p.add_argument("--cpu", action="store_true", help="run the parts on CPU with tiny sizes (tests the script)")
    p.add_argument("--parts", default="abcde", help="which parts to run (letters a-e)")
    p.add_argument("--score_tol", type=float, default=1e-2,
                   help="largest allowed |GPU - CPU| span score in part (c)")
    p.add_argument("--cpu_max_steps", type=int, default=6, help="updates of the fine-tuning runs with --cpu")
    p.add_argument("--keep_work", action="store_true", help="keep the scratch copy of the recipe inputs")
    return p


def environment(cpu: bool) -> list[tuple[str, str]]:
    """(name, value) rows describing the machine and the code."""
    import torch

    rows = [("date (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")),
            ("host", platform.node()), ("python", platform.python_version()), ("torch", torch.__version__),
            ("mode", "CPU (--cpu: tiny sizes, fp32)" if cpu else "GPU")]
    try:
        rev = subprocess.run(["git", "-C", str(P.REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(P.REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        rows.append(("git", rev + (" (with uncommitted changes)" if dirty else "")))
    except (OSError, subprocess.CalledProcessError):
        rows.append(("git", "unknown"))
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        rows += [("CUDA", str(torch.version.cuda)), ("GPUs", ", ".join(names))]
    else:
        rows.append(("GPUs", "none visible"))
    return rows


def _cell(text: str) -> str:
    """``text`` safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def render(results: list[P.PartResult], env: list[tuple[str, str]], recipe: Path, total: float) -> str:
    """The markdown report."""
    failed = [r for r in results if r.status == "fail"]
    lines = ["# GPU check report", "",
             f"**{'FAILED' if failed else 'PASSED'}**: " + ", ".join(f"({r.key}) {r.status}" for r in results)
             + f"; {total:.0f} s in all.", "",
             "| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in env] + [f"| recipe | {recipe} |", "",
             "| part | check | status | seconds (budget) | result |", "|---|---|---|---|---|"]
    lines += [f"| ({r.key}) | {r.title} | {r.status} | {r.seconds:.0f} ({r.budget:.0f}) | {_cell(r.summary)} |"
              for r in results]
    for r in results:
        lines += ["", f"## ({r.key}) {r.title}: {r.status}", "", r.summary]
        if r.details:
            lines += [""] + r.details
        lines += ["", f"Log: `{r.log}`."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    unknown = sorted(set(args.parts) - {key for key, *_ in P.PARTS})
    if unknown:
        print(f"--parts: unknown part(s) {' '.join(unknown)} (known: a b c d e)", file=sys.stderr)
        return 2
    recipe = args.recipe_dir.resolve()
    if not recipe.is_dir():
        print(f"--recipe_dir {recipe}: no such directory", file=sys.stderr)
        return 2
    out = args.out.resolve()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gpu_check."))
    ctx = P.Context(recipe=recipe, out=out, work=work, cpu=args.cpu, score_tol=args.score_tol,
                    cpu_max_steps=args.cpu_max_steps)
    start = time.monotonic()
    results = []
    try:
        for key, title, fn, gpu_budget, cpu_budget in P.PARTS:
            if key not in args.parts:
                continue
            print(f"gpu_check: ({key}) {title} ...", flush=True)
            result = P.run_part(ctx, key, title, fn, cpu_budget if args.cpu else gpu_budget)
            result.log = f"logs/{key}_*.log"
            print(f"gpu_check: ({key}) {result.status} in {result.seconds:.0f} s: {result.summary}", flush=True)
            results.append(result)
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    total = time.monotonic() - start
    env = environment(args.cpu)
    with atomic_open(out / "gpu_report.md") as f:
        f.write(render(results, env, recipe, total))
    with atomic_open(out / "gpu_report.json") as f:
        json.dump({"environment": dict(env), "recipe": str(recipe), "seconds": round(total, 1),
                   "parts": [{k: v for k, v in vars(r).items()} for r in results]}, f, indent=1)
        f.write("\n")
    failed = [r.key for r in results if r.status == "fail"]
    print(f"gpu_check: report {out / 'gpu_report.md'}; {'failed: ' + ' '.join(failed) if failed else 'no part failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
