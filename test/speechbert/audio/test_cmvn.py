"""Tests for speechbert.audio.cmvn: Kaldi-layout global stats, reading/writing, normalization."""

from __future__ import annotations

import logging
import pickle

import kaldiio
import numpy as np
import pytest
import torch

from speechbert.audio.cmvn import CMVNAccumulator, GlobalCMVN, compute_stats, read_stats, write_stats
from speechbert.errors import DataError


@pytest.fixture
def utts() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(3)
    mean = np.array([5.0, -2.0, 0.5, 10.0])
    std = np.array([2.0, 0.5, 1.0, 3.0])
    return [(f"u{i}", (mean + std * rng.standard_normal((n, 4))).astype(np.float32))
            for i, n in enumerate([50, 120, 7])]


def test_stats_are_kaldi_layout_and_match_numpy(utts):
    stats = compute_stats(utts)
    allf = np.concatenate([f for _, f in utts]).astype(np.float64)
    assert stats.shape == (2, 5) and stats.dtype == np.float64
    np.testing.assert_allclose(stats[0, :4], allf.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats[1, :4], (allf**2).sum(axis=0), rtol=1e-12)
    assert stats[0, 4] == 177 and stats[1, 4] == 0


def test_global_cmvn_normalizes_to_zero_mean_unit_variance(utts):
    cmvn = GlobalCMVN(compute_stats(utts))
    allf = np.concatenate([f for _, f in utts])
    out = cmvn(allf)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-5)
    np.testing.assert_allclose(cmvn.mean, allf.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(cmvn.std, allf.std(axis=0), rtol=1e-5)
    means_only = cmvn(allf, norm_vars=False)
    np.testing.assert_allclose(means_only.std(axis=0), allf.std(axis=0), rtol=1e-5)
    np.testing.assert_allclose(means_only.mean(axis=0), 0.0, atol=1e-4)
    # the input is not modified
    assert not np.allclose(allf.mean(axis=0), 0.0)


def test_torch_input_gives_the_same_result(utts):
    cmvn = GlobalCMVN(compute_stats(utts))
    x = utts[1][1]
    got = cmvn(torch.from_numpy(x))
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), cmvn(x), rtol=1e-6)
    batched = cmvn(torch.from_numpy(np.stack([x[:5], x[5:10]])))
    np.testing.assert_allclose(batched[1].numpy(), cmvn(x[5:10]), rtol=1e-6)
    clone = pickle.loads(pickle.dumps(cmvn))  # DataLoader workers get a copy
    assert clone._torch_cache == {}
    np.testing.assert_allclose(clone(torch.from_numpy(x)).numpy(), got.numpy())


def test_write_and_read_with_kaldiio(tmp_path, utts):
    stats = compute_stats(utts)
    path = tmp_path / "cmvn.ark"
    write_stats(path, stats)
    np.testing.assert_array_equal(kaldiio.load_mat(str(path)), stats)
    np.testing.assert_array_equal(read_stats(path), stats)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmvn.ark"]
    loaded = GlobalCMVN.load(path)
    np.testing.assert_allclose(loaded(utts[0][1]), GlobalCMVN(stats)(utts[0][1]))


def test_a_one_entry_ark_is_accepted(tmp_path, utts):
    stats = compute_stats(utts)
    kaldiio.save_ark(str(tmp_path / "keyed.ark"), {"global": stats})
    np.testing.assert_array_equal(read_stats(tmp_path / "keyed.ark"), stats)
    kaldiio.save_ark(str(tmp_path / "two.ark"), {"spk1": stats, "spk2": stats})
    with pytest.raises(DataError, match=r"two\.ark: expected one global stats matrix, found 2"):
        read_stats(tmp_path / "two.ark")


def test_variance_floor(caplog):
    feats = np.ones((10, 3), dtype=np.float32)
    feats[:, 1] = np.arange(10)
    with caplog.at_level(logging.WARNING):
        cmvn = GlobalCMVN(compute_stats([("u", feats)]))
    assert "flooring the variance of 2 of 3 dimensions" in caplog.text
    out = cmvn(feats)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[:, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(out[:, 1].std(), 1.0, rtol=1e-5)


def test_errors(tmp_path, utts):
    cmvn = GlobalCMVN(compute_stats(utts))
    with pytest.raises(DataError, match="features have dimension 3 but the CMVN stats have 4"):
        cmvn(np.zeros((2, 3), dtype=np.float32))
    acc = CMVNAccumulator()
    acc.add(np.zeros((2, 4), dtype=np.float32), "a")
    with pytest.raises(DataError, match=r"b: feature dimension 5 differs from 4"):
        acc.add(np.zeros((2, 5), dtype=np.float32), "b")
    with pytest.raises(DataError, match="no feature frames"):
        _ = CMVNAccumulator().stats
    with pytest.raises(DataError, match="no such CMVN stats file"):
        read_stats(tmp_path / "missing.ark")
    bad = tmp_path / "bad.ark"
    kaldiio.save_mat(str(bad), np.zeros((3, 5)))
    with pytest.raises(DataError, match=r"bad\.ark: CMVN stats must be a 2 x \(D\+1\) matrix"):
        read_stats(bad)
