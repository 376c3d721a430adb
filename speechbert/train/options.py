"""The trainer's command-line / YAML options, shared by every training task."""

from __future__ import annotations

import argparse
from pathlib import Path

from speechbert.command_line import ArgumentParser, str2bool
from speechbert.errors import ConfigError


def _int_or_none(value: str) -> int | None:
    if str(value).strip().lower() in ("none", "null", ""):
        return None
    return int(value)


def add_trainer_arguments(parser: ArgumentParser) -> None:
    """Register every trainer option on ``parser`` (all are also YAML config keys)."""
    a = parser.add_argument
    # experiment directory
    a("--output_dir", default=None,
      help="experiment dir; default exp/<tag> with --tag, else exp/<basename of --config>")
    a("--tag", default=None, help="experiment name used for the default --output_dir")
    a("--resume", type=str2bool, default=True,
      help="resume automatically from <output_dir>/checkpoint.pt when it exists; "
           "false: start over (the old checkpoint is overwritten)")
    a("--init_param", nargs="*", default=[],
      help="path[:src_prefix[:dst_prefix]] ...: load parameters only (fresh runs, not on resume), "
           "e.g. a previous stage's model.avg.pt; keys starting with src_prefix are renamed to dst_prefix")
    a("--freeze_param", nargs="*", default=[],
      help="parameter name prefixes not to train (module boundary: 'encoder' freezes encoder.*)")
    # hardware
    a("--ngpu", type=int, default=0,
      help="0: CPU; 1: one GPU per process (use torchrun --nproc_per_node N for N GPUs)")
    a("--num_workers", type=int, default=1, help="data loader worker processes (0: load in the main process)")
    a("--num_threads", type=int, default=1,
      help="torch intra-op CPU threads per training process (torch.set_num_threads). A fixed number, "
           "never the machine's core count or OMP_NUM_THREADS: float reductions, hence the trained "
           "weights, depend bitwise on it (doc/reproducibility.md)")
    a("--bf16", type=str2bool, default=False, help="bfloat16 autocast (CUDA only; ignored with a warning on CPU)")
    a("--deterministic", type=str2bool, default=False,
      help="deterministic algorithms (cuDNN/cuBLAS); CPU runs are reproducible without it")
    a("--ddp_find_unused_parameters", type=str2bool, default=False,
      help="DDP find_unused_parameters (needed when some parameters get no gradient in a step)")
    # length of training
    a("--max_epoch", type=int, default=10, help="number of epochs")
    a("--max_steps", type=_int_or_none, default=None, help="optional cap on the number of optimizer updates")
    # batches
    a("--batch_bins", type=int, default=0,
      help="GLOBAL batch budget: sum of example lengths (dataset.lengths) per batch, over all processes")
    a("--batch_size", type=int, default=0,
      help="GLOBAL maximum number of examples per batch (0: no limit; at least one of this and --batch_bins)")
    a("--valid_batch_bins", type=_int_or_none, default=None, help="validation --batch_bins (default: --batch_bins)")
    a("--valid_batch_size", type=_int_or_none, default=None, help="validation --batch_size (default: --batch_size)")
    a("--shuffle", type=str2bool, default=True, help="shuffle the order of the training batches every epoch")
    a("--accum_grad", type=int, default=1, help="batches per optimizer update")
    # optimization
    a("--optim", default="adamw", choices=["adamw"], help="optimizer")
    a("--lr", type=float, default=1e-3, help="peak learning rate")
    a("--weight_decay", type=float, default=0.0,
      help="AdamW weight decay (applied to matrices only, not to biases and norm gains)")
    a("--adam_betas", type=float, nargs=2, default=[0.9, 0.999], help="AdamW betas")
    a("--adam_eps", type=float, default=1e-8, help="AdamW epsilon")
    a("--scheduler", default="linear", choices=["linear", "constant"],
      help="linear: warmup then linear decay to 0 at the last update; constant: warmup then constant")
    a("--warmup_steps", type=int, default=0, help="linear warmup updates")
    a("--warmup_ratio", type=float, default=0.0, help="warmup as a fraction of all updates (if --warmup_steps is 0)")
    a("--grad_clip", type=float, default=1.0, help="clip the gradient norm to this (<= 0: no clipping)")
    # validation, best models, averaging
    a("--valid_interval_steps", type=int, default=0,
      help="validate every N updates (0: once per epoch; validation also runs at every epoch end)")
    a("--best_criterion", nargs="+", default=["valid.loss:min"],
      help="metric:min|max ... ; each writes <metric>.best (model state) when it improves; "
           "the first one ranks snapshots for --keep_nbest and --nbest_average")
    a("--keep_nbest", type=int, default=10,
      help="keep the snapshot.ep.N of the N best epochs per criterion (0: keep all)")
    a("--nbest_average", type=int, default=1,
      help="at the end, write model.avg.pt = mean of the N best snapshots by the first criterion "
           "(last N without validation); 0: do not")
    # logging and saving
    a("--log_interval", type=int, default=50, help="log a progress line every N updates")
    a("--save_interval_steps", type=int, default=0,
      help="also write checkpoint.pt every N updates (0: only at epoch ends)")
    a("--tensorboard", type=str2bool, default=True, help="write scalars to <output_dir>/tensorboard/")


