"""Word CTM reading, writing and validation against a data directory."""

from __future__ import annotations

import pytest

from speechbert.errors import DataError
from speechbert.io.ctm import CtmEntry, read_ctm, validate_ctm, write_ctm

TEXT = {"u1": "hello big world", "u2": "it's me"}


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_write_sorts_and_rounds_then_reads_back(tmp_path):
    ctm = {"u2": [CtmEntry("u2", 0.5, 0.25, "me", 0.5), CtmEntry("u2", 0.1, 0.3, "it's", 0.91234)],
           "u1": [CtmEntry("u1", 0.0, 0.1234, "hello", None)]}
    path = tmp_path / "word.ctm"
    assert write_ctm(path, ctm) == 3
    assert path.read_text().splitlines() == ["u1 1 0.000 0.123 hello", "u2 1 0.100 0.300 it's 0.912",
                                             "u2 1 0.500 0.250 me 0.500"]
    back = read_ctm(path)
    assert list(back) == ["u1", "u2"]
    assert [(e.word, e.start, e.dur, e.conf) for e in back["u2"]] == [("it's", 0.1, 0.3, 0.912),
                                                                    ("me", 0.5, 0.25, 0.5)]
    assert back["u1"][0].conf is None and back["u2"][1].line == 3


@pytest.mark.parametrize("line, msg", [
    ("u1 1 0.0 0.1", "expected 5 or 6 fields"),
    ("u1 1 zero 0.1 hello", "must be numbers"),
    ("u1 1 -0.2 0.1 hello", "negative start time"),
    ("u1 1 0.2 -0.1 hello", "negative duration"),
    ("u1 1 nan 0.1 hello", "non-finite"),
    ("u|1 1 0.0 0.1 hello", "contains '|'"),
])
def test_read_rejects_bad_lines_naming_file_and_line(tmp_path, line, msg):
    path = _write(tmp_path / "x.ctm", ["u1 1 0.0 0.1 ok 1.0", line])
    with pytest.raises(DataError, match=msg) as e:
        read_ctm(path)
    assert f"x.ctm:2" in str(e.value)


def test_read_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_ctm(tmp_path / "none.ctm")


def test_validate_accepts_case_and_silence_and_absent_utterances(tmp_path):
    path = _write(tmp_path / "mfa.ctm", ["u1 A 0.00 0.20 <eps>", "u1 A 0.20 0.30 Hello",
                                         "u1 A 0.50 0.10 BIG", "u1 A 0.60 0.30 world"])
    clean = validate_ctm(read_ctm(path), TEXT, path, utt2dur={"u1": 1.0, "u2": 1.0})
    assert list(clean) == ["u1"]  # u2 absent: allowed, counts as not aligned
    assert [e.word for e in clean["u1"]] == ["Hello", "BIG", "world"]


@pytest.mark.parametrize("lines, msg, lineno", [
    (["u9 1 0.0 0.1 who"], "'u9' is not in the data directory's text", 1),
    (["u1 1 0.0 0.5 hello", "u1 1 0.3 0.1 big", "u1 1 0.6 0.1 world"], "overlapping times", 2),
    (["u1 1 0.0 0.1 hello", "u1 1 0.2 0.1 small", "u1 1 0.4 0.1 world"], "word 1 is 'small', text has 'big'", 2),
    (["u1 1 0.0 0.1 hello", "u1 1 0.2 0.1 big"], "2 words vs 3 in text", 2),
    (["u1 1 0.0 0.1 hello", "u1 1 0.2 0.1 big", "u1 1 0.4 0.9 world"], "after the end of the audio", 3),
])
def test_validate_errors_name_line_and_utterance(tmp_path, lines, msg, lineno):
    path = _write(tmp_path / "bad.ctm", lines)
    with pytest.raises(DataError, match=msg) as e:
        validate_ctm(read_ctm(path), TEXT, path, utt2dur={"u1": 1.0, "u2": 1.0})
    assert f"bad.ctm:{lineno}" in str(e.value)


def test_rounding_is_not_an_overlap(tmp_path):
    path = _write(tmp_path / "r.ctm", ["u2 1 0.100 0.201 it's", "u2 1 0.300 0.100 me"])
    assert len(validate_ctm(read_ctm(path), TEXT, path)["u2"]) == 2


def test_a_real_word_that_looks_like_a_silence_token_is_kept(tmp_path):
    """A letter-by-letter recogniser can output the word "sp" or "sil": it must stay a word."""
    from speechbert.io.ctm import read_ctm, validate_ctm

    path = tmp_path / "asr.ctm"
    path.write_text("u1 1 0.00 0.10 sil\nu1 1 0.10 0.20 va\nu1 1 0.30 0.20 <sil>\nu1 1 0.50 0.20 sp\n")
    clean = validate_ctm(read_ctm(path), {"u1": "sil va sp"}, path)
    assert [e.word for e in clean["u1"]] == ["sil", "va", "sp"]
    # silence entries that are not words of the text are still dropped
    clean = validate_ctm(read_ctm(path), {"u1": "va sp"}, path)
    assert [e.word for e in clean["u1"]] == ["va", "sp"]
