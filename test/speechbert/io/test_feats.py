"""Tests for speechbert.io.feats.FeatsReader: lazy loads, frame slices, CMVN on load, caching."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import kaldiio
import numpy as np
import pytest

from speechbert.audio.cmvn import GlobalCMVN, compute_stats, write_stats
from speechbert.errors import DataError
from speechbert.io.feats import ArkWriter, FeatsReader


def _write(tmp_path: Path, name: str, mats: dict[str, np.ndarray], **kw) -> Path:
    ark, scp = tmp_path / f"{name}.ark", tmp_path / f"{name}.scp"
    with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}", **kw) as w:
        for k, v in mats.items():
            w(k, v)
    return scp


@pytest.fixture
def mats() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {f"utt{i}": (3.0 + 2.0 * rng.standard_normal((n, 6))).astype(np.float32)
            for i, n in enumerate([40, 1, 75, 13])}


@pytest.fixture
def scp(tmp_path, mats) -> Path:
    return _write(tmp_path, "feats", mats)


def test_whole_and_sliced_loads_equal_the_written_matrices(scp, mats):
    r = FeatsReader(scp)
    assert r.keys() == list(mats) and len(r) == 4 and "utt2" in r and r.dim() == 6
    for utt, m in mats.items():
        assert r.num_frames(utt) == m.shape[0]
        np.testing.assert_array_equal(r.load(utt), m)
        np.testing.assert_array_equal(r[utt], m)
    m = mats["utt2"]
    for s, e in [(0, 1), (10, 20), (74, 75), (30, 30), (0, 75)]:
        got = r.load("utt2", s, e)
        assert got.dtype == np.float32 and got.shape == (e - s, 6)
        np.testing.assert_array_equal(got, m[s:e])
    np.testing.assert_array_equal(r.load("utt2", start_frame=70), m[70:])
    np.testing.assert_array_equal(r.load("utt2", end_frame=3), m[:3])


def test_end_past_the_utterance_is_clipped_and_bad_ranges_are_errors(scp, mats):
    r = FeatsReader(scp)
    np.testing.assert_array_equal(r.load("utt0", 38, 42), mats["utt0"][38:])
    assert r.load("utt0", 40, 41).shape == (0, 6)
    with pytest.raises(DataError, match=r"feats\.scp \(utt0\): bad frame range \[-1, 5\)"):
        r.load("utt0", -1, 5)
    with pytest.raises(DataError, match=r"bad frame range \[10, 5\)"):
        r.load("utt0", 10, 5)
    with pytest.raises(DataError, match=r"bad frame range \[41, 45\) for an utterance of 40 frames"):
        r.load("utt0", 41, 45)
    with pytest.raises(DataError, match=r"\(nope\): no such utterance"):
        r.load("nope")


def test_cmvn_is_applied_on_load(tmp_path, scp, mats):
    stats = compute_stats(mats.items())
    write_stats(tmp_path / "cmvn.ark", stats)
    cmvn = GlobalCMVN(stats)
    for r in (FeatsReader(scp, tmp_path / "cmvn.ark"), FeatsReader(scp, cmvn, cache_size=2)):
        np.testing.assert_allclose(r.load("utt2", 5, 9), cmvn(mats["utt2"][5:9]), rtol=1e-6)
        allf = np.concatenate([r.load(u) for u in r.keys()])
        np.testing.assert_allclose(allf.mean(axis=0), 0.0, atol=1e-5)
    means_only = FeatsReader(scp, cmvn, norm_vars=False)
    np.testing.assert_allclose(means_only.load("utt0"), mats["utt0"] - cmvn.mean, rtol=1e-6, atol=1e-6)


def test_lru_cache_returns_copies_and_evicts(scp, mats):
    r = FeatsReader(scp, cache_size=2)
    a = r.load("utt0", 0, 5)
    a[:] = 0  # must not change what the next load returns
    np.testing.assert_array_equal(r.load("utt0", 0, 5), mats["utt0"][:5])
    for utt in ("utt1", "utt2", "utt3", "utt0"):
        np.testing.assert_array_equal(r.load(utt), mats[utt])
    assert list(r._cache) == ["utt3", "utt0"]


def test_float64_compressed_and_multiple_archives(tmp_path, mats):
    dbl = _write(tmp_path, "dbl", {"d": mats["utt0"].astype(np.float64)})
    cmp = _write(tmp_path, "cmp", {"c": mats["utt2"]}, compression_method=2)
    joined = tmp_path / "all.scp"
    joined.write_text(dbl.read_text() + cmp.read_text())
    r = FeatsReader(joined, max_open_files=1)
    for _ in range(2):  # alternate archives with a single open descriptor
        d = r.load("d", 3, 7)
        assert d.dtype == np.float32
        np.testing.assert_array_equal(d, mats["utt0"][3:7])
        c = r.load("c", 10, 20)
        np.testing.assert_allclose(c, mats["utt2"][10:20], atol=0.1)  # lossy compression
    assert r.num_frames("c") == 75 and r.dim("c") == 6


def test_truncated_archive_is_an_error(tmp_path, mats):
    scp = _write(tmp_path, "t", {"a": mats["utt2"]})
    ark = tmp_path / "t.ark"
    os.truncate(ark, ark.stat().st_size - 100)
    with pytest.raises(DataError, match=r"\(a\): archive .*t\.ark is truncated"):
        FeatsReader(scp).load("a")
    np.testing.assert_array_equal(FeatsReader(scp).load("a", 0, 10), mats["utt2"][:10])


def test_missing_archive_is_an_error(tmp_path):
    scp = tmp_path / "feats.scp"
    scp.write_text(f"a {tmp_path}/gone.ark:5\n")
    with pytest.raises(DataError, match=r"\(a\): cannot open archive .*gone\.ark"):
        FeatsReader(scp).load("a")


def test_pickle_drops_handles_and_still_reads(scp, mats):
    r = FeatsReader(scp, cache_size=4)
    r.load("utt0")
    clone = pickle.loads(pickle.dumps(r))
    assert not clone._fds and not clone._cache
    np.testing.assert_array_equal(clone.load("utt3", 2, 4), mats["utt3"][2:4])


def test_reads_after_fork_are_correct(scp, mats):
    r = FeatsReader(scp)
    r.load("utt2", 0, 2)  # descriptor opened before the fork, as in DataLoader workers
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: read interleaved with the parent through the shared descriptor
        ok = all(np.array_equal(r.load("utt2", i, i + 3), mats["utt2"][i:i + 3]) for i in range(0, 70, 3))
        os.write(write_fd, b"1" if ok else b"0")
        os._exit(0)
    ok_parent = all(np.array_equal(r.load("utt2", i, i + 5), mats["utt2"][i:i + 5]) for i in range(70, 0, -5))
    os.waitpid(pid, 0)
    assert os.read(read_fd, 1) == b"1" and ok_parent


def test_ark_writer_writes_the_bytes_kaldiio_writes(tmp_path):
    rng = np.random.default_rng(3)
    mats = {"utt-a": rng.standard_normal((7, 80)).astype(np.float32),
            "b": rng.standard_normal((1, 3)).astype(np.float32),
            "c": np.asfortranarray(rng.standard_normal((5, 4)).astype(np.float32)),  # not C-contiguous
            "d": rng.standard_normal((4, 2)).astype(">f4")}  # big-endian input: stored little-endian
    ref_ark, ref_scp = tmp_path / "ref.ark", tmp_path / "ref.scp"
    with kaldiio.WriteHelper(f"ark,scp:{ref_ark},{ref_scp}") as w:
        for k, m in mats.items():
            w(k, np.asarray(m, dtype=np.float32))
    with ArkWriter(tmp_path / "tmp.ark", ref_ark) as w:
        for k, m in mats.items():
            w.write(k, m)
    assert (tmp_path / "tmp.ark").read_bytes() == ref_ark.read_bytes()
    assert "".join(w.scp_lines) == ref_scp.read_text()
    loaded = kaldiio.load_scp(str(ref_scp))
    np.testing.assert_array_equal(loaded["d"], mats["d"])


@pytest.mark.parametrize("key, mat", [("a b", np.zeros((2, 2), np.float32)), ("", np.zeros((2, 2), np.float32)),
                                      ("k", np.zeros((2, 2), np.float64)), ("k", np.zeros(3, np.float32))])
def test_ark_writer_rejects_what_it_cannot_write(tmp_path, key, mat):
    with ArkWriter(tmp_path / "x.ark", tmp_path / "x.ark") as w, pytest.raises(ValueError):
        w.write(key, mat)
