"""JSON Lines files (``questions.jsonl``, ``predictions.jsonl``): one JSON value a line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from speechbert.errors import DataError
from speechbert.io.text_lines import iter_utf8_lines


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, value)`` for each line of a JSON Lines file.

    The values are not checked; callers validate them and name ``path`` and the line number.

    Raises:
        DataError: naming the file (and line) for a missing file, text that is not UTF-8, an
            empty line or invalid JSON.
    """
    path = Path(path)
    for lineno, line in iter_utf8_lines(path):
        if not line.strip():
            raise DataError("empty line", path, lineno)
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"invalid JSON: {e.msg} (column {e.colno})", path, lineno) from None
        yield lineno, value
