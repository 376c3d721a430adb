"""Word alignment of a data directory into a word CTM (``<utt> 1 <start> <dur> <word> <conf>``).

    # forced alignment with the trained CTC aligner (optionally one job of a split run)
    python -m speechbert.bin.align --model_dir exp/align_model --data data/test \
        --dump dump/test --out_ctm exp/align/test/word.ctm [--nj N --job J]
    # bring your own alignment (MFA, Kaldi, ...), checked against the data dir
    python -m speechbert.bin.align --alignment ctm --ctm mfa.ctm --data data/test --out_ctm ...
    # the synthesizer's word times, data/<set>/oracle.ctm
    python -m speechbert.bin.align --alignment oracle --data data/test --out_ctm ...

Utterances that cannot be aligned (empty transcript, audio too short for the transcript, no
features) are left out of the CTM, counted in the log and listed in ``--skipped_out``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main
from speechbert.errors import ConfigError


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    a = parser.add_argument
    a("--alignment", default="ctc", choices=["ctc", "ctm", "oracle"],
      help="ctc: the trained aligner; ctm: validate and take --ctm; oracle: data/<set>/oracle.ctm")
    a("--data", required=True, help="data dir (text, utt2dur)")
    a("--out_ctm", required=True, help="word CTM to write")
    a("--model_dir", default=None, help="aligner model dir (ctc)")
    a("--dump", default=None, help="features dir with feats.scp (ctc)")
    a("--ctm", default=None, help="CTM to import (ctm)")
    a("--nj", type=int, default=1, help="number of jobs the utterances are split into (ctc)")
    a("--job", type=int, default=1, help="which job (1-based) this run is (ctc)")
    a("--utt_list", default=None, help="align only the utterances listed (first field of each line)")
    a("--skipped_out", default=None, help="write '<utt> <reason> <message>' for each skipped utterance")
    a("--num_threads", type=int, default=1, help="torch threads")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.io.ctm import write_ctm

    if args.alignment in ("ctm", "oracle"):
        from speechbert.align.import_ctm import import_ctm

        src = args.ctm if args.alignment == "ctm" else str(Path(args.data) / "oracle.ctm")
        if not src:
            raise ConfigError("--alignment ctm needs --ctm <file>")
        ctm = import_ctm(src, args.data)
        n = write_ctm(args.out_ctm, ctm)
        logging.info("%s: %d words of %d utterances from %s", args.out_ctm, n, len(ctm), src)
        return 0
    if not args.model_dir or not args.dump:
        raise ConfigError("--alignment ctc needs --model_dir and --dump")

    import torch

    from speechbert.align.align_dir import align_dir, job_slice
    from speechbert.align.aligner import check_aligner_features, load_aligner
    from speechbert.align.data import FeatureSource
    from speechbert.io.sqa_data import read_utt2dur
    from speechbert.io.atomic import atomic_open
    from speechbert.io.kaldi_table import read_table

    torch.set_num_threads(args.num_threads)
    aligner = load_aligner(args.model_dir)
    text = read_table(Path(args.data) / "text", allow_empty_value=True)
    utts = list(text)
    if args.utt_list:
        wanted = {line.split()[0] for line in Path(args.utt_list).read_text(encoding="utf-8").splitlines()
                  if line.strip()}
        utts = [u for u in utts if u in wanted]
    utts = job_slice(utts, args.nj, args.job)
    check_aligner_features(aligner, args.model_dir, args.dump)
    source = FeatureSource(args.dump, aligner.cmvn)
    res = align_dir(aligner, text, source, utts, read_utt2dur(args.data, required=False))
    if args.skipped_out:
        with atomic_open(args.skipped_out) as f:
            for reason, items in sorted(res.skipped.items()):
                for utt, message in items:
                    f.write(f"{utt} {reason} {message}\n")
    n = write_ctm(args.out_ctm, res.ctm)
    logging.info("%s: %d words; %s", args.out_ctm, n, res.summary())
    if not res.ctm and utts:
        logging.warning("none of the %d utterances could be aligned", len(utts))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
