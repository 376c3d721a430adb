"""Exceptions raised by library code.

Library code never calls ``sys.exit``: it raises one of these and the entry point in
``speechbert.bin`` turns it into one readable line and a non-zero exit status.
"""

from __future__ import annotations

from pathlib import Path


class SpeechbertError(Exception):
    """Base class for every error the toolkit reports to the user."""


class DataError(SpeechbertError):
    """Bad input data; the message names the file (and line or key) that is wrong."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.reason = message  # the message without the place
        self.path = None if path is None else str(path)
        self.line = line
        self.key = key
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "")
        if key is not None:
            where = f"{where} ({key})" if where else f"{key}"
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(SpeechbertError):
    """A configuration value or option that cannot be used."""


class WriteError(SpeechbertError, OSError):
    """An output file could not be written (disk full, no permission, ...).

    The message names the file and the reason: ``cannot write exp/x/checkpoint.pt: No space left
    on device``. It is also an ``OSError`` (``errno``, ``strerror`` and ``filename`` = the target
    path), so code that handles a failed write by its errno keeps working.
    """

    def __init__(self, path: str | Path, reason: str, errno: int | None = None) -> None:
        OSError.__init__(self, errno, reason, str(path))
        self.path = str(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"

    def __reduce__(self) -> tuple:  # picklable for worker processes, with its own arguments
        return (type(self), (self.path, self.reason, self.errno))

    @classmethod
    def from_os_error(cls, path: str | Path, err: OSError, doing: str = "") -> "WriteError":
        """The error for ``err`` raised while writing ``path`` (``doing``: what failed, if not the write)."""
        reason = err.strerror or str(err) or type(err).__name__
        return cls(path, f"{doing}: {reason}" if doing else reason, err.errno)
