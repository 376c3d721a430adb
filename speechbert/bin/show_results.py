"""Collect every ``exp/**/decode_*/result.json`` into one Markdown results table.

Usage:
    python -m speechbert.bin.show_results --exp_dir exp [--out RESULTS.md] \\
        [--bootstrap_samples 1000] [--bootstrap_seed 1234]

Means are printed with the half-width of their bootstrap interval; end-to-end, cascade and
ensemble are compared by paired bootstrap tests on the ``scores.jsonl`` beside each result.json
(doc/scoring.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import get_base_parser, run_main
from speechbert.errors import ConfigError, DataError
from speechbert.io.atomic import atomic_open
from speechbert.metrics.bootstrap import DEFAULT_BOOTSTRAP_SAMPLES, DEFAULT_BOOTSTRAP_SEED
from speechbert.metrics.results_table import collect_results, environment_info, format_results_md


def get_parser() -> argparse.ArgumentParser:
    parser = get_base_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--exp_dir", default="exp", help="experiment root searched for decode_*/result.json")
    parser.add_argument("--out", default=None, help="also write the Markdown to this file (atomically)")
    parser.add_argument("--bootstrap_samples", type=int, default=DEFAULT_BOOTSTRAP_SAMPLES,
                        help="resamples of the paired bootstrap tests (at least 1)")
    parser.add_argument("--bootstrap_seed", type=int, default=DEFAULT_BOOTSTRAP_SEED,
                        help="seed of the paired bootstrap tests")
    return parser


def run(args: argparse.Namespace) -> int:
    exp_dir = Path(args.exp_dir)
    if not exp_dir.is_dir():
        raise DataError("no such directory (--exp_dir)", exp_dir)
    if args.bootstrap_samples < 1:
        raise ConfigError(f"--bootstrap_samples must be at least 1, got {args.bootstrap_samples}")
    results = collect_results(exp_dir)
    md = format_results_md(results, environment_info(), exp_dir, bootstrap_samples=args.bootstrap_samples,
                           bootstrap_seed=args.bootstrap_seed)
    if args.out:
        with atomic_open(args.out) as f:
            f.write(md)
    sys.stdout.write(md)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
