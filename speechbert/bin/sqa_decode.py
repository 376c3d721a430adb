"""Decode a data set with the fine-tuned end-to-end SpeechBERT model: predictions.jsonl.

    python -m speechbert.bin.sqa_decode --model_dir exp/finetune --data data/test --dump dump/test \\
        --ctm exp/align/test/word.ctm --cmvn dump/train/cmvn.ark \\
        --out exp/finetune/decode_test/predictions.jsonl [--nbest 5] [--max_answer_len 30] [--ngpu 1]
    # split over passages: one job per call, then `cat predictions.*.jsonl > predictions.jsonl`
    python -m speechbert.bin.sqa_decode ... --nj 4 --job 2 --out .../predictions.2.jsonl

Each question's passage is read as audio word vectors cut by the word CTM (utterances missing from
the CTM get evenly split segments so that every question is answered); the best word spans over
the sliding windows become passage-time spans (start of the first word, end of the last word).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main
from speechbert.decode.span_qa import add_decode_arguments


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    add_decode_arguments(parser)
    a = parser.add_argument
    a("--dump", required=True, help="feature directory of the data set (feats.scp, utt2num_frames, frame_shift)")
    a("--ctm", required=True, help="word CTM of the data set (exp/align/<set>/word.ctm)")
    a("--cmvn", default=None, help="training CMVN stats (default: the one the model was trained with)")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.decode.span_qa import decode_to_file, job_questions, load_decoder
    from speechbert.errors import ConfigError
    from speechbert.io.sqa_data import read_questions
    from speechbert.tasks.word_segments import SpokenCorpus

    model, margs, opts, device = load_decoder(args, modality="audio", tool="speechbert.bin.cascade_decode")
    cmvn = args.cmvn or margs.cmvn
    if cmvn and not Path(cmvn).is_file():
        raise ConfigError(f"{cmvn}: no such CMVN stats file (the model's training CMVN; pass --cmvn)")
    questions = job_questions(read_questions(Path(args.data) / "questions.jsonl"), args.nj, args.job)
    corpus = SpokenCorpus.load(args.data, args.dump, args.ctm, cmvn, unaligned="uniform",
                               max_word_frames=int(margs.max_word_frames))
    decode_to_file(args.out, model, margs, corpus, questions, opts, "reference", device)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
