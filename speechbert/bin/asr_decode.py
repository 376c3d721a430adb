"""Greedy CTC decoding with the aligner as a small ASR: transcripts and ASR word times.

    python -m speechbert.bin.asr_decode --model_dir exp/align_model --data data/test \
        --dump dump/test --out_dir exp/asr_ctc/test

Writes ``<out_dir>/text`` (Kaldi table; an empty hypothesis is a line with the key only),
``<out_dir>/word.ctm`` (hypothesis words timed by forcing them through the same CTC path rules
as the aligner) and, when ``data/text`` has references, ``<out_dir>/wer.txt``.
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
    a("--model_dir", required=True, help="aligner model dir")
    a("--data", required=True, help="data dir (text for WER)")
    a("--dump", required=True, help="features dir with feats.scp")
    a("--out_dir", required=True, help="where text, word.ctm and wer.txt go")
    a("--num_threads", type=int, default=1, help="torch threads")
    return parser


def run(args: argparse.Namespace) -> int:
    import torch

    from speechbert.align.align_dir import align_dir
    from speechbert.align.aligner import load_aligner
    from speechbert.align.data import FeatureSource
    from speechbert.align.import_ctm import read_utt2dur
    from speechbert.io.atomic import atomic_open
    from speechbert.io.ctm import write_ctm
    from speechbert.io.kaldi_table import read_table, write_table
    from speechbert.metrics.wer import corpus_wer

    torch.set_num_threads(args.num_threads)
    aligner = load_aligner(args.model_dir)
    source = FeatureSource(args.dump, aligner.cmvn)
    text = read_table(Path(args.data) / "text", allow_empty_value=True)
    utts = [u for u in text if u in source]
    res = align_dir(aligner, text, source, utts, read_utt2dur(args.data), asr=True)
    out = Path(args.out_dir)
    write_table(out / "text", res.hyps)
    write_ctm(out / "word.ctm", res.ctm)
    wer = corpus_wer(text, res.hyps, keys=utts)
    line = (f"WER {wer.wer:.2f}% ({wer.errors} errors / {wer.ref_words} words, "
            f"{wer.utterances} utterances)")
    with atomic_open(out / "wer.txt") as f:
        f.write(line + "\n")
    logging.info("%s: %d hypotheses; %s; %s", out, len(res.hyps), line, res.summary())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