def resolve_output_dir(args: argparse.Namespace) -> Path:
    """``--output_dir``, else ``exp/<tag>``, else ``exp/<config basename without extension>``."""
    if args.output_dir:
        return Path(args.output_dir)
    if args.tag:
        return Path("exp") / args.tag
    if getattr(args, "config", None):
        return Path("exp") / Path(args.config).stem
    raise ConfigError("no experiment directory: give --output_dir, --tag or --config")


def check_trainer_arguments(args: argparse.Namespace) -> None:
    """Reject option values the trainer cannot use, naming the option."""
    if args.batch_bins <= 0 and args.batch_size <= 0:
        raise ConfigError("give --batch_bins and/or --batch_size (both are 0)")
    for name in ("batch_bins", "batch_size", "num_workers", "warmup_steps", "valid_interval_steps",
                 "keep_nbest", "nbest_average", "save_interval_steps"):
        if getattr(args, name) < 0:
            raise ConfigError(f"--{name} must be >= 0, got {getattr(args, name)}")
    for name in ("max_epoch", "accum_grad", "log_interval", "num_threads"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.max_steps is not None and args.max_steps < 1:
        raise ConfigError(f"--max_steps must be >= 1, got {args.max_steps}")
    if not 0.0 <= args.warmup_ratio < 1.0:
        raise ConfigError(f"--warmup_ratio must be in [0, 1), got {args.warmup_ratio}")
    if args.lr <= 0:
        raise ConfigError(f"--lr must be > 0, got {args.lr}")
    if args.ngpu < 0:
        raise ConfigError(f"--ngpu must be >= 0, got {args.ngpu}")
    parse_best_criteria(args.best_criterion)


def parse_best_criteria(items: list[str]) -> list[tuple[str, str]]:
    """``["valid.loss:min", "valid.f1:max"]`` -> ``[("valid.loss", "min"), ("valid.f1", "max")]``."""
    out = []
    for item in items:
        metric, sep, mode = str(item).rpartition(":")
        if not sep or not metric or mode not in ("min", "max"):
            raise ConfigError(f"--best_criterion {item!r}: expected <metric>:min or <metric>:max "
                              "(e.g. valid.loss:min)")
        out.append((metric, mode))
    return out


def parse_init_param(spec: str) -> tuple[str, str, str]:
    """``path[:src_prefix[:dst_prefix]]`` -> ``(path, src_prefix, dst_prefix)``."""
    parts = spec.split(":")
    if len(parts) > 3 or not parts[0]:
        raise ConfigError(f"--init_param {spec!r}: expected path[:src_prefix[:dst_prefix]]")
    parts += [""] * (3 - len(parts))
    return parts[0], parts[1], parts[2]
