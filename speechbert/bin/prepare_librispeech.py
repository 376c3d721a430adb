"""Import LibriSpeech-layout subsets (<root>/<subset>/<spk>/<chapter>/*.flac + *.trans.txt) as
data/librispeech_<subset with - as _>: speech with transcripts and no questions, extra pre-training
data (doc/librispeech.md). Utterance <spk>-<chapter>-<utt> becomes ls-<spk:04d>-<chapter:06d>-<utt:04d>;
one chapter is one context. What cannot be used is counted in data/<set>/prep.log.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import get_base_parser, run_main
from speechbert.corpora.librispeech import DEFAULT_ID_PREFIX, DEFAULT_MAX_LOSS_RATIO, import_librispeech_subsets
from speechbert.errors import ConfigError

DEFAULT_SUBSETS = "train-clean-100"


def get_parser() -> argparse.ArgumentParser:
    parser = get_base_parser(__doc__, prog="prepare_librispeech")
    parser.add_argument("--librispeech_root", required=True,
                        help="directory holding the subset directories (train-clean-100/, dev-clean/, ...)")
    parser.add_argument("--subsets", nargs="+", default=[DEFAULT_SUBSETS],
                        help="subsets to import, space separated (one or several arguments): each becomes "
                             "<data_dir>/librispeech_<subset with - replaced by _>")
    parser.add_argument("--data_dir", default="data", help="where to write the data directories")
    parser.add_argument("--max_loss_ratio", type=float, default=DEFAULT_MAX_LOSS_RATIO,
                        help="fail if a subset loses a larger share of its utterances (transcript lines without "
                             "audio, flac files without a transcript line, empty transcripts, unreadable audio)")
    parser.add_argument("--id_prefix", default=DEFAULT_ID_PREFIX,
                        help="first part of every utterance, speaker and context id (letters, digits, '_'; "
                             "'' for none)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_run, get_parser(), argv)


def _run(args: argparse.Namespace) -> int:
    if not 0 <= args.max_loss_ratio <= 1:
        raise ConfigError(f"--max_loss_ratio must be within [0, 1], got {args.max_loss_ratio}")
    subsets = [s for arg in args.subsets for s in str(arg).split()]
    if not subsets:
        raise ConfigError("--subsets is empty")
    if not re.fullmatch(r"[A-Za-z0-9_]*", args.id_prefix):
        raise ConfigError(f"--id_prefix may only hold letters, digits and '_', got {args.id_prefix!r}")
    import_librispeech_subsets(args.librispeech_root, subsets, Path(args.data_dir),
                               max_loss_ratio=args.max_loss_ratio, id_prefix=args.id_prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
