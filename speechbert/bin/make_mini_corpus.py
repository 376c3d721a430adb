"""Generate the mini corpus text: SQuAD-format JSON about invented entities, from a seed.

Writes, like the SQuAD v1.1 release, ``<out_dir>/train-v1.1.json`` (the train passages followed
by the dev passages: the importer holds the last ``dev_paragraphs`` out as dev) and
``<out_dir>/dev-v1.1.json`` (the test passages: Spoken SQuAD's test set comes from SQuAD dev),
plus ``<out_dir>/dev_paragraphs`` (one integer).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import get_base_parser, run_main
from speechbert.errors import ConfigError
from speechbert.io.atomic import atomic_open
from speechbert.io.squad_json import write_squad
from speechbert.synth.mini_corpus import generate_mini_corpus


def get_parser() -> argparse.ArgumentParser:
    parser = get_base_parser(__doc__.splitlines()[0], prog="make_mini_corpus")
    parser.add_argument("--out_dir", required=True, help="output directory")
    parser.add_argument("--size", type=float, default=1.0,
                        help="scale of the corpus: 1.0 = 200 train, 100 dev, 210 test passages")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_run, get_parser(), argv)


def _run(args: argparse.Namespace) -> int:
    if args.size <= 0:
        raise ConfigError(f"--size must be positive, got {args.size}")
    corpus = generate_mini_corpus(args.size, args.seed)
    out = Path(args.out_dir)
    train = corpus["train"] + corpus["dev"]
    # Topic indexes follow the file: the dev articles continue after the train ones.
    for t, art in enumerate(train):
        for par in art.paragraphs:
            par.topic_index = t
    n_dev = sum(len(a.paragraphs) for a in corpus["dev"])
    write_squad(out / "train-v1.1.json", train)
    write_squad(out / "dev-v1.1.json", corpus["test"])
    with atomic_open(out / "dev_paragraphs") as f:
        f.write(f"{n_dev}\n")
    for split, arts in corpus.items():
        pars = [p for a in arts for p in a.paragraphs]
        logging.info("%s: %d passages, %d questions", split, len(pars), sum(len(p.qas) for p in pars))
    return 0


if __name__ == "__main__":
    sys.exit(main())
