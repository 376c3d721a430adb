"""Compute fbank or MFCC features for a wav.scp (optionally with segments) into ark/scp.

Example (one job of steps/make_feats.sh):

    python -m speechbert.bin.compute_feats --config conf/fbank.yaml \\
        --wav_scp dump/train/split4/wav.1.scp \\
        --out_ark "$PWD/dump/train/feats.1.ark" --out_scp dump/train/feats.1.scp \\
        --out_utt2num_frames dump/train/utt2num_frames.1

    python -m speechbert.bin.compute_feats --config conf/fbank.yaml --out_info_dir dump/train
        # only writes dump/train/feats_type and dump/train/frame_shift for this config
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from speechbert.audio.extract import extract_to_ark
from speechbert.audio.features import FEATS_TYPES, WINDOW_TYPES, FeatureConfig, FeatureExtractor
from speechbert.audio.wav_io import WavSource
from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main, str2bool
from speechbert.errors import ConfigError
from speechbert.io.atomic import atomic_open


def get_parser() -> ArgumentParser:
    """Build the command-line parser (option names = YAML config keys)."""
    parser = get_base_parser("Compute Kaldi-compatible fbank/MFCC features into ark,scp.",
                             prog="compute_feats")
    io = parser.add_argument_group("input/output")
    io.add_argument("--wav_scp", help="Kaldi wav.scp (paths or 'cmd |' entries)")
    io.add_argument("--segments", default=None, help="optional Kaldi segments file (keys = output ids)")
    io.add_argument("--out_ark", help="output archive; the scp names this path as given")
    io.add_argument("--out_scp", help="output scp")
    io.add_argument("--out_utt2num_frames", default=None, help="optional output utt2num_frames")
    io.add_argument("--out_info_dir", default=None,
                    help="only write <dir>/feats_type and <dir>/frame_shift for this config, then exit")
    io.add_argument("--channel", type=int, default=None,
                    help="0-based channel to keep from multi-channel audio (default: multi-channel is an error)")
    io.add_argument("--skip_bad_utts", type=str2bool, default=False,
                    help="skip (and count) unreadable/empty/too short utterances instead of failing")

    d = FeatureConfig()
    feats = parser.add_argument_group("features")
    feats.add_argument("--feats_type", choices=FEATS_TYPES, default=d.feats_type)
    feats.add_argument("--sample_rate", type=int, default=d.sample_rate,
                       help="audio at another rate is resampled to this")
    feats.add_argument("--num_mel_bins", type=int, default=d.num_mel_bins)
    feats.add_argument("--num_ceps", type=int, default=d.num_ceps, help="MFCC only")
    feats.add_argument("--use_deltas", type=str2bool, default=d.use_deltas,
                       help="append deltas + delta-deltas (default: yes for mfcc, no for fbank)")
    feats.add_argument("--frame_length", type=float, default=d.frame_length, help="window, milliseconds")
    feats.add_argument("--frame_shift", type=float, default=d.frame_shift, help="shift, milliseconds")
    feats.add_argument("--dither", type=float, default=d.dither, help="0 = reproducible")
    feats.add_argument("--preemphasis_coefficient", type=float, default=d.preemphasis_coefficient)
    feats.add_argument("--window_type", choices=WINDOW_TYPES, default=d.window_type)
    feats.add_argument("--low_freq", type=float, default=d.low_freq)
    feats.add_argument("--high_freq", type=float, default=d.high_freq, help="<= 0: offset from Nyquist")
    feats.add_argument("--use_energy", type=str2bool, default=d.use_energy)
    feats.add_argument("--cepstral_lifter", type=float, default=d.cepstral_lifter, help="MFCC only")
    return parser


def feature_config_from_args(args: argparse.Namespace) -> FeatureConfig:
    """The :class:`FeatureConfig` named by parsed arguments."""
    return FeatureConfig(**{name: getattr(args, name) for name in FeatureConfig.option_names()})


def write_info(config: FeatureConfig, out_dir: str) -> None:
    """Write ``feats_type`` and ``frame_shift`` files describing ``config``."""
    with atomic_open(f"{out_dir}/feats_type") as f:
        f.write(config.feats_type_line + "\n")
    with atomic_open(f"{out_dir}/frame_shift") as f:
        f.write(f"{config.frame_shift_seconds:g}\n")


def run(args: argparse.Namespace) -> int:
    """Validate the arguments and run one extraction job."""
    import torch

    torch.set_num_threads(1)  # one job per core; the parallelism is in --nj
    config = feature_config_from_args(args)
    if args.out_info_dir is not None:
        write_info(config, args.out_info_dir)
        return 0
    missing = [f"--{n}" for n in ("wav_scp", "out_ark", "out_scp") if getattr(args, n) is None]
    if missing:
        raise ConfigError(f"missing required option(s): {' '.join(missing)}")
    logging.info("features: %s", config.to_dict())
    source = WavSource(args.wav_scp, args.segments, channel=args.channel, sample_rate=config.sample_rate)
    summary = extract_to_ark(source, FeatureExtractor(config), args.out_ark, args.out_scp,
                             args.out_utt2num_frames, skip_bad_utts=args.skip_bad_utts)
    logging.info("wrote %d utterances (%d frames, %s) to %s; resampled %d; skipped %d%s",
                 summary.num_done, summary.num_frames, config.feats_type_line, args.out_scp,
                 summary.num_resampled, len(summary.skipped),
                 f" ({', '.join(summary.skipped[:5])}{', ...' if len(summary.skipped) > 5 else ''})"
                 if summary.skipped else "")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m speechbert.bin.compute_feats``."""
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
