"""Reading a UTF-8 text file line by line, with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from speechbert.errors import DataError


def iter_utf8_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` (1-based, the newline kept) for each line of a UTF-8 file.

    Lines are split at ``\\n`` only.

    Raises:
        DataError: when the file does not exist, or naming the line that is not valid UTF-8.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"not valid UTF-8 ({e.reason} at byte {e.start})", path, lineno) from None
            yield lineno, line
