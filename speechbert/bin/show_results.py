"""Collect every ``exp/**/decode_*/result.json`` into one Markdown results table.

Usage:
    python -m speechbert.bin.show_results --exp_dir exp [--out RESULTS.md]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import get_base_parser, run_main
from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open
from speechbert.metrics.results_table import collect_results, environment_info, format_results_md


def get_parser() -> argparse.ArgumentParser:
    parser = get_base_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--exp_dir", default="exp", help="experiment root searched for decode_*/result.json")
    parser.add_argument("--out", default=None, help="also write the Markdown to this file (atomically)")
    return parser


def run(args: argparse.Namespace) -> int:
    exp_dir = Path(args.exp_dir)
    if not exp_dir.is_dir():
        raise DataError("no such directory (--exp_dir)", exp_dir)
    results = collect_results(exp_dir)
    md = format_results_md(results, environment_info(), exp_dir)
    if args.out:
        with atomic_open(args.out) as f:
            f.write(md)
    sys.stdout.write(md)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
