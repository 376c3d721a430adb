"""iter_jsonl (and the UTF-8 line reader under it): values with line numbers, errors naming file:line."""

from __future__ import annotations

import pytest

from speechbert.errors import DataError
from speechbert.io.jsonl import iter_jsonl
from speechbert.io.text_lines import iter_utf8_lines


def test_values_come_with_their_line_numbers(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "q1"}\n[1, 2]\n"caf\u00e9"\n', encoding="utf-8")
    assert list(iter_jsonl(path)) == [(1, {"id": "q1"}), (2, [1, 2]), (3, "caf\u00e9")]
    assert list(iter_utf8_lines(path))[2] == (3, '"caf\u00e9"\n')


@pytest.mark.parametrize("content, line, message", [
    (b'{"id": 1}\n\n', 2, "empty line"),
    (b'{"id": 1}\n{"id" 1}\n', 2, "invalid JSON: Expecting ':' delimiter (column 7)"),
    (b'{"id": 1}\n"\xff"\n', 2, "not valid UTF-8 (invalid start byte at byte 1)"),
])
def test_bad_lines_name_the_file_and_line(tmp_path, content, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        list(iter_jsonl(path))
    assert err.value.line == line and message in str(err.value) and "bad.jsonl" in str(err.value)


def test_a_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        list(iter_jsonl(tmp_path / "none.jsonl"))
