"""Write the error-analysis page of one data set: a static HTML file (doc/report.md).

Usage:
    python -m speechbert.bin.report --exp_dir exp --data data/test --out exp/report/test/index.html \\
        [--embed_audio] [--systems end-to-end cascade-ctc] [--asr_text exp/asr_ctc/test/text]

The page shows the results table and an FF1 bar chart, then every question with the reference
and ASR words, the reference and predicted spans over the passage waveform, and a player for
each span. It needs no server and no network; audio is referenced by relative paths (or, with
--embed_audio, written as one wav per passage under <out dir>/audio/).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import get_base_parser, run_main
from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open
from speechbert.report.html_page import render_page
from speechbert.report.page_data import collect_report_data

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = get_base_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--exp_dir", default="exp", help="experiment root searched for decode_*/result.json")
    parser.add_argument("--data", required=True, help="data directory of the set (data/<set>)")
    parser.add_argument("--out", required=True, help="the page to write (index.html)")
    parser.add_argument("--systems", nargs="+", default=None,
                        help="only these systems (result.json system names or row labels)")
    parser.add_argument("--embed_audio", action="store_true",
                        help="write one wav per passage next to the page instead of referencing the corpus audio")
    parser.add_argument("--asr_text", default=None,
                        help="ASR transcript to show (default: the asr_text the results were scored with)")
    return parser


def run(args: argparse.Namespace) -> int:
    exp_dir, data_dir, out = Path(args.exp_dir), Path(args.data), Path(args.out)
    if not exp_dir.is_dir():
        raise DataError("no such directory (--exp_dir)", exp_dir)
    if not data_dir.is_dir():
        raise DataError("no such directory (--data)", data_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = collect_report_data(exp_dir, data_dir, out, systems=args.systems, embed_audio=args.embed_audio,
                               asr_text=args.asr_text)
    page = render_page(data)
    with atomic_open(out) as f:
        f.write(page)
    logger.info("wrote %s: %d questions, %d passages, %d systems (%.1f MB)", out, len(data.questions),
                len(data.passages), len(data.systems), len(page.encode("utf-8")) / 1e6)
    print(out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
