"""Atomic file output: write to a temporary file beside the target, then rename.

A reader never sees a half-written file, and a failure leaves the previous version intact. A
failed write (disk full, no permission, ...) raises :class:`~speechbert.errors.WriteError`
naming the target: ``cannot write exp/x/model.avg.pt: No space left on device``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from speechbert.errors import WriteError


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
    fd, tmp = make_temp_beside(path)
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
    except BaseException as e:
        _remove(tmp)
        _raise_as_write_error(e, path, tmp)
        raise


def atomic_path(path: str | Path) -> "contextlib.AbstractContextManager[Path]":
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    For writers that want a file name (kaldiio, torch.save, soundfile) rather than a handle.
    """
    return _atomic_path(Path(path))


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    fd, tmp = make_temp_beside(path)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException as e:
        _remove(tmp)
        _raise_as_write_error(e, path, tmp)
        raise


def make_temp_beside(path: Path) -> tuple[int, str]:
    """Create the directory of ``path`` and a hidden temporary file in it, ``.<name>.<random>.tmp``
    (the name every stage's cleanup of orphaned temporary files matches), with the mode ``open``
    would give; returns ``(fd, temp path)``. Raises :class:`WriteError` naming ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError.from_os_error(path, e, f"cannot create the directory {path.parent}") from e
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise WriteError.from_os_error(path, e) from e
    try:
        os.chmod(tmp, _umask_mode())
    except OSError as e:
        os.close(fd)
        _remove(tmp)
        raise WriteError.from_os_error(path, e) from e
    return fd, tmp


def _remove(tmp: str | Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def write_error(err: BaseException, path: str | Path, *temps: str | Path) -> WriteError | None:
    """The :class:`WriteError` naming ``path`` for ``err``, if ``err`` is a failure to write it.

    That is an ``OSError`` that names no file (a failed ``write``, ``flush`` or ``fsync``: disk
    full, I/O error, quota) or names ``path`` or one of its temporary files ``temps``. An
    ``OSError`` about another file (an input that could not be read inside the ``with`` block)
    is not, and neither is a ``WriteError`` already raised for another file.
    """
    if not isinstance(err, OSError) or isinstance(err, WriteError):
        return None
    ours = {os.fspath(p) for p in (path, *temps)}
    names = [n for n in (err.filename, err.filename2) if n is not None]
    if names and not any(isinstance(n, (str, bytes, os.PathLike)) and os.fsdecode(n) in ours for n in names):
        return None
    return WriteError.from_os_error(path, err)


def _raise_as_write_error(err: BaseException, path: Path, tmp: str) -> None:
    converted = write_error(err, path, tmp)
    if converted is not None:
        raise converted from err


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
