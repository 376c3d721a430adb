"""Tests for speechbert.units.unit_dump (the tool's outputs are tested in test/speechbert/bin/test_dump_units.py)."""

from __future__ import annotations

import numpy as np
import pytest

from speechbert.errors import DataError
from speechbert.io.feats import ArkWriter, FeatsReader
from speechbert.units.codebook import Codebook
from speechbert.units.unit_dump import feats_type_line, write_unit_dump


def write_scp(d, mats):
    d.mkdir(parents=True, exist_ok=True)
    ark = d / "feats.ark"
    with ArkWriter(ark, ark) as w:
        for utt, m in mats.items():
            w.write(utt, np.asarray(m, np.float32))
    (d / "feats.scp").write_text("".join(w.scp_lines))
    return d / "feats.scp"


def test_summary_counts_frames_per_unit(tmp_path):
    cb = Codebook(np.array([[0.0], [10.0], [20.0], [30.0]]))
    scp = write_scp(tmp_path / "src", {"u1": [[1], [9], [11]], "u2": [[19], [0.5], [2]]})
    with FeatsReader(scp) as r:
        summary = write_unit_dump(r, cb, tmp_path / "out", {"frame_shift": 0.01})
    np.testing.assert_array_equal(summary.unit_counts, [3, 2, 1, 0])
    assert (summary.num_utts, summary.num_frames, summary.units_used) == (2, 6, 3)
    assert (tmp_path / "out" / "units").read_text() == "u1 0 1 1\nu2 2 0 0\n"
    assert (tmp_path / "out" / "frame_shift").read_text() == "0.01\n"
    assert feats_type_line(4) == "units 4"


def test_an_utterance_without_frames_is_an_error(tmp_path):
    cb = Codebook(np.array([[0.0], [10.0]]))
    scp = write_scp(tmp_path / "src", {"u1": [[1]], "u2": np.zeros((0, 1))})
    with FeatsReader(scp) as r, pytest.raises(DataError, match=r"feats.scp \(u2\): utterance has no frames"):
        write_unit_dump(r, cb, tmp_path / "out", {})
    assert not (tmp_path / "out").exists() or not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


def test_a_source_without_frame_shift_gets_the_readers_default(tmp_path, caplog):
    cb = Codebook(np.array([[0.0], [10.0]]))
    scp = write_scp(tmp_path / "src", {"u1": [[1], [12]]})
    with FeatsReader(scp) as r:
        write_unit_dump(r, cb, tmp_path / "out", {"frame_shift": None})
    assert (tmp_path / "out" / "frame_shift").read_text() == "0.01\n"
    assert "states no frame_shift" in caplog.text
    (tmp_path / "src" / "frame_shift").write_text("0.02\n")
    with FeatsReader(scp) as r:
        write_unit_dump(r, cb, tmp_path / "out2", {"frame_shift": 0.02})
    assert (tmp_path / "out2" / "frame_shift").read_text() == "0.02\n"
