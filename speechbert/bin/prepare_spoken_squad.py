"""Import a corpus in the Spoken SQuAD release layout into data/{train,dev,test[,test_wer44,test_wer54]}.

Every paragraph is checked three ways (sentences of the split, wav files, '.' pieces of the spoken
context); each disagreement and every lost question is counted in data/<set>/prep.log.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import get_base_parser, run_main, str2bool
from speechbert.corpora.spoken_squad import (DEFAULT_DEV_SIZE, SPLIT_CHOICES, ImportOptions, find_sources,
                                         import_spoken_squad)
from speechbert.errors import ConfigError


def get_parser() -> argparse.ArgumentParser:
    parser = get_base_parser(__doc__, prog="prepare_spoken_squad")
    parser.add_argument("--spoken_squad_root", required=True,
                        help="directory with spoken_{train,test}-v1.1.json (+ _WER44/_WER54) and the wavs")
    parser.add_argument("--squad_root", default=None,
                        help="directory with SQuAD v1.1 train-v1.1.json and dev-v1.1.json (reference text); "
                             "default: the reference_<split>-v1.1.json copies in --spoken_squad_root")
    parser.add_argument("--data_dir", default="data", help="where to write the data directories")
    parser.add_argument("--dev_size", type=int, default=DEFAULT_DEV_SIZE,
                        help="number of train paragraphs (the last ones) held out as the dev set")
    parser.add_argument("--max_loss_ratio", type=float, default=0.05,
                        help="fail if a source loses a larger share of its questions")
    parser.add_argument("--noisy_test_sets", type=str2bool, default=True,
                        help="also import spoken_test-v1.1_WER44/_WER54.json as test_wer44/test_wer54")
    parser.add_argument("--split_method", choices=SPLIT_CHOICES, default="auto",
                        help="sentence splitter that pairs the reference sentences with the wavs: 'auto' takes "
                             "the one a synthesized corpus recorded in its spoken JSON, else period_space (the "
                             "release's plain '. ' split); no other splitter is tried on a count mismatch")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_run, get_parser(), argv)


def _run(args: argparse.Namespace) -> int:
    if args.dev_size < 0:
        raise ConfigError(f"--dev_size must be >= 0, got {args.dev_size}")
    if not 0 <= args.max_loss_ratio <= 1:
        raise ConfigError(f"--max_loss_ratio must be within [0, 1], got {args.max_loss_ratio}")
    specs = find_sources(args.spoken_squad_root, args.squad_root, include_noisy=args.noisy_test_sets)
    opts = ImportOptions(dev_size=args.dev_size, max_loss_ratio=args.max_loss_ratio,
                         split_method=args.split_method)
    import_spoken_squad(specs, Path(args.data_dir), opts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
