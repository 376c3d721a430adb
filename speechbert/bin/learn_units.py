"""Learn a discrete-unit codebook: k-means over the frames of a (self-supervised) feature dump.

Example (the training set's SSL features, 100 units):

    python -m speechbert.bin.learn_units --feats_scp dump/hubert_l6/train/feats.scp \\
        --num_units 100 --max_frames 200000 --seed 1 --out exp/units_100/codebook.npz

The facts of the dump (``feats_type``, ``frame_shift``, ``conf/*.yaml``) are read from the
directory of ``--feats_scp`` and stored in the codebook; ``dump_units`` checks them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main, str2bool
from speechbert.errors import ConfigError
from speechbert.io.dump_dir import read_dump_facts
from speechbert.io.feats import FeatsReader
from speechbert.units.codebook import Codebook, normalization_stats
from speechbert.units.kmeans import KMeansConfig, fit_kmeans
from speechbert.units.sampling import sample_frames


def get_parser() -> ArgumentParser:
    """Build the command-line parser (option names = YAML config keys)."""
    parser = get_base_parser("Learn a discrete-unit codebook (k-means) from the frames of a feature dump.",
                             prog="learn_units")
    parser.add_argument("--feats_scp", required=True,
                        help="features to cluster, e.g. dump/<set>/feats.scp (its directory's feats_type, "
                             "frame_shift and conf/ are recorded in the codebook)")
    parser.add_argument("--out", required=True, help="output codebook (.npz)")
    parser.add_argument("--num_units", type=int, default=100, help="number of units K (k-means clusters)")
    parser.add_argument("--max_frames", type=int, default=200000,
                        help="at most this many frames, drawn at random (seeded) from all utterances")
    parser.add_argument("--batch_size", type=int, default=10000, help="frames per mini-batch update")
    parser.add_argument("--max_iter", type=int, default=100, help="at most this many epochs over the frames")
    parser.add_argument("--tol", type=float, default=1e-4,
                        help="stop when an epoch improves the inertia by less than this fraction")
    parser.add_argument("--init_size", type=int, default=None,
                        help="frames for the k-means++ initialisation (None: max(3*batch_size, 3*num_units))")
    parser.add_argument("--n_init", type=int, default=3,
                        help="k-means++ runs; the one of lowest inertia on the initialisation frames is kept")
    parser.add_argument("--normalize", type=str2bool, default=False,
                        help="normalise each dimension to zero mean, unit variance (statistics of the sampled "
                             "frames, stored in the codebook) before clustering and assignment")
    return parser


def run(args: argparse.Namespace) -> int:
    """Sample, normalise, cluster and write the codebook."""
    config = KMeansConfig(num_units=args.num_units, batch_size=args.batch_size, max_iter=args.max_iter,
                          tol=args.tol, init_size=args.init_size, n_init=args.n_init, seed=args.seed)
    if args.max_frames < config.num_units:
        raise ConfigError(f"--max_frames {args.max_frames} is less than --num_units {config.num_units}")
    if Path(args.out).is_dir():
        raise ConfigError(f"--out {args.out} is a directory; name the codebook file (e.g. {args.out}/codebook.npz)")
    facts = read_dump_facts(Path(args.feats_scp).parent)
    with FeatsReader(args.feats_scp) as reader:
        sample = sample_frames(reader, args.max_frames, args.seed)
    frames = sample.frames
    if len(frames) < config.num_units:
        raise ConfigError(f"--num_units {config.num_units} is more than the {len(frames)} frames of "
                          f"{args.feats_scp}")
    mean = std = None
    if args.normalize:
        mean, std = normalization_stats(frames)
        frames = (frames - mean) / std
    result = fit_kmeans(frames, config)
    info = {  # the source dump's facts (dump_units checks them), then how the codebook was made
        "feats_scp": str(args.feats_scp), "feats_type": facts["feats_type"], "frame_shift": facts["frame_shift"],
        "feats_config": facts["feats_config"], "feats_config_file": facts["feats_config_file"],
        "seed": args.seed, "max_frames": args.max_frames, "batch_size": config.batch_size,
        "max_iter": config.max_iter, "tol": config.tol, "init_size": config.init_size, "n_init": config.n_init,
        "frames_sampled": len(frames), "utts_sampled": sample.num_utts, "total_frames": sample.total_frames,
        "total_utts": sample.total_utts, "epochs": result.num_epochs, "converged": result.converged,
        "inertia": result.inertia, "num_reseeded": result.num_reseeded}
    codebook = Codebook(centroids=result.centroids, mean=mean, std=std, info=info)
    codebook.save(args.out)
    logging.info("wrote %d units of %d-dim %s features to %s: %d epochs (%s), inertia %.6g per frame, "
                 "%d re-seeded", codebook.num_units, codebook.dim, facts["feats_type"] or "(unknown type)",
                 args.out, result.num_epochs, "converged" if result.converged else "stopped at --max_iter",
                 result.inertia[-1], result.num_reseeded)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m speechbert.bin.learn_units``."""
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
