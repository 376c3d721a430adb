"""Train the character CTC aligner with the project trainer, then calibrate its word boundaries.

    python -m speechbert.bin.align_train --config conf/ctc_aligner.yaml \
        --train_data data/train --train_dump dump/train \
        --valid_data data/dev --valid_dump dump/dev --cmvn dump/train/cmvn.ark \
        --output_dir exp/align_model

Training resumes from ``<output_dir>/checkpoint.pt``. Afterwards the word-boundary rule is
estimated against ``oracle.ctm`` of the validation set (else the training set) and the model
directory gets ``aligner.yaml``, ``aligner.pt`` and ``cmvn.ark`` (``speechbert.align.aligner``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from speechbert.align.aligner import Aligner, save_aligner
from speechbert.align.calibrate import calibrate
from speechbert.align.data import FeatureSource
from speechbert.io.dump_dir import read_frame_shift
from speechbert.align.forced import BoundaryRule
from speechbert.align.task import AlignTask
from speechbert.align.vocab import CharVocab
from speechbert.audio.cmvn import GlobalCMVN
from speechbert.bin.cli import ArgumentParser, run_main
from speechbert.errors import ConfigError
from speechbert.io.ctm import read_ctm
from speechbert.io.kaldi_table import read_table


def get_parser() -> ArgumentParser:
    parser = AlignTask.get_parser()
    parser.description = __doc__.split("\n\n")[0]
    parser.prog = "align_train"
    return parser


def finalize(args: argparse.Namespace) -> Path:
    """Write the aligner files into the trained run's output directory; returns it."""
    out = Path(args.output_dir)
    candidates = ["model.avg.pt"] + sorted(p.name for p in out.glob("*.best"))
    weights = next((c for c in candidates if (out / c).is_file()), None)
    if weights is None:
        raise ConfigError(f"{out}: training left no model.avg.pt or *.best to take the aligner from")
    model, _ = AlignTask.load_from_exp(out, file=weights)
    cmvn = GlobalCMVN.load(args.cmvn) if args.cmvn else None
    feats_type_path = Path(args.train_dump) / "feats_type"
    feats_type = feats_type_path.read_text().strip() if feats_type_path.is_file() else ""
    aligner = Aligner(model, CharVocab(), read_frame_shift(args.train_dump), BoundaryRule(),
                      cmvn, feats_type)
    for data, dump in ((args.valid_data, args.valid_dump), (args.train_data, args.train_dump)):
        if data and dump and (Path(data) / "oracle.ctm").is_file():
            logging.info("estimating the word-boundary rule on %s/oracle.ctm", data)
            calibrate(aligner, read_table(Path(data) / "text", allow_empty_value=True),
                      FeatureSource(dump, cmvn), read_ctm(Path(data) / "oracle.ctm"), args.rule_utts,
                      args.rule_min_count)
            break
    else:
        logging.warning("no oracle.ctm in %s or %s: word times use the default rule %s "
                        "(start = end of the preceding '|', no offset)", args.valid_data,
                        args.train_data, aligner.rule)
    save_aligner(out, model, aligner.vocab, aligner.frame_shift, aligner.rule, args.cmvn, feats_type,
                 extra={"weights_from": weights})
    logging.info("aligner written to %s (rule: %s)", out, aligner.rule)
    return out


def run(args: argparse.Namespace) -> int:
    if not args.input_dim:
        args.input_dim = FeatureSource(args.train_dump, None).dim()
    AlignTask.run(args)
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, one process writes the aligner
        finalize(args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
