"""Pack a trained end-to-end model into one archive that answers questions on new audio.

    python -m speechbert.bin.pack_model --exp_dir exp/finetune --out model.zip [--results RESULTS.md] \\
        [--aligner_dir exp/ctc_aligner] [--model_file model.avg.pt]
    python -m speechbert.bin.answer --model_pack model.zip --audio passage.wav --question "..."

The archive holds the model, the CTC aligner and its boundary rule, the training CMVN, the
tokenizer vocabulary, the recorded input settings, the BERT config, ``meta.yaml`` (versions, git
commit, training data, results, SHA-256 of every file) and a ``README.md`` model card. Its layout
is described in doc/model_pack.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    a = parser.add_argument
    a("--exp_dir", required=True, help="end-to-end fine-tuning experiment (exp/finetune)")
    a("--out", required=True, help="the archive to write (model.zip); written atomically")
    a("--aligner_dir", default=None,
      help="the CTC aligner the model's alignments came from (default: <exp_dir>/../ctc_aligner)")
    a("--model_file", default="model.avg.pt", help="model file inside --exp_dir")
    a("--results", default=None, help="RESULTS.md to store in the archive and summarise in meta.yaml")
    a("--results_system", default="end-to-end", help="the system name of this model in --results")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.pack.model_pack import pack_model

    summary = pack_model(args.exp_dir, args.out, aligner_dir=args.aligner_dir, results=args.results,
                         model_file=args.model_file, results_system=args.results_system)
    print(f"packed {args.exp_dir} into {summary.path} ({len(summary.members) + 1} files, "
          f"{summary.size / 1e6:.1f} MB)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
