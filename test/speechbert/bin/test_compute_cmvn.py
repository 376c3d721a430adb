"""Tests for ``python -m speechbert.bin.compute_cmvn`` (run in-process through main())."""

from __future__ import annotations

import errno
import os

import kaldiio
import numpy as np

from speechbert.audio.cmvn import GlobalCMVN
from speechbert.bin.compute_cmvn import main


def _write_feats(tmp_path, mats):
    ark, scp = tmp_path / "feats.1.ark", tmp_path / "feats.scp"
    with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}") as w:
        for k, v in mats.items():
            w(k, v)
    return scp


def test_global_stats_match_numpy(tmp_path):
    rng = np.random.default_rng(1)
    mats = {f"u{i}": (rng.standard_normal((n, 5)) * [1, 2, 3, 4, 5] + [10, 0, -3, 1, 2]).astype(np.float32)
            for i, n in enumerate([30, 55, 12])}
    scp = _write_feats(tmp_path, mats)
    out = tmp_path / "cmvn.ark"
    assert main(["--feats_scp", str(scp), "--out", str(out)]) == 0
    stats = kaldiio.load_mat(str(out))
    allf = np.concatenate(list(mats.values())).astype(np.float64)
    assert stats.shape == (2, 6) and stats.dtype == np.float64
    np.testing.assert_allclose(stats[0, :5], allf.sum(axis=0), rtol=1e-10)
    np.testing.assert_allclose(stats[1, :5], (allf**2).sum(axis=0), rtol=1e-10)
    assert stats[0, 5] == 97
    cmvn = GlobalCMVN.load(out)
    np.testing.assert_allclose(cmvn.mean, allf.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(cmvn.std, allf.std(axis=0), rtol=1e-5)


def test_errors_name_the_input(tmp_path, capsys):
    scp = _write_feats(tmp_path, {"a": np.zeros((3, 4), np.float32), "b": np.zeros((3, 5), np.float32)})
    assert main(["--feats_scp", str(scp), "--out", str(tmp_path / "c.ark")]) == 1
    assert "feats.scp (b): feature dimension 5 differs from 4" in capsys.readouterr().err
    assert not (tmp_path / "c.ark").exists()
    bad = np.zeros((3, 4), np.float32)
    bad[1, 2] = np.inf
    scp = _write_feats(tmp_path, {"a": np.zeros((3, 4), np.float32), "b": bad})
    assert main(["--feats_scp", str(scp), "--out", str(tmp_path / "c.ark")]) == 1
    assert "feats.scp (b): features contain NaN/Inf" in capsys.readouterr().err
    empty = tmp_path / "empty.scp"
    empty.write_text("")
    assert main(["--feats_scp", str(empty), "--out", str(tmp_path / "c.ark")]) == 1
    assert "empty.scp: no utterances" in capsys.readouterr().err


def test_disk_full_is_one_line_naming_the_output(tmp_path, capsys, monkeypatch):
    scp = _write_feats(tmp_path, {"a": np.ones((3, 4), np.float32)})
    out = tmp_path / "cmvn.ark"
    out.write_bytes(b"old")

    def half_written(path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"\0B")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(kaldiio, "save_mat", half_written)
    assert main(["--feats_scp", str(scp), "--out", str(out)]) == 1
    assert capsys.readouterr().err.strip().endswith(
        f"compute_cmvn: error: cannot write {out}: No space left on device")
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmvn.ark", "feats.1.ark", "feats.scp"]
