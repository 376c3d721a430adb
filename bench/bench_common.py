"""What every benchmark shares: CPU timing against a reference, targets, the final line.

A benchmark is a script ``bench/<name>.py`` that ``bench/run_all.py`` (``make bench``) runs as

    tools/venv/bin/python bench/<name>.py --json FILE

API (the whole of it)::

    from bench_common import Bench, add_bench_args, interleaved

    parser = argparse.ArgumentParser()
    add_bench_args(parser)                  # --json FILE, --repeats N (default 5)
    args = parser.parse_args()
    bench = Bench("feats", args)            # the name of the final line
    best = interleaved({"reference": ref_fn, "ours": our_fn}, args.repeats)
    # best == {"reference": CPU s, "ours": CPU s}: least CPU time of each, measured A B A B ...
    bench.record(ratio=round(best["ours"] / best["reference"], 3), ours_s=best["ours"])
    bench.target("ratio", best["ours"] / best["reference"], "<=", 1.10)   # a miss is reported
    return bench.finish()                   # prints the line, writes --json; 0, or 1 if a target missed

``finish`` prints, as the benchmark's last stdout line,
``bench <name>: key=value key=value ... missed=<n>``, and writes the same values (plus the
targets and their outcomes) to ``--json``. A missed target never stops a benchmark: it is
printed as ``MISSED <name>: ...`` when checked, and counted in the exit status at the end.

Why CPU time, best of N, interleaved: the bench machine is shared with other work. CPU time of
one thread does not count the time spent waiting for a core; the least of N runs is the run
least disturbed by cache and memory contention; and running the reference and the measured
code in turn exposes both to the same load, so their ratio holds even when the absolute times
drift. Benchmarks that time one thread also call ``one_thread()``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere: the package imports work
    sys.path.insert(0, str(REPO))

_OPS = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}


def one_thread() -> None:
    """Pin torch, BLAS and this process to one core (call before the timed work)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # the scoring benchmark does not need torch
        pass


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads)."""
    return time.process_time()


def child_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished children (for subprocess timing)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def interleaved(fns: dict[str, Callable[[], object]], repeats: int, *,
                before: Callable[[str], None] | None = None, warmup: bool = True) -> dict[str, float]:
    """Least CPU seconds of each of ``fns`` over ``repeats`` rounds, run in turn: A B A B ...

    ``before(name)``, if given, runs untimed before each call (e.g. removing the last output).
    With ``warmup`` every function runs once untimed first (lazy imports, page cache).
    """
    if warmup:
        for name, fn in fns.items():
            if before is not None:
                before(name)
            fn()
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if before is not None:
                before(name)
            t0 = cpu_seconds()
            fn()
            best[name] = min(best[name], cpu_seconds() - t0)
    return best


def add_bench_args(parser: argparse.ArgumentParser, repeats: int = 5) -> None:
    """Add the options every benchmark takes: ``--json FILE`` and ``--repeats N``."""
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--repeats", type=int, default=repeats,
                        help="best of this many interleaved runs (default %(default)s)")


class Bench:
    """The results of one benchmark run: values, target checks, the final line."""

    def __init__(self, name: str, args: argparse.Namespace | None = None) -> None:
        self.name = name
        self.json_path = getattr(args, "json", None)
        self.values: dict[str, Any] = {}
        self.targets: list[dict[str, Any]] = []

    def record(self, **values: Any) -> None:
        """Add ``key=value`` pairs to the final line (floats are kept as given: round them)."""
        for key, value in values.items():
            if any(c.isspace() or c == "=" for c in key):
                raise ValueError(f"bad key {key!r}: no spaces or '=' in keys")
            self.values[key] = value

    def target(self, what: str, value: float, op: str, limit: float) -> bool:
        """Check ``value op limit``; a miss is printed at once and counted at ``finish``."""
        ok = bool(_OPS[op](value, limit))
        self.targets.append({"what": what, "value": value, "op": op, "limit": limit, "ok": ok})
        if ok:
            print(f"target met  {self.name}: {what} = {_fmt(value)} {op} {_fmt(limit)}")
        else:
            print(f"MISSED {self.name}: {what} = {_fmt(value)}, target {op} {_fmt(limit)}")
        return ok

    @property
    def missed(self) -> list[dict[str, Any]]:
        """The targets that were not met."""
        return [t for t in self.targets if not t["ok"]]

    def line(self) -> str:
        """The machine-readable line: ``bench <name>: key=value ... missed=<n>``."""
        pairs = [f"{k}={_fmt(v)}" for k, v in self.values.items()] + [f"missed={len(self.missed)}"]
        return f"bench {self.name}: " + " ".join(pairs)

    def finish(self) -> int:
        """Write ``--json``, print the final line; the exit status (1 if a target was missed)."""
        if self.json_path:
            from speechbert.io.atomic import atomic_open

            with atomic_open(self.json_path) as f:
                json.dump({"name": self.name, "values": self.values, "targets": self.targets,
                           "line": self.line()}, f, indent=1)
                f.write("\n")
        sys.stdout.flush()
        print(self.line(), flush=True)
        return 1 if self.missed else 0


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace(" ", "_")
