"""Merge the parts of a split decoding (sqa_decode / cascade_decode --nj N) into one predictions.jsonl.

    python -m speechbert.bin.merge_predictions --split_dir exp/finetune/decode_test/split4 --nj 4 \\
        --out exp/finetune/decode_test/predictions.jsonl

``<split_dir>/predictions.<k>.jsonl`` and ``<split_dir>/job.<k>.json`` (``--job_record``) of
every job ``k`` must exist (a missing one names the job that did not finish), and the jobs'
questions must tile the set: none lost, none decoded twice (:mod:`speechbert.decode.jobs`). The
parts are concatenated in job order, byte for byte, which is what a single job writes; ``--out``
is written atomically.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main


def get_parser() -> ArgumentParser:
    """Build the command-line parser."""
    parser = get_base_parser(__doc__.split("\n\n")[0], prog="merge_predictions")
    a = parser.add_argument
    a("--split_dir", required=True, help="directory of the jobs' predictions.<k>.jsonl and job.<k>.json")
    a("--nj", type=int, required=True, help="number of jobs the decoding was split into")
    a("--out", required=True, help="merged predictions.jsonl to write")
    return parser


def run(args: argparse.Namespace) -> int:
    """Check the parts and write the merged file."""
    from speechbert.decode.jobs import merge_job_parts

    n = merge_job_parts(args.split_dir, args.nj, args.out)
    logging.info("merged %d predictions of %d jobs from %s into %s", n, args.nj, args.split_dir, args.out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m speechbert.bin.merge_predictions``."""
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
