"""Predict answer spans with a trivial baseline (first sentence or random span).

Usage:
    python -m speechbert.bin.baseline_predict --data data/test --ctm exp/align/test/word.ctm \\
        --kind first_sentence|random_span --out exp/baseline_random_span/decode_test/predictions.jsonl \\
        [--train_data data/train] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import get_base_parser, run_main
from speechbert.io.atomic import atomic_open
from speechbert.io.ctm import read_ctm, validate_ctm
from speechbert.io.sqa_data import iter_questions, load_sqa_set
from speechbert.metrics.baselines import BASELINE_KINDS, baseline_predictions, training_answer_lengths


def get_parser() -> argparse.ArgumentParser:
    parser = get_base_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="data directory (text, contexts, utt2dur, questions.jsonl)")
    parser.add_argument("--ctm", required=True, help="word CTM of the data set (utterance-relative times)")
    parser.add_argument("--kind", required=True, choices=BASELINE_KINDS, help="which baseline")
    parser.add_argument("--out", required=True, help="predictions.jsonl to write")
    parser.add_argument("--train_data", default=None,
                        help="training data directory whose answer lengths random_span draws from "
                             "(default: uniform 1..5 words)")
    return parser


def run(args: argparse.Namespace) -> int:
    sqa = load_sqa_set(args.data, require_questions=True)
    ctm = validate_ctm(read_ctm(args.ctm), sqa.text, args.ctm, sqa.utt2dur)
    lengths = None
    if args.kind == "random_span" and args.train_data:
        lengths = training_answer_lengths(q for _, q in iter_questions(Path(args.train_data) / "questions.jsonl"))
        logging.info("drawing span lengths from %d training answers", len(lengths))
    preds, estimated = baseline_predictions(sqa, ctm, args.kind, seed=args.seed, lengths=lengths)
    if estimated:
        logging.warning("%d utterances are not in the CTM; their word times were spread evenly over "
                        "the utterance", len(estimated))
    with atomic_open(args.out) as f:
        for p in preds:
            f.write(json.dumps(p) + "\n")
    logging.info("wrote %d %s predictions to %s", len(preds), args.kind, args.out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
