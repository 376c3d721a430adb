"""Average model snapshots into one model file (best N by a validation metric, or the last N).

    python -m speechbert.bin.average_checkpoints --snapshots exp/x/snapshot.ep.* \\
        --out exp/x/model.avg.pt [--num N] [--metric valid.loss --mode min] [--metrics exp/x/metrics.jsonl]

Written into another directory, the average gets the run's ``config.yaml`` and ``inputs.yaml``
beside it, so the decoders rebuild the same model and inputs from there (doc/inputs.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main
from speechbert.train.average import average_checkpoints, copy_experiment_records


def get_parser() -> ArgumentParser:
    """The command-line options."""
    parser = get_base_parser("Average model snapshots (snapshot.ep.N) of a training run")
    parser.add_argument("--snapshots", nargs="+", required=True, help="snapshot.ep.N files")
    parser.add_argument("--out", required=True, help="output model file (e.g. exp/x/model.avg.pt)")
    parser.add_argument("--num", type=int, default=None, help="number of snapshots to average (default: all)")
    parser.add_argument("--metric", default=None,
                        help="rank by this recorded validation metric (e.g. valid.loss); default: the last --num")
    parser.add_argument("--mode", choices=["min", "max"], default="min",
                        help="whether smaller or larger --metric is better")
    parser.add_argument("--metrics", default=None,
                        help="the run's metrics.jsonl (default: metrics.jsonl beside the snapshots)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Average and write ``--out`` (with the run's config.yaml and inputs.yaml beside it)."""
    import logging
    from pathlib import Path

    from speechbert.train.average import select_snapshots

    first = select_snapshots(args.snapshots, num=args.num, metric=args.metric, mode=args.mode,
                             metrics_path=args.metrics)[0]
    copy_experiment_records(first.parent, Path(args.out).parent, dry_run=True)  # conflicts before writing
    chosen = average_checkpoints(args.snapshots, args.out, num=args.num, metric=args.metric, mode=args.mode,
                                 metrics_path=args.metrics)
    copied = copy_experiment_records(chosen[0].parent, Path(args.out).parent)
    if copied:
        logging.info("copied %s next to %s: it decodes as the run it came from", " and ".join(copied), args.out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
