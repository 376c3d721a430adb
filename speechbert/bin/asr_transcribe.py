"""Recognise the utterances of a data set: ASR transcript, ASR word times and the WER.

    python -m speechbert.bin.asr_transcribe --asr ctc|corpus|pocketsphinx --data data/test \\
        --dump dump/test --cmvn dump/train/cmvn.ark --model_dir exp/ctc_aligner --out_dir exp/asr_ctc/test
    # one job of a split run, then the merge
    python -m speechbert.bin.asr_transcribe --asr ctc ... --nj 4 --job 2 --out_dir exp/asr_ctc/test/split4/2
    python -m speechbert.bin.asr_transcribe --data data/test --out_dir exp/asr_ctc/test \\
        --merge exp/asr_ctc/test/split4/{1,2,3,4}

Writes ``<out_dir>/text`` (normalized words; an utterance with no recognised word has no line),
``<out_dir>/word.ctm`` (utterance-relative word times) and ``<out_dir>/wer.txt`` (WER against
``data/<set>/text``). ``ctc`` and ``corpus`` need the trained aligner (``--model_dir``) and the
features (``--dump``); ``pocketsphinx`` reads ``wav.scp`` and ignores them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.asr import ASR_KINDS
from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main
from speechbert.errors import ConfigError


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    a = parser.add_argument
    a("--asr", default=None, choices=list(ASR_KINDS),
      help="ctc: the CTC aligner as a greedy ASR; corpus: data/<set>/text.asr timed by the aligner; "
           "pocketsphinx: CMU PocketSphinx en-us")
    a("--data", required=True, help="data directory (text for the WER; wav.scp for pocketsphinx; text.asr for corpus)")
    a("--out_dir", required=True, help="where text, word.ctm and wer.txt go")
    a("--dump", default=None, help="feature directory with feats.scp (ctc, corpus)")
    a("--cmvn", default=None, help="training CMVN stats (default: the aligner's copy) (ctc, corpus)")
    a("--model_dir", default=None, help="trained CTC aligner directory, e.g. exp/ctc_aligner (ctc, corpus)")
    a("--nj", type=int, default=1, help="number of jobs the utterances are split into")
    a("--job", type=int, default=1, help="which job (1-based) this run is")
    a("--merge", nargs="+", default=None,
      help="merge these job output directories (of jobs 1..N, in order) into --out_dir (no recognition); "
           "each must hold its job's finished output")
    a("--num_threads", type=int, default=1, help="torch threads")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.asr.transcript import merge_transcripts, write_transcript
    from speechbert.io.kaldi_table import read_table

    refs = read_table(Path(args.data) / "text", allow_empty_value=True)
    if args.merge:
        from speechbert.asr.merge_jobs import check_job_dirs

        check_job_dirs(args.merge, list(refs))  # every job finished, each utterance in one job
        merged = merge_transcripts(args.merge)
        write_transcript(args.out_dir, merged, refs)
        logging.info("merged %d job directories into %s", len(args.merge), args.out_dir)
        return 0
    if args.asr is None:
        raise ConfigError("--asr is required (ctc, corpus or pocketsphinx) unless --merge is given")
    from speechbert.align.align_dir import job_slice

    utts = job_slice(list(refs), args.nj, args.job)
    transcript = _recognize(args, utts)
    logging.info("%s (%s): %s", args.out_dir, args.asr, transcript.summary())
    write_transcript(args.out_dir, transcript, refs, keys=utts)
    return 0


def _recognize(args: argparse.Namespace, utts: list[str]):  # -> Transcript
    if args.asr == "pocketsphinx":
        from speechbert.asr.pocketsphinx_asr import transcribe_pocketsphinx

        return transcribe_pocketsphinx(args.data, utts)
    if not args.model_dir or not args.dump:
        raise ConfigError(f"--asr {args.asr} needs the trained aligner (--model_dir) and the features (--dump); "
                          "the aligner is trained in stage 3")
    import torch

    from speechbert.align.aligner import check_aligner_features, load_aligner
    from speechbert.align.data import FeatureSource
    from speechbert.io.sqa_data import read_utt2dur

    torch.set_num_threads(args.num_threads)
    aligner = load_aligner(args.model_dir)
    check_aligner_features(aligner, args.model_dir, args.dump)
    source = FeatureSource(args.dump, args.cmvn if args.cmvn else aligner.cmvn)
    utt2dur = read_utt2dur(args.data, required=False)
    if args.asr == "ctc":
        from speechbert.asr.ctc import transcribe_ctc

        return transcribe_ctc(aligner, source, utts, utt2dur)
    from speechbert.asr.corpus import read_corpus_asr, transcribe_corpus

    return transcribe_corpus(read_corpus_asr(args.data), aligner, source, utts, utt2dur)


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
