"""Compute features (fbank, MFCC, SSL, any registered frontend) for a wav.scp into ark/scp.

Example (one job of steps/make_feats.sh):

    python -m speechbert.bin.compute_feats --config conf/fbank.yaml \\
        --wav_scp dump/train/split4/wav.1.scp \\
        --out_ark "$PWD/dump/train/feats.1.ark" --out_scp dump/train/feats.1.scp \\
        --out_utt2num_frames dump/train/utt2num_frames.1

    python -m speechbert.bin.compute_feats --config conf/fbank.yaml --out_info_dir dump/train
        # only writes dump/train/feats_type and dump/train/frame_shift for this config

    python -m speechbert.bin.compute_feats --frontend ssl \\
        --frontend_conf '{family: hubert, checkpoint: /models/hubert_base.pt, layer: 9}' --ngpu 1 ...

The frontend options come from the frontends' config dataclasses (``--help`` lists them). The
older flat options (``--feats_type fbank --num_mel_bins 80 ...``, the keys of old YAML configs)
are still read and give the same features.
"""

from __future__ import annotations

import argparse
import logging
import sys
import typing
from typing import Any, Sequence

from speechbert.audio.extract import extract_to_ark
from speechbert.audio.features import FEATS_TYPES, FeatureConfig
from speechbert.audio.frontends import FRONTENDS, Frontend
from speechbert.audio.frontends.spec import LEGACY_KEYS, frontend_spec
from speechbert.audio.wav_io import WavSource
from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main, str2bool
from speechbert.errors import ConfigError
from speechbert.io.dump_dir import write_feature_info


def get_parser() -> ArgumentParser:
    """Build the command-line parser (option names = YAML config keys)."""
    parser = get_base_parser("Compute features of a registered frontend (fbank, mfcc, ssl, ...) into ark,scp.",
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
    io.add_argument("--ngpu", type=int, default=0, choices=[0, 1],
                    help="1: run a neural frontend (ssl) on cuda:0 (bf16 autocast); 0: CPU, float32")
    FRONTENDS.add_arguments(parser, default="fbank", group_title="features")
    add_legacy_arguments(parser)
    return parser


def add_legacy_arguments(parser: ArgumentParser) -> None:
    """The flat options of the first version (its YAML keys; types from ``FeatureConfig``): read,
    not advertised, default ``None`` = not given."""
    hints = typing.get_type_hints(FeatureConfig)
    for name in LEGACY_KEYS:
        kw: dict[str, Any] = {"default": None, "help": argparse.SUPPRESS}
        tp = hints[name]
        if name == "feats_type":
            kw["choices"] = FEATS_TYPES
        elif tp in (bool, bool | None):
            kw["type"] = str2bool
        elif tp in (int, float):
            kw["type"] = tp
        parser.add_argument(f"--{name}", **kw)


def frontend_spec_from_args(args: argparse.Namespace) -> tuple[str, Any]:
    """``(frontend name, validated config)`` of parsed arguments, new or old (flat) options."""
    legacy = {name: getattr(args, name) for name in LEGACY_KEYS if getattr(args, name, None) is not None}
    if not legacy:
        return args.frontend, FRONTENDS.make_conf(args.frontend, args.frontend_conf)
    if args.frontend_conf:
        raise ConfigError(f"--{next(iter(legacy))} is an option of the old flat form: with --frontend_conf, "
                          "give every feature option there")
    name, conf = frontend_spec(legacy)
    if args.frontend not in (name, "fbank"):  # fbank: the default, i.e. not chosen
        raise ConfigError(f"--frontend {args.frontend} contradicts --feats_type {name}")
    return name, conf


def build_frontend(args: argparse.Namespace) -> Frontend:
    """The frontend of parsed arguments, on the device ``--ngpu`` names."""
    name, conf = frontend_spec_from_args(args)
    device = "cpu"
    if args.ngpu > 0:
        import torch

        if not torch.cuda.is_available():
            raise ConfigError("--ngpu 1 but no CUDA device is available")
        device = "cuda:0"
    return FRONTENDS.build(name, conf, device=device)


def write_info(frontend: Frontend, out_dir: str) -> None:
    """Write ``feats_type`` and ``frame_shift`` files describing ``frontend``."""
    write_feature_info(out_dir, frontend.feats_type_line, frontend.frame_shift)


def run(args: argparse.Namespace) -> int:
    """Validate the arguments and run one extraction job."""
    import torch

    torch.set_num_threads(1)  # one job per core; the parallelism is in --nj
    frontend = build_frontend(args)  # also validates an SSL checkpoint before any job starts
    if args.out_info_dir is not None:
        write_info(frontend, args.out_info_dir)
        return 0
    missing = [f"--{n}" for n in ("wav_scp", "out_ark", "out_scp") if getattr(args, n) is None]
    if missing:
        raise ConfigError(f"missing required option(s): {' '.join(missing)}")
    logging.info("features: %s", frontend.to_dict())
    source = WavSource(args.wav_scp, args.segments, channel=args.channel, sample_rate=frontend.sample_rate)
    summary = extract_to_ark(source, frontend, args.out_ark, args.out_scp,
                             args.out_utt2num_frames, skip_bad_utts=args.skip_bad_utts)
    logging.info("wrote %d utterances (%d frames, %s) to %s; resampled %d; skipped %d%s",
                 summary.num_done, summary.num_frames, frontend.feats_type_line, args.out_scp,
                 summary.num_resampled, len(summary.skipped),
                 f" ({', '.join(summary.skipped[:5])}{', ...' if len(summary.skipped) > 5 else ''})"
                 if summary.skipped else "")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m speechbert.bin.compute_feats``."""
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
