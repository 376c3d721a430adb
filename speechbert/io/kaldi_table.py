"""Kaldi text tables: one ``<key> <value>`` entry per line (wav.scp, text, utt2spk, ...).

Keys follow the Kaldi data-dir rules: unique, no whitespace, no shell metacharacters, and files
sorted by key in ``LC_ALL=C`` (byte) order. Every reader reports the file and line at fault.
"""

from __future__ import annotations

import operator
import re
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open
from speechbert.io.text_lines import iter_utf8_lines

# Characters that would break a key when it is passed through a shell or used as a path part.
# "/" too: keys become file names (a wav per sentence, ...), and "../x" must not escape its directory.
_BAD_KEY = re.compile(r"""[\s'"`$&|;<>()\\*?!{}\[\]#~/]""")


def check_key(key: str) -> str | None:
    """Return why ``key`` is not a valid Kaldi key, or ``None`` if it is valid."""
    if not key:
        return "empty key"
    bad = _BAD_KEY.search(key)
    if bad:
        return (f"key {key!r} contains {bad.group(0)!r} (whitespace, '/' and shell metacharacters are not "
                "allowed)")
    return None


def c_sort_key(key: str) -> bytes:
    """Sort key matching ``LC_ALL=C sort``: byte order of the UTF-8 encoding."""
    return key.encode("utf-8")


def iter_table(path: str | Path, *, require_sorted: bool = True,
               allow_empty_value: bool = False) -> Iterator[tuple[int, str, str]]:
    """Yield ``(line_number, key, value)`` for each line of a Kaldi table.

    Raises:
        DataError: naming the file and line for non-UTF-8 text, a missing value, a bad or
            duplicate key, or (with ``require_sorted``) a key out of ``LC_ALL=C`` order.
    """
    path = Path(path)
    prev: bytes | None = None
    seen: set[str] = set()
    for lineno, line in iter_utf8_lines(path):
        if not line.endswith("\n"):
            raise DataError("last line has no trailing newline", path, lineno)
        line = line.rstrip("\n")
        if line.endswith("\r"):
            # The shell validator refuses it too: a CRLF file would give values ending in \r.
            raise DataError("Windows line ending (\\r); convert the file with dos2unix", path, lineno)
        if not line.strip():
            raise DataError("empty line", path, lineno)
        parts = line.split(maxsplit=1)
        key = parts[0]
        value = parts[1].strip() if len(parts) > 1 else ""
        why = check_key(key)
        if why:
            raise DataError(why, path, lineno)
        if not value and not allow_empty_value:
            raise DataError(f"key {key!r} has no value", path, lineno)
        if key in seen:
            raise DataError(f"duplicate key {key!r}", path, lineno)
        seen.add(key)
        cur = c_sort_key(key)
        if require_sorted and prev is not None and cur < prev:
            raise DataError(f"key {key!r} is out of order (files must be sorted with LC_ALL=C; "
                            "run utils/fix_data_dir.sh)", path, lineno)
        prev = cur
        yield lineno, key, value


def read_table(path: str | Path, *, require_sorted: bool = True,
               allow_empty_value: bool = False) -> dict[str, str]:
    """Read a whole Kaldi table into an insertion-ordered ``{key: value}`` dict.

    Same checks and errors as :func:`iter_table`.
    """
    table = _read_valid_table(path, require_sorted, allow_empty_value)
    if table is None:  # something is wrong: the line-by-line reader says what, and where
        table = {k: v for _, k, v in iter_table(path, require_sorted=require_sorted,
                                                allow_empty_value=allow_empty_value)}
    return table


# The characters of _BAD_KEY other than whitespace: str.split never leaves whitespace in a key.
_BAD_KEY_CHAR = re.compile(r"""['"`$&|;<>()\\*?!{}\[\]#~/]""")


def _read_valid_table(path: str | Path, require_sorted: bool, allow_empty_value: bool) -> dict[str, str] | None:
    """The table, checked in bulk (a few whole-list operations instead of ~10 per line), or
    ``None`` if any check fails -- then :func:`iter_table` finds the line and raises.

    Accepts exactly what :func:`iter_table` accepts, with the same keys and values
    (``test/speechbert/io/test_kaldi_table.py`` compares the two on valid and broken tables).
    """
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.endswith("\n") or "\r" in text:
        return None
    parts = [line.split(maxsplit=1) for line in text[:-1].split("\n")]
    if not all(parts):  # an empty or all-blank line
        return None
    keys = [p[0] for p in parts]
    if _BAD_KEY_CHAR.search("\n".join(keys)):
        return None
    # UTF-8 byte order is code point order, so comparing the strings is LC_ALL=C order.
    if require_sorted and any(map(operator.ge, keys, keys[1:])):
        return None
    table = {p[0]: (p[1].strip() if len(p) > 1 else "") for p in parts}
    if len(table) != len(keys):  # a duplicate key
        return None
    if not allow_empty_value and not all(table.values()):
        return None
    return table


def write_table(path: str | Path, entries: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
    """Write ``entries`` as a sorted Kaldi table, atomically.

    Raises:
        DataError: on an invalid or duplicate key, or a value containing a newline.
    """
    items = list(entries.items()) if isinstance(entries, Mapping) else list(entries)
    seen: set[str] = set()
    for key, value in items:
        why = check_key(key)
        if why:
            raise DataError(why, path)
        if key in seen:
            raise DataError(f"duplicate key {key!r}", path)
        seen.add(key)
        if "\n" in str(value):
            raise DataError(f"value for {key!r} contains a newline", path)
    items.sort(key=lambda kv: c_sort_key(kv[0]))
    with atomic_open(path) as f:
        for key, value in items:
            f.write(f"{key} {value}\n" if str(value) != "" else f"{key}\n")
