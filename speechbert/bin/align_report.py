"""Word alignment accuracy of a CTM against reference word times (e.g. the synthesizer's).

    python -m speechbert.bin.align_report --ctm exp/align/test/word.ctm \
        --ref_ctm data/test/oracle.ctm --out exp/align/test/report.md

Writes a markdown table (mean/median absolute start and end errors, % of boundaries within
10/20/50 ms, missing words) and the same numbers as JSON beside it (``report.json``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    a = parser.add_argument
    a("--ctm", required=True, help="word CTM to score")
    a("--ref_ctm", required=True, help="reference word CTM")
    a("--out", required=True, help="markdown report to write; the JSON goes beside it")
    a("--title", default=None, help="report title (default: the CTM path)")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.align.report import compare_ctms
    from speechbert.io.atomic import atomic_open
    from speechbert.io.ctm import read_ctm

    rep = compare_ctms(read_ctm(args.ctm), read_ctm(args.ref_ctm))
    out = Path(args.out)
    with atomic_open(out) as f:
        f.write(rep.to_markdown(args.title or f"Word alignment accuracy: {args.ctm} vs {args.ref_ctm}"))
    with atomic_open(out.with_suffix(".json")) as f:
        json.dump(rep.to_dict(), f, indent=1)
        f.write("\n")
    s = rep.starts
    logging.info("%s: word starts within 20/50 ms: %.1f%% / %.1f%% (median %.1f ms); %d of %d words missing",
                 out, s.within(20), s.within(50), s.median_ms, rep.missing_words, rep.ref_words)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
