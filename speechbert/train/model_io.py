"""Model parameters in and out of experiment directories: init, freeze, reload for decoding."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from speechbert.errors import ConfigError, DataError
from speechbert.train.average import load_state_dict
from speechbert.train.options import parse_init_param

if TYPE_CHECKING:
    from speechbert.train.task_protocol import TrainableTask


def init_parameters(model: torch.nn.Module, specs: list[str]) -> None:
    """Load parameters from other models: each spec is ``path[:src_prefix[:dst_prefix]]``.

    Keys of the file starting with ``src_prefix`` (all keys when empty) are renamed to start with
    ``dst_prefix`` instead and copied into ``model``. A renamed key the model does not have, or
    a shape that differs, is an error naming the file and the key.
    """
    own = model.state_dict()
    for spec in specs:
        path, src, dst = parse_init_param(spec)
        state = load_state_dict(path)
        picked = {}
        for key, value in state.items():
            new_key = _rename(key, src, dst)
            if new_key is not None:
                picked[new_key] = value
        if not picked:
            raise DataError(f"--init_param {spec}: no parameter starts with {src!r}", path)
        for key, value in picked.items():
            if key not in own:
                raise DataError(f"--init_param {spec}: the model has no parameter {key!r}", path)
            if own[key].shape != value.shape:
                raise DataError(f"--init_param {spec}: {key} has shape {tuple(value.shape)} in the file "
                                f"but {tuple(own[key].shape)} in the model", path)
        with torch.no_grad():
            for key, value in picked.items():
                own[key].copy_(value.to(own[key].dtype))
        logging.info("initialized %d parameters from %s", len(picked), spec)


def _rename(key: str, src: str, dst: str) -> str | None:
    """``encoder.l1.w`` with src ``encoder``, dst ``bert`` -> ``bert.l1.w``; None if not under src."""
    src, dst = src.rstrip("."), dst.rstrip(".")
    if src:
        if key == src:
            rest = ""
        elif key.startswith(src + "."):
            rest = key[len(src) + 1:]
        else:
            return None
    else:
        rest = key
    return ".".join(x for x in (dst, rest) if x)


def freeze_parameters(model: torch.nn.Module, prefixes: list[str]) -> int:
    """Set ``requires_grad=False`` on parameters under the given name prefixes; returns how many."""
    count = 0
    for prefix in prefixes:
        hits = [(n, p) for n, p in model.named_parameters()
                if n == prefix or n.startswith(prefix.rstrip(".") + ".")]
        if not hits:
            raise ConfigError(f"--freeze_param {prefix}: no parameter has this prefix")
        for name, p in hits:
            p.requires_grad_(False)
            count += p.numel()
    if prefixes:
        logging.info("froze %d parameter elements under %s", count, ", ".join(prefixes))
    return count


def load_exp_args(exp_dir: str | Path, task_cls: "TrainableTask") -> argparse.Namespace:
    """The options a run in ``exp_dir`` was trained with, parsed from its ``config.yaml``."""
    config = Path(exp_dir) / "config.yaml"
    if not config.is_file():
        raise DataError("no config.yaml: not a finished or started training run", config)
    return task_cls.get_parser().parse_args(["--config", str(config)])


def load_model_from_exp(exp_dir: str | Path, task_cls: "TrainableTask", file: str = "model.avg.pt",
                        device: str | torch.device = "cpu") -> tuple[torch.nn.Module, argparse.Namespace]:
    """Rebuild the model from ``exp_dir/config.yaml`` and load the weights in ``exp_dir/file``.

    ``file`` may be any model file of the run (``model.avg.pt``, ``valid.loss.best``,
    ``snapshot.ep.3``) or ``checkpoint.pt``. Returns ``(model, args)`` with the model in
    ``eval()`` mode on ``device``.
    """
    args = load_exp_args(exp_dir, task_cls)
    model = task_cls.build_model(args)
    path = Path(exp_dir) / file
    state = load_state_dict(path)
    check_state_dict(model, state, path)
    model.load_state_dict(state)
    return model.to(device).eval(), args


def check_state_dict(model: torch.nn.Module, state: dict[str, Any], path: str | Path) -> None:
    """Raise DataError naming ``path`` when ``state`` does not fit ``model``."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:5])}{' ...' if len(unexpected) > 5 else ''}")
        raise DataError(f"parameters do not match the model ({'; '.join(parts)}): "
                        "written by a different model or configuration?", path)
    for key, value in state.items():
        if own[key].shape != value.shape:
            raise DataError(f"{key}: shape {tuple(value.shape)} but the model has {tuple(own[key].shape)}", path)
