"""Atomic file output: write to a temporary file beside the target, then rename.

A reader never sees a half-written file, and a failure leaves the previous version intact.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator


def _umask_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file (mkstemp uses 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open ``path`` for writing through a temporary file renamed into place on success.

    On an exception the temporary file is removed and ``path`` keeps its old content.
    """
    if "r" in mode or "a" in mode or "+" in mode:
        raise ValueError(f"atomic_open only writes whole files, not mode {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, _umask_mode())
    try:
        if "b" in mode:
            f = os.fdopen(fd, mode)
        else:
            f = os.fdopen(fd, mode, encoding=encoding)
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_path(path: str | Path) -> "contextlib.AbstractContextManager[Path]":
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    For writers that want a file name (kaldiio, torch.save, soundfile) rather than a handle.
    """
    return _atomic_path(Path(path))


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _umask_mode())
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def remove_orphaned_temps(directory: str | Path) -> list[Path]:
    """Remove the temporary files an atomic writer left in ``directory`` when it was killed.

    They are named ``.<final name>.<random>.tmp`` (hidden, so listings and globs of the real
    outputs never see them) and would otherwise stay forever: a killed checkpoint write leaves a
    whole model's worth. Call it where a stage starts, when nothing else writes there. Returns
    the files removed.
    """
    directory = Path(directory)
    removed = []
    if not directory.is_dir():
        return removed
    for p in sorted(directory.iterdir()):
        if p.name.startswith(".") and p.name.endswith(".tmp") and p.name.count(".") >= 3 and p.is_file():
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(p)
    return removed
