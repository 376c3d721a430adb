"""Redraw an experiment's training curves from its metrics.jsonl.

    python -m speechbert.bin.plot_training --exp_dir exp/finetune [--out_dir exp/finetune/plots]

Writes ``loss``, ``valid_metrics`` and ``lr`` as PNG and SVG (the trainer draws the same files
when a training run ends; doc/training.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main


def get_parser() -> ArgumentParser:
    """The command-line options."""
    parser = get_base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--exp_dir", required=True, help="training output directory (holds metrics.jsonl)")
    parser.add_argument("--out_dir", default=None, help="where the plots go (default: <exp_dir>/plots)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Draw the plots; a bad or missing metrics.jsonl is an error naming the file (and line)."""
    from speechbert.plots.training_curves import PLOTS_DIR, plot_training_curves

    drawn = plot_training_curves(args.exp_dir, args.out_dir)
    out = args.out_dir or Path(args.exp_dir) / PLOTS_DIR
    logging.info("wrote %s/{%s}.{png,svg}", out, ",".join(drawn))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
