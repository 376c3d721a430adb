"""The resume checkpoint ``checkpoint.pt``: atomic writes, a previous copy, RNG states.

Only tensors and primitive containers are stored, so the file loads with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from speechbert.io.atomic import make_temp_beside, write_error
from speechbert.train.errors import TrainingError

CHECKPOINT_FORMAT = "speechbert-checkpoint-1"


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write ``state`` to ``path`` atomically, keeping the former file as ``<stem>.prev<suffix>``.

    The new file is written and synced under a temporary name first; only then is the old
    ``path`` moved to the ``prev`` name and the new one renamed onto ``path``. A crash at any
    point leaves a complete ``path`` or a complete ``prev``. A failed write (disk full, ...)
    raises :class:`~speechbert.errors.WriteError` naming ``path`` and leaves no temporary file.
    """
    path = Path(path)
    prev = previous_path(path)
    link = path.parent / f".{prev.name}.{os.getpid()}.tmp"
    fd, tmp = make_temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": CHECKPOINT_FORMAT, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            # A hard link keeps `path` in place while `prev` is updated; rename where links fail.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)
            try:
                os.link(path, link)
                os.replace(link, prev)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(link)
                os.replace(path, prev)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        # A full disk, a quota or a read-only directory: say which file, not just the errno.
        converted = write_error(e, path, tmp, prev, link)
        if converted is not None:
            raise converted from e
        raise


#: key of the in-memory state returned by :func:`load_resume_checkpoint`: the file it was read from
LOADED_FROM = "loaded_from"


def previous_path(path: str | Path) -> Path:
    """``checkpoint.pt`` -> ``checkpoint.prev.pt``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load one checkpoint file; a corrupt, truncated or foreign file raises TrainingError naming it."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise TrainingError(f"{path}: checkpoint does not exist") from None
    except pickle.UnpicklingError as e:
        # torch's message advises weights_only=False, i.e. running whatever the file holds: never
        # repeat that. Keep only its diagnosis.
        detail = unpickler_detail(str(e))
        if "unsupported global" in detail.lower():
            raise TrainingError(f"{path}: not a speechbert trainer checkpoint: it holds Python objects other than "
                                f"tensors and plain containers ({detail}); such files are never unpickled "
                                "(remove or rename it)") from None
        raise TrainingError(f"{path}: cannot read checkpoint (corrupt or truncated?): {detail}") from None
    except Exception as e:  # noqa: BLE001 - torch raises many types for damaged files
        raise TrainingError(f"{path}: cannot read checkpoint (corrupt or truncated?): {load_failure(e)}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise TrainingError(f"{path}: not a speechbert trainer checkpoint (format {CHECKPOINT_FORMAT!r})")
    return state


def load_failure(e: BaseException) -> str:
    """One line saying why ``torch.load`` failed, without torch's advice to use weights_only=False.

    For every reader of model files: the advice means running whatever code the file holds.
    """
    if isinstance(e, pickle.UnpicklingError):
        return unpickler_detail(str(e))
    first = next((x.strip() for x in str(e).splitlines() if x.strip()), "")
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def unpickler_detail(message: str) -> str:
    """The diagnosis line of torch's weights-only unpickling error (without its advice)."""
    lines = [x.strip() for x in message.splitlines() if x.strip()]
    for k, line in enumerate(lines):
        if "WeightsUnpickler error" in line:
            rest = line.split("WeightsUnpickler error:", 1)[1].strip()
            return rest or (lines[k + 1] if k + 1 < len(lines) else "unreadable pickle")
    return "unreadable pickle"


def load_resume_checkpoint(path: str | Path) -> dict[str, Any] | None:
    """The newest readable checkpoint: ``path``, else its ``prev`` copy (with a warning), else None.

    A damaged ``path`` is renamed to ``<name>.corrupt`` so that the next save does not turn it
    into the ``prev`` copy. Raises TrainingError when a checkpoint exists but none can be read.
    """
    path = Path(path)
    prev = previous_path(path)
    if not path.exists() and not prev.exists():
        return None
    error: TrainingError | None = None
    if path.exists():
        try:
            state = read_checkpoint(path)
            state[LOADED_FROM] = str(path)
            return state
        except TrainingError as e:
            error = e
    if prev.exists():
        try:
            state = read_checkpoint(prev)
        except TrainingError as e:
            first = error or f"{path}: missing"
            raise TrainingError(f"{first}; the previous checkpoint is unusable too: {e}") from None
        if error is not None:
            corrupt = path.with_name(path.name + ".corrupt")
            with contextlib.suppress(FileNotFoundError):  # another process may have moved it already
                os.replace(path, corrupt)
            logging.warning("%s; resuming from the previous checkpoint %s (the damaged file is kept as %s)",
                            error, prev, corrupt)
        else:
            logging.warning("%s is missing; resuming from the previous checkpoint %s", path, prev)
        state[LOADED_FROM] = str(prev)
        return state
    assert error is not None
    raise TrainingError(f"{error}; no previous checkpoint {prev} to fall back to "
                        "(remove the file or run with --resume false to start over)")


# ----------------------------------------------------------------------------- RNG states


def get_rng_state() -> dict[str, Any]:
    """Python, NumPy, torch and CUDA generator states as tensors and primitive containers."""
    py_version, py_state, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": py_version, "state": list(py_state), "gauss": py_gauss},
        "numpy": {"name": np_name, "keys": torch.from_numpy(np_keys.astype(np.int64)), "pos": int(np_pos),
                  "has_gauss": int(np_has_gauss), "gauss": float(np_gauss)},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else [],
    }
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` returned."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    nps = state["numpy"]
    np.random.set_state((nps["name"], nps["keys"].numpy().astype(np.uint32), nps["pos"],
                         nps["has_gauss"], nps["gauss"]))
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        cuda = list(state["cuda"])
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
        else:
            logging.warning("checkpoint holds %d CUDA generator states but %d devices are visible; "
                            "CUDA generators not restored", len(cuda), torch.cuda.device_count())
