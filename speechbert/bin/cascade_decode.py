"""Cascade baseline: the text QA model reads the ASR transcript of each passage; its word span
becomes a time span through the ASR word times.

    python -m speechbert.bin.cascade_decode --model_dir exp/finetune_text --data data/test \\
        --asr_dir exp/asr_ctc/test --out exp/finetune_text/decode_test_asr_ctc/predictions.jsonl
    # upper bound: the reference transcript, timed by the stage-4 word CTM
    python -m speechbert.bin.cascade_decode --model_dir exp/finetune_text --data data/test \\
        --reference_text --ctm exp/align/test/word.ctm --out .../predictions.jsonl

``--asr_dir`` holds ``text`` and ``word.ctm`` from ``speechbert.bin.asr_transcribe``. The records'
``word_span`` and ``words`` refer to the ASR words of the passage (``"word_source": "asr"``), or
to the reference words with ``--reference_text``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main, str2bool
from speechbert.decode.span_qa import add_decode_arguments


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    add_decode_arguments(parser)
    a = parser.add_argument
    a("--asr_dir", default=None, help="ASR output directory (text, word.ctm)")
    a("--reference_text", type=str2bool, nargs="?", const=True, default=False,
      help="read the reference transcript instead of the ASR one (needs --ctm)")
    a("--ctm", default=None, help="word CTM of the reference transcript (with --reference_text)")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.decode.cascade import asr_corpus
    from speechbert.decode.span_qa import load_decoder
    from speechbert.errors import ConfigError
    from speechbert.io.sqa_data import read_questions

    if args.reference_text:
        if not args.ctm:
            raise ConfigError("--reference_text needs --ctm (the stage-4 word CTM of the reference text)")
        if args.asr_dir:
            raise ConfigError("give either --asr_dir or --reference_text, not both")
    elif not args.asr_dir:
        raise ConfigError("--asr_dir is required (or --reference_text with --ctm)")
    decoder = load_decoder(args, modality="text", tool="speechbert.bin.sqa_decode")
    questions = read_questions(Path(args.data) / "questions.jsonl")
    if args.reference_text:
        corpus = decoder.pipeline.corpus(args.data, None, args.ctm, train=False)
        source = "reference"
    else:
        corpus, source = asr_corpus(args.data, args.asr_dir), "asr"
    decoder.decode_to_file(args.out, corpus, questions, source, nj=args.nj, job=args.job, job_record=args.job_record)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
