"""Compute global CMVN statistics (Kaldi layout, 2 x (D+1) float64) over a feats.scp.

Example:

    python -m speechbert.bin.compute_cmvn --feats_scp dump/train/feats.scp --out dump/train/cmvn.ark
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

import numpy as np

from speechbert.audio.cmvn import CMVNAccumulator, write_stats
from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main
from speechbert.errors import DataError
from speechbert.io.feats import FeatsReader


def get_parser() -> ArgumentParser:
    """Build the command-line parser."""
    parser = get_base_parser("Compute global CMVN statistics over a feats.scp.", prog="compute_cmvn")
    parser.add_argument("--feats_scp", required=True, help="features to accumulate (raw, not normalized)")
    parser.add_argument("--out", required=True, help="output stats file (Kaldi binary matrix)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Accumulate the statistics and write them atomically."""
    acc = CMVNAccumulator()
    num_utts = 0
    with FeatsReader(args.feats_scp) as reader:
        for utt, feats in reader.items():
            if not np.isfinite(feats).all():
                raise DataError("features contain NaN/Inf", args.feats_scp, key=utt)
            acc.add(feats, utt, args.feats_scp)
            num_utts += 1
    if num_utts == 0:
        raise DataError("no utterances to compute CMVN statistics from", args.feats_scp)
    stats = acc.stats
    write_stats(args.out, stats)
    logging.info("wrote global CMVN stats of %d utterances, %d frames, dim %d to %s",
                 num_utts, int(stats[0, -1]), stats.shape[1] - 1, args.out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m speechbert.bin.compute_cmvn``."""
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
