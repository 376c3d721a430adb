"""Add answer word spans and passage-time spans to ``data/<set>/questions.jsonl`` from a word CTM.

    python -m speechbert.bin.answer_spans --data data/test --ctm exp/align/test/word.ctm

The file is rewritten atomically with ``answer_word_spans`` and ``answer_time_spans`` (passage
time: utterance offsets from ``utt2dur``, ``doc/design.md``). Answers in utterances absent from
the CTM get ``null``; they are counted in the log and listed in ``--unaligned_out``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    a = parser.add_argument
    a("--data", required=True, help="data dir (text, contexts, utt2dur, questions.jsonl)")
    a("--ctm", required=True, help="word CTM of the data dir's utterances")
    a("--unaligned_out", default=None,
      help="list '<question id> <answer index> <why>' of answers without a time span "
           "(default: answer_spans.unaligned beside the CTM)")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.align.answer_spans import add_answer_spans
    from speechbert.align.import_ctm import import_ctm
    from speechbert.io.atomic import atomic_open
    from speechbert.io.sqa_data import load_sqa_set, write_questions

    sqa = load_sqa_set(args.data)
    ctm = import_ctm(args.ctm, args.data)
    res = add_answer_spans(sqa, ctm)
    unaligned_out = (Path(args.unaligned_out) if args.unaligned_out
                     else Path(args.ctm).parent / "answer_spans.unaligned")
    with atomic_open(unaligned_out) as f:
        for qid, k, why in res.unaligned:
            f.write(f"{qid} {k} {why}\n")
    write_questions(Path(args.data) / "questions.jsonl", res.questions)
    logging.info("%s: %d questions, %d answers; %d answers without a time span (listed in %s)",
                 Path(args.data) / "questions.jsonl", len(res.questions), res.answers,
                 len(res.unaligned), unaligned_out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
