"""Decode a data set with the fine-tuned end-to-end SpeechBERT model: predictions.jsonl.

    python -m speechbert.bin.sqa_decode --model_dir exp/finetune --data data/test --dump dump/test \\
        --ctm exp/align/test/word.ctm --cmvn dump/train/cmvn.ark \\
        --out exp/finetune/decode_test/predictions.jsonl [--nbest 5] [--max_answer_len 30] [--ngpu 1]
    # job 2 of 4 (sqa.sh's inference_nj), then the merge: the bytes of a single job
    python -m speechbert.bin.sqa_decode ... --nj 4 --job 2 --out .../split4/predictions.2.jsonl \\
        --job_record .../split4/job.2.json
    python -m speechbert.bin.merge_predictions --split_dir .../split4 --nj 4 --out .../predictions.jsonl

Each question's passage is read as audio word vectors cut by the word CTM, prepared as the model's
experiment recorded at training time (``<model_dir>/inputs.yaml``: features, CMVN, frame pooling) (utterances missing from
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
    a("--cmvn", default=None,
      help="training CMVN stats (default: the one recorded in the model's inputs.yaml; a copy must have its bytes)")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.decode.span_qa import load_decoder
    from speechbert.io.sqa_data import read_questions

    decoder = load_decoder(args, modality="audio", tool="speechbert.bin.cascade_decode")
    questions = read_questions(Path(args.data) / "questions.jsonl")
    # The corpus is cut exactly as in training (frame pooling, CMVN, ...): the model's input record.
    corpus = decoder.pipeline.corpus(args.data, args.dump, args.ctm, train=False, cmvn=args.cmvn)
    decoder.decode_to_file(args.out, corpus, questions, "reference", nj=args.nj, job=args.job,
                           job_record=args.job_record)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
