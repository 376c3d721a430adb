"""Ensemble the end-to-end model and the cascade: combine their n-best time spans per question.

    python -m speechbert.bin.ensemble --e2e exp/finetune/decode_test/predictions.jsonl \\
        --cascade exp/finetune_text/decode_test_asr_ctc/predictions.jsonl \\
        --dev_e2e exp/finetune/decode_dev/predictions.jsonl \\
        --dev_cascade exp/finetune_text/decode_dev_asr_ctc/predictions.jsonl --dev_data data/dev \\
        --out exp/ensemble/decode_test/predictions.jsonl        # or a fixed --weight 0.5

Each system's n-best scores become probabilities (softmax over its n-best list); a candidate time
span scores ``w · q_e2e + (1 − w) · q_cascade`` where ``q`` is the system's best
``probability × time-overlap (IoU)`` with it; the best candidate wins (doc/answering.md). The
weight ``w`` is ``--weight``, or the one of 0, 0.05, …, 1 with the best mean FF1 on the dev set;
``<dir of --out>/ensemble_weight.json`` records it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main

WEIGHT_FILE = "ensemble_weight.json"


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    a = parser.add_argument
    a("--e2e", required=True, help="predictions.jsonl of the end-to-end model (with n-best lists)")
    a("--cascade", required=True, help="predictions.jsonl of the cascade (with n-best lists)")
    a("--weight", type=float, default=None,
      help="fixed weight of the end-to-end model in [0, 1] (cascade: 1 - weight); without it the weight is "
           "chosen on dev (--dev_e2e, --dev_cascade, --dev_data)")
    a("--dev_e2e", default=None, help="predictions.jsonl of the end-to-end model on the dev set")
    a("--dev_cascade", default=None, help="predictions.jsonl of the cascade on the dev set")
    a("--dev_data", default=None,
      help="dev data directory (questions.jsonl with answer_time_spans): the weight of the best mean dev FF1 "
           "on the grid 0, 0.05, ..., 1 is used")
    a("--out", required=True, help="predictions.jsonl to write (ensemble_weight.json goes beside it)")
    a("--nbest", type=int, default=5, help="combined spans kept per question")
    a("--e2e_temperature", type=float, default=1.0, help="softmax temperature of the end-to-end scores")
    a("--cascade_temperature", type=float, default=1.0, help="softmax temperature of the cascade scores")
    return parser


def _check_dev_records(records: Mapping[str, Mapping], questions: Mapping[str, Mapping], path: str) -> None:
    from speechbert.errors import DataError

    for qid, rec in records.items():
        q = questions.get(qid)
        if q is None:
            raise DataError(f"prediction for question {qid!r}, which is not in the dev set's questions.jsonl "
                            "(are these the dev predictions?)", path, key=qid)
        if rec.get("context_id") is not None and rec["context_id"] != q["context_id"]:
            raise DataError(f"context_id {rec['context_id']!r} does not match the dev set's {q['context_id']!r}",
                            path, key=qid)


def run(args: argparse.Namespace) -> int:
    from speechbert.decode.ensemble import choose_weight, ensemble_records
    from speechbert.decode.predictions import read_prediction_records, write_predictions
    from speechbert.errors import ConfigError
    from speechbert.io.atomic import atomic_open
    from speechbert.io.sqa_data import load_sqa_set

    dev_opts = {"--dev_e2e": args.dev_e2e, "--dev_cascade": args.dev_cascade, "--dev_data": args.dev_data}
    given = [k for k, v in dev_opts.items() if v]
    if given and len(given) != len(dev_opts):
        missing = [k for k in dev_opts if k not in given]
        raise ConfigError(f"choosing the weight on dev needs --dev_e2e, --dev_cascade and --dev_data "
                          f"together; missing {', '.join(missing)}")
    if args.weight is None and not given:
        raise ConfigError("no ensemble weight: give --weight W, or --dev_e2e, --dev_cascade and --dev_data "
                          "to choose it on the dev set")
    if args.weight is not None and not 0.0 <= args.weight <= 1.0:
        raise ConfigError(f"--weight must be in [0, 1], got {args.weight}")
    if args.nbest < 1:
        raise ConfigError(f"--nbest must be at least 1, got {args.nbest}")
    temps = {"e2e_temperature": args.e2e_temperature, "cascade_temperature": args.cascade_temperature}

    info: dict[str, Any] = {"weight": args.weight, "chosen_on": "--weight", "grid": None}
    if given:
        dev = load_sqa_set(args.dev_data, require_utt2dur=False, require_questions=True)
        if Path(args.dev_data).resolve().name.startswith("test"):
            logging.warning("choosing the ensemble weight on %s: a test set? (choices belong on dev)", args.dev_data)
        by_id = {q["id"]: q for q in dev.questions}
        dev_e2e = read_prediction_records(args.dev_e2e)
        dev_cascade = read_prediction_records(args.dev_cascade)
        _check_dev_records(dev_e2e, by_id, args.dev_e2e)
        _check_dev_records(dev_cascade, by_id, args.dev_cascade)
        choice = choose_weight(dev_e2e, dev_cascade, dev.questions, **temps)
        for w, ff1 in choice.grid:
            logging.info("dev FF1 at weight %.2f: %.2f%s", w, ff1, "  <- best" if w == choice.weight else "")
        logging.info("best dev weight %.2f (FF1 %.2f over %d dev questions)", choice.weight, choice.dev_ff1,
                     choice.questions)
        info.update({"grid": [[w, ff1] for w, ff1 in choice.grid], "dev_e2e": str(args.dev_e2e),
                     "dev_cascade": str(args.dev_cascade), "dev_questions": choice.questions})
        if args.weight is None:
            info.update({"weight": choice.weight, "chosen_on": str(args.dev_data)})
        else:
            logging.info("using the given --weight %.2f, not the dev choice %.2f", args.weight, choice.weight)
    weight = float(info["weight"])
    info["weight"] = weight

    e2e = read_prediction_records(args.e2e)
    cascade = read_prediction_records(args.cascade)
    records = ensemble_records(e2e, cascade, weight, nbest=args.nbest, **temps)
    n = write_predictions(args.out, records)
    with atomic_open(Path(args.out).parent / WEIGHT_FILE) as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    only_e2e = sum(1 for q in e2e if q not in cascade)
    only_cascade = sum(1 for q in cascade if q not in e2e)
    from_e2e = sum(1 for r in records if r["system"] == "e2e")
    logging.info("wrote %d predictions to %s (weight %.2f, chosen on %s): answer from the e2e list for %d, "
                 "from the cascade list for %d; %d questions only in e2e, %d only in the cascade", n, args.out,
                 weight, info["chosen_on"], from_e2e, n - from_e2e, only_e2e, only_cascade)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
