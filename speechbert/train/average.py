"""Average model snapshots (``snapshot.ep.N``): best N by a validation metric, or the last N."""

from __future__ import annotations

import json
import logging
import math
import pickle
import re
from pathlib import Path
from typing import Sequence

import torch

from speechbert.errors import ConfigError, DataError
from speechbert.io.atomic import atomic_open, atomic_path

SNAPSHOT_RE = re.compile(r"^snapshot\.ep\.(\d+)$")
METRICS_FILE = "metrics.jsonl"


def snapshot_epoch(path: str | Path) -> int:
    """``.../snapshot.ep.12`` -> 12."""
    m = SNAPSHOT_RE.match(Path(path).name)
    if not m:
        raise DataError("not a snapshot file name (expected snapshot.ep.<N>)", path)
    return int(m.group(1))


def read_epoch_metrics(metrics_path: str | Path) -> dict[int, dict[str, float]]:
    """Epoch -> metrics at the end of that epoch, from the trainer's ``metrics.jsonl``."""
    metrics_path = Path(metrics_path)
    out: dict[int, dict[str, float]] = {}
    try:
        lines = metrics_path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise DataError(f"cannot read the validation metrics: {e.strerror}", metrics_path) from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            epoch = int(record["epoch"])
        except (ValueError, KeyError, TypeError) as e:
            raise DataError(f"bad metrics record ({e})", metrics_path, lineno) from None
        if record.get("end_of_epoch", True):
            out[epoch] = {k: v for k, v in record.items() if isinstance(v, (int, float))}
    return out


def select_snapshots(snapshots: Sequence[str | Path], num: int | None = None, metric: str | None = None,
                     mode: str = "min", metrics_path: str | Path | None = None) -> list[Path]:
    """The snapshots to average: the ``num`` best by ``metric`` (``mode`` min/max), or the last ``num``.

    With ``metric``, the value of each snapshot is read from ``metrics_path`` (default:
    ``metrics.jsonl`` beside the first snapshot); snapshots without a value are skipped. ``num``
    None means all of them. Ties keep the later epoch.
    """
    paths = sorted({Path(p) for p in snapshots}, key=snapshot_epoch)
    if not paths:
        raise ConfigError("no snapshots to average")
    if num is not None and num < 1:
        raise ConfigError(f"number of snapshots to average must be >= 1, got {num}")
    if metric is None:
        chosen = paths if num is None else paths[-num:]
        return chosen
    if mode not in ("min", "max"):
        raise ConfigError(f"mode must be min or max, got {mode!r}")
    metrics_path = Path(metrics_path) if metrics_path else paths[0].parent / METRICS_FILE
    values = read_epoch_metrics(metrics_path)
    scored = []
    for p in paths:
        value = values.get(snapshot_epoch(p), {}).get(metric)
        if value is None or not math.isfinite(value):
            logging.warning("%s: no %s recorded in %s; not a candidate", p, metric, metrics_path)
            continue
        scored.append((value if mode == "min" else -value, -snapshot_epoch(p), p))
    if not scored:
        known = sorted({k for v in values.values() for k in v})
        raise DataError(f"no snapshot has a value for metric {metric!r} (recorded metrics: {', '.join(known)})",
                        metrics_path)
    scored.sort()
    chosen = [p for _, _, p in (scored if num is None else scored[:num])]
    return sorted(chosen, key=snapshot_epoch)


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A model state dict from a model file (a bare state dict, or a trainer checkpoint's ``model``)."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError("model file does not exist", path) from None
    except pickle.UnpicklingError as e:
        from speechbert.train.checkpoint import unpickler_detail

        # Never pass on torch's advice to load with weights_only=False.
        raise DataError(f"not a model file of tensors, or damaged ({unpickler_detail(str(e))}); it is never "
                        "unpickled unsafely", path) from None
    except Exception as e:  # noqa: BLE001 - torch raises many types for damaged files
        from speechbert.train.checkpoint import load_failure

        raise DataError(f"cannot read model file (corrupt or truncated?): {load_failure(e)}", path) from None
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataError("not a model state dict (name -> tensor)", path)
    return state


def average_state_dicts(paths: Sequence[str | Path]) -> dict[str, torch.Tensor]:
    """Element-wise mean of the floating-point tensors of several state dicts (float64 sums).

    Integer tensors (counters such as ``num_batches_tracked``) are taken from the last file.
    All files must hold the same names and shapes.
    """
    if not paths:
        raise ConfigError("no model files to average")
    total: dict[str, torch.Tensor] = {}
    first = Path(paths[0])
    for p in paths:
        state = load_state_dict(p)
        if total and set(state) != set(total):
            diff = sorted(set(state) ^ set(total))
            raise DataError(f"parameter names differ from {first}: {', '.join(diff[:5])}", p)
        for name, value in state.items():
            if name in total and total[name].shape != value.shape:
                raise DataError(f"{name}: shape {tuple(value.shape)} differs from {tuple(total[name].shape)} "
                                f"in {first}", p)
            if value.is_floating_point():
                total[name] = total[name] + value.double() if name in total else value.double()
            else:
                total[name] = value.clone()
    reference = load_state_dict(paths[-1])
    return {name: (t / len(paths)).to(reference[name].dtype) if reference[name].is_floating_point() else t
            for name, t in total.items()}


def average_checkpoints(snapshots: Sequence[str | Path], out: str | Path, num: int | None = None,
                        metric: str | None = None, mode: str = "min",
                        metrics_path: str | Path | None = None) -> list[Path]:
    """Select snapshots (see :func:`select_snapshots`), average them and write ``out`` atomically.

    Returns the snapshots that were averaged.
    """
    chosen = select_snapshots(snapshots, num=num, metric=metric, mode=mode, metrics_path=metrics_path)
    averaged = average_state_dicts(chosen)
    # Through a file object: torch.save to a path names the zip records after the (random)
    # temporary file name, so equal weights would not give equal bytes.
    with atomic_open(out, "wb") as f:
        torch.save(averaged, f)
    logging.info("averaged %d snapshots (%s) into %s", len(chosen),
                 ", ".join(p.name for p in chosen), out)
    return chosen


#: the files that make a model file decodable: the resolved options and the input record
EXPERIMENT_RECORDS = ("config.yaml", "inputs.yaml")


def copy_experiment_records(src_dir: str | Path, dst_dir: str | Path, dry_run: bool = False) -> list[str]:
    """Copy ``config.yaml`` and ``inputs.yaml`` of an experiment into another directory.

    An averaged model written outside its run's directory stays decodable: the decoders rebuild
    the model and its inputs from these records. Files already there with other contents are
    an error (they describe another model). Returns the names copied (with ``dry_run``: the
    names that would be; nothing is written, conflicts are raised all the same).
    """
    import shutil

    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    if src_dir.resolve() == dst_dir.resolve():
        return []
    copied = []
    for name in EXPERIMENT_RECORDS:
        src, dst = src_dir / name, dst_dir / name
        if not src.is_file():
            continue
        if dst.is_file():
            if dst.read_bytes() != src.read_bytes():
                raise ConfigError(f"{dst} exists and differs from {src}: it describes another model")
            continue
        if not dry_run:
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
        copied.append(name)
    return copied
