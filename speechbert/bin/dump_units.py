"""Assign every frame of a feature dump to its nearest unit of a codebook (``learn_units``).

Example:

    python -m speechbert.bin.dump_units --feats_scp dump/hubert_l6/test/feats.scp \\
        --codebook exp/units_100/codebook.npz --out_dir dump/units_100/test

writes ``units`` (``<utt> 12 12 7 ...``, one id per frame) and a dump dir view of the same ids
(``feats.{ark,scp}`` of ``(frames, 1)`` matrices, ``feats_type`` = ``units 100``,
``frame_shift``, ``utt2num_frames``, ``conf/units.yaml``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main
from speechbert.io.dump_dir import read_dump_facts
from speechbert.io.feats import FeatsReader
from speechbert.units.codebook import Codebook
from speechbert.units.unit_dump import write_unit_dump


def get_parser() -> ArgumentParser:
    """Build the command-line parser (option names = YAML config keys)."""
    parser = get_base_parser("Assign the frames of a feature dump to discrete units and write a unit dump.",
                             prog="dump_units")
    parser.add_argument("--feats_scp", required=True,
                        help="features to assign, e.g. dump/<set>/feats.scp (the same kind the codebook "
                             "was learned on)")
    parser.add_argument("--codebook", required=True, help="codebook written by learn_units (.npz)")
    parser.add_argument("--out_dir", required=True, help="output unit dump dir, e.g. dump/units_<K>/<set>")
    return parser


def run(args: argparse.Namespace) -> int:
    """Check that the codebook fits the features, assign and write."""
    codebook = Codebook.load(args.codebook)
    facts = read_dump_facts(Path(args.feats_scp).parent)
    with FeatsReader(args.feats_scp) as reader:
        codebook.check_fits(reader.dim(), facts, args.feats_scp)
        summary = write_unit_dump(reader, codebook, args.out_dir, facts)
    logging.info("wrote units of %d utterances (%d frames) to %s; %d of %d units used", summary.num_utts,
                 summary.num_frames, args.out_dir, summary.units_used, codebook.num_units)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m speechbert.bin.dump_units``."""
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
