"""The one reader of a dump dir's facts (feats_type, frame_shift, feature config copy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from speechbert.errors import DataError
from speechbert.io.dump_dir import feature_origin, read_dump_facts, read_frame_shift


def _dump(tmp_path: Path, feats_type: str | None = "fbank 80", shift: str | None = "0.01",
          conf: dict[str, str] | None = None) -> Path:
    d = tmp_path / "dump"
    d.mkdir()
    if feats_type is not None:
        (d / "feats_type").write_text(feats_type + "\n", encoding="utf-8")
    if shift is not None:
        (d / "frame_shift").write_text(shift + "\n", encoding="utf-8")
    if conf:
        (d / "conf").mkdir()
        for name, text in conf.items():
            (d / "conf" / name).write_text(text, encoding="utf-8")
    return d


def test_facts_of_a_complete_dump(tmp_path: Path) -> None:
    d = _dump(tmp_path, "mfcc 39", "0.02", {"mfcc.yaml": "feats_type: mfcc\nnum_ceps: 13\n"})
    facts = read_dump_facts(d)
    assert facts == {"feats_type": "mfcc 39", "feat_dim": 39, "frame_shift": 0.02,
                     "feats_config": {"feats_type": "mfcc", "num_ceps": 13}, "feats_config_file": "mfcc.yaml"}
    assert feature_origin(d) == " (made with mfcc.yaml)"


def test_missing_files_give_none(tmp_path: Path) -> None:
    d = _dump(tmp_path, None, None)
    assert read_dump_facts(d) == {"feats_type": None, "feat_dim": None, "frame_shift": None,
                                  "feats_config": None, "feats_config_file": None}
    assert feature_origin(d) == "" and feature_origin(None) == ""
    assert read_frame_shift(d) == 0.01 and read_frame_shift(d, default=0.02) == 0.02


def test_two_config_copies_name_no_config(tmp_path: Path) -> None:
    d = _dump(tmp_path, conf={"a.yaml": "x: 1\n", "b.yaml": "x: 2\n"})
    facts = read_dump_facts(d)
    assert facts["feats_config"] is None and facts["feats_config_file"] is None
    assert feature_origin(d) == ""


@pytest.mark.parametrize("text, message", [("ten", "expected one number"), ("", "expected one number"),
                                           ("10", "implausible frame shift 10"), ("0", "implausible")])
def test_bad_frame_shift_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    d = _dump(tmp_path, shift=text)
    with pytest.raises(DataError, match=message) as e:
        read_frame_shift(d)
    assert str(d / "frame_shift") in str(e.value)


def test_bad_config_copy_names_the_file(tmp_path: Path) -> None:
    d = _dump(tmp_path, conf={"fbank.yaml": "- a list\n"})
    with pytest.raises(DataError, match="expected a mapping") as e:
        read_dump_facts(d)
    assert "fbank.yaml" in str(e.value)
    (tmp_path / "other").mkdir()
    d2 = _dump(tmp_path / "other", conf={"fbank.yaml": "a: [unclosed\n"})
    with pytest.raises(DataError, match="cannot parse the feature config copy"):
        read_dump_facts(d2)
