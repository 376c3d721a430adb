"""Speak a SQuAD-format JSON with eSpeak NG into the Spoken SQuAD release layout.

One job (the default, ``--nj 1``) synthesizes everything and writes the final files. With
``--nj N`` run ``--job J`` for J = 1..N (e.g. ``$train_cmd JOB=1:N ... --job JOB``), then once
with ``--merge true`` to check the parts and write the spoken JSON, the word times and
``dropped_<split>.tsv`` (the questions left out, with the reason). The result is
byte-identical for any ``--nj`` and from run to run (same options, same machine).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from speechbert.bin.cli import get_base_parser, run_main, str2bool
from speechbert.errors import ConfigError
from speechbert.synth.spoken_squad_synth import SynthOptions, merge_jobs, synthesize_job
from speechbert.synth.tts import DEFAULT_VOICES
from speechbert.text.sentences import RELEASE_SPLIT_METHOD, SPLIT_METHODS


def _int_range(value: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'low,high' integers, got {value!r}") from None
    if lo > hi:
        raise argparse.ArgumentTypeError(f"low > high in {value!r}")
    return lo, hi


def get_parser() -> argparse.ArgumentParser:
    parser = get_base_parser(__doc__.splitlines()[0], prog="synthesize_squad")
    parser.add_argument("--squad_json", required=True, help="input SQuAD-format JSON")
    parser.add_argument("--out_dir", required=True, help="output directory (Spoken SQuAD layout)")
    parser.add_argument("--split", required=True, choices=["train", "test"],
                        help="split name used in wav/<split>/ and spoken_<split>-v1.1.json")
    parser.add_argument("--nj", type=int, default=1, help="number of synthesis jobs")
    parser.add_argument("--job", type=int, default=None,
                        help="this job's number (1..nj); omit with --nj 1 to synthesize and merge")
    parser.add_argument("--merge", type=str2bool, default=False,
                        help="only check the --nj job parts and write the final files")
    parser.add_argument("--voices", default=",".join(DEFAULT_VOICES),
                        help="comma-separated eSpeak voices (language[+variant]) to draw speakers from")
    parser.add_argument("--rate_range", type=_int_range, default=(150, 200),
                        help="speaking rate range in words per minute, 'low,high'")
    parser.add_argument("--pitch_range", type=_int_range, default=(35, 65), help="pitch range (0-100), 'low,high'")
    parser.add_argument("--noise_level", type=float, default=3e-3,
                        help="std of added Gaussian noise relative to full scale (0: none)")
    parser.add_argument("--split_method", choices=SPLIT_METHODS, default=RELEASE_SPLIT_METHOD,
                        help="sentence splitter (one wav per sentence); the default is the Spoken SQuAD "
                             "release's plain '. ' split")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    return run_main(_run, parser, argv)


def _run(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(1)
    if args.nj < 1:
        raise ConfigError(f"--nj must be >= 1, got {args.nj}")
    voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    if not voices:
        raise ConfigError("--voices is empty")
    opts = SynthOptions(voices=voices, rate_range=args.rate_range, pitch_range=args.pitch_range,
                        noise_level=args.noise_level, seed=args.seed, split_method=args.split_method)
    if args.merge:
        merge_jobs(args.squad_json, args.out_dir, args.split, opts, args.nj)
        return 0
    if args.job is None:
        if args.nj != 1:
            raise ConfigError("--job is required with --nj > 1 (or pass --merge true)")
        synthesize_job(args.squad_json, args.out_dir, args.split, opts, 1, 1)
        merge_jobs(args.squad_json, args.out_dir, args.split, opts, 1)
        return 0
    if not 1 <= args.job <= args.nj:
        raise ConfigError(f"--job {args.job} is not in 1..{args.nj}")
    synthesize_job(args.squad_json, args.out_dir, args.split, opts, args.nj, args.job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
