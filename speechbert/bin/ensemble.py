"""Ensemble the end-to-end model and the cascade: combine their n-best time spans per question.

    python -m speechbert.bin.ensemble --e2e exp/finetune/decode_test/predictions.jsonl \\
        --cascade exp/finetune_text/decode_test_asr_ctc/predictions.jsonl --weight 0.5 \\
        --out exp/ensemble/decode_test/predictions.jsonl

Each system's n-best scores become probabilities (softmax over its n-best list); a candidate time
span scores ``w · q_e2e + (1 − w) · q_cascade`` where ``q`` is the system's best
``probability × time-overlap (IoU)`` with it; the best candidate wins (doc/answering.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    a = parser.add_argument
    a("--e2e", required=True, help="predictions.jsonl of the end-to-end model (with n-best lists)")
    a("--cascade", required=True, help="predictions.jsonl of the cascade (with n-best lists)")
    a("--weight", type=float, default=0.5, help="weight of the end-to-end model in [0, 1] (cascade: 1 - weight)")
    a("--out", required=True, help="predictions.jsonl to write")
    a("--nbest", type=int, default=5, help="combined spans kept per question")
    a("--e2e_temperature", type=float, default=1.0, help="softmax temperature of the end-to-end scores")
    a("--cascade_temperature", type=float, default=1.0, help="softmax temperature of the cascade scores")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.decode.ensemble import ensemble_records
    from speechbert.decode.predictions import read_prediction_records, write_predictions
    from speechbert.errors import ConfigError

    if not 0.0 <= args.weight <= 1.0:
        raise ConfigError(f"--weight must be in [0, 1], got {args.weight}")
    if args.nbest < 1:
        raise ConfigError(f"--nbest must be at least 1, got {args.nbest}")
    e2e = read_prediction_records(args.e2e)
    cascade = read_prediction_records(args.cascade)
    records = ensemble_records(e2e, cascade, args.weight, nbest=args.nbest, e2e_temperature=args.e2e_temperature,
                               cascade_temperature=args.cascade_temperature)
    n = write_predictions(args.out, records)
    only_e2e = sum(1 for q in e2e if q not in cascade)
    only_cascade = sum(1 for q in cascade if q not in e2e)
    from_e2e = sum(1 for r in records if r["system"] == "e2e")
    logging.info("wrote %d predictions to %s (weight %.2f): answer from the e2e list for %d, from the cascade "
                 "list for %d; %d questions only in e2e, %d only in the cascade", n, args.out, args.weight,
                 from_e2e, n - from_e2e, only_e2e, only_cascade)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
