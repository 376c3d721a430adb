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
