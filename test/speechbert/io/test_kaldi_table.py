"""Tests for speechbert.io.kaldi_table: Kaldi key-value tables with validation."""

import pytest

from speechbert.errors import DataError
from speechbert.io.kaldi_table import c_sort_key, check_key, read_table, write_table


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_roundtrip_sorts_in_c_order(tmp_path):
    path = tmp_path / "text"
    write_table(path, {"b-1": "world", "B-2": "upper", "a-1": "hello there"})
    # LC_ALL=C: upper case sorts before lower case.
    assert path.read_text() == "B-2 upper\na-1 hello there\nb-1 world\n"
    assert read_table(path) == {"B-2": "upper", "a-1": "hello there", "b-1": "world"}


def test_c_sort_key_is_byte_order():
    keys = ["a_1", "a-1", "A1", "é"]
    assert sorted(keys, key=c_sort_key) == ["A1", "a-1", "a_1", "é"]


@pytest.mark.parametrize("data, line, words", [
    (b"b x\na y\n", 2, "out of order"),
    (b"a x\na y\n", 2, "duplicate key"),
    (b"a x\nb\n", 2, "no value"),
    (b"a x\n\xff\xfe y\n", 2, "not valid UTF-8"),
    (b"a x\nb y", 2, "no trailing newline"),
    (b"a x\n\n", 2, "empty line"),
    (b"a|b x\n", 1, "shell metacharacters"),
])
def test_bad_tables_name_file_and_line(tmp_path, data, line, words):
    path = _write(tmp_path / "wav.scp", data)
    with pytest.raises(DataError) as e:
        read_table(path)
    assert f"wav.scp:{line}" in str(e.value)
    assert words in str(e.value)


def test_unsorted_allowed_when_asked(tmp_path):
    path = _write(tmp_path / "t", b"b x\na y\n")
    assert list(read_table(path, require_sorted=False)) == ["b", "a"]


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_table(tmp_path / "nope")


def test_write_rejects_bad_keys_and_keeps_old_file(tmp_path):
    path = tmp_path / "t"
    write_table(path, [("a", "1")])
    for bad in ([("a b", "1")], [("a", "1"), ("a", "2")], [("a", "x\ny")]):
        with pytest.raises(DataError):
            write_table(path, bad)
    assert path.read_text() == "a 1\n"


def test_check_key():
    assert check_key("train-0001-0002-003") is None
    assert "empty" in check_key("")
    assert "$" in check_key("a$b")


def test_a_crlf_table_is_refused_like_the_shell_validator_does(tmp_path):
    from speechbert.errors import DataError
    from speechbert.io.kaldi_table import read_table

    path = tmp_path / "text"
    path.write_bytes(b"u1 hello world\r\nu2 again\r\n")
    with pytest.raises(DataError, match=r"text:1: Windows line ending .*dos2unix"):
        read_table(path)


def test_keys_that_would_escape_their_directory_are_refused(tmp_path):
    from speechbert.errors import DataError
    from speechbert.io.kaldi_table import check_key, read_table, write_table

    assert check_key("../../etc/passwd") is not None and check_key("a/b") is not None
    (tmp_path / "text").write_text("../evil hello\n")
    with pytest.raises(DataError, match=r"contains '/'"):
        read_table(tmp_path / "text")
    with pytest.raises(DataError, match=r"contains '/'"):
        write_table(tmp_path / "out", {"../x": "y"})
    assert not (tmp_path / "out").exists()


def _line_by_line(path, **kw):
    from speechbert.io.kaldi_table import iter_table

    try:
        return {k: v for _, k, v in iter_table(path, **kw)}
    except DataError as e:
        return ("error", str(e))


def _bulk(path, **kw):
    try:
        return read_table(path, **kw)
    except DataError as e:
        return ("error", str(e))


def test_bulk_reader_agrees_with_the_line_by_line_reader(tmp_path):
    """read_table's whole-file checks must accept, reject and read exactly as iter_table does:
    random tables, valid and broken in every way iter_table knows, both sortedness modes."""
    import random

    from speechbert.io.kaldi_table import _read_valid_table

    rng = random.Random(5)
    pieces = ["a", "b", "utt1", "é", "x-y_z.1", "k/", "k$", "k;", "k[1]", "~k", "ab"]
    seps = [" ", "\t", "  ", " \u00a0", "\u2028"]
    values = ["v", "two words", "", "  padded  ", "tab\there", "cr\rmid", "\x1f", "ü ñ"]
    bulk_accepted = 0
    for trial in range(600):
        lines = []
        for _ in range(rng.randint(0, 6)):
            key = rng.choice(pieces) + str(rng.randint(0, 3))
            kind = rng.random()
            if kind < 0.05:
                lines.append(b"\n")
            elif kind < 0.08:
                lines.append(b"   \n")
            elif kind < 0.1:
                lines.append((key + " v\r\n").encode())
            elif kind < 0.12:
                lines.append(b"bad\xff utf8\n")
            else:
                lines.append((rng.choice(["", " "]) + key + rng.choice(seps) + rng.choice(values) + "\n").encode())
        if rng.random() < 0.7:
            lines.sort()
        data = b"".join(lines)
        if data and rng.random() < 0.05:
            data = data[:-1]  # no trailing newline
        path = tmp_path / f"t{trial}"
        path.write_bytes(data)
        for kw in ({}, {"require_sorted": False}, {"allow_empty_value": True},
                   {"require_sorted": False, "allow_empty_value": True}):
            assert _bulk(path, **kw) == _line_by_line(path, **kw), (data, kw)
            bulk_accepted += _read_valid_table(path, kw.get("require_sorted", True),
                                               kw.get("allow_empty_value", False)) is not None
    # The bulk path must actually take most valid tables, or it saves nothing.
    assert bulk_accepted > 100, bulk_accepted
