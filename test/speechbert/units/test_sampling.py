"""Tests for speechbert.units.sampling: a seeded, bounded, length-proportional frame sample."""

from __future__ import annotations

import numpy as np
import pytest

from speechbert.errors import DataError
from speechbert.io.feats import ArkWriter, FeatsReader
from speechbert.units.sampling import sample_frames


def write_scp(tmp_path, mats: dict[str, np.ndarray]):
    ark, scp = tmp_path / "feats.ark", tmp_path / "feats.scp"
    with ArkWriter(ark, ark) as w:
        for utt, m in mats.items():
            w.write(utt, m.astype(np.float32))
    scp.write_text("".join(w.scp_lines))
    return scp


def tagged(lengths: list[int]) -> dict[str, np.ndarray]:
    """Utterance i's frame t is ``[i, t]``: every sampled row says where it came from."""
    return {f"u{i}": np.stack([np.full(n, i), np.arange(n)], axis=1) for i, n in enumerate(lengths)}


def test_all_frames_in_scp_order_when_they_fit(tmp_path):
    mats = tagged([5, 0, 7, 3])
    scp = write_scp(tmp_path, mats)
    with FeatsReader(scp) as r:
        s = sample_frames(r, max_frames=15, seed=1)
    np.testing.assert_array_equal(s.frames, np.concatenate(list(mats.values())))
    assert (s.total_frames, s.total_utts, s.num_utts) == (15, 4, 3)


def test_bounded_seeded_sample_spread_by_length(tmp_path):
    lengths = [1000, 4000, 500, 2500, 2000]
    scp = write_scp(tmp_path, tagged(lengths))
    with FeatsReader(scp) as r:
        a = sample_frames(r, max_frames=3000, seed=3)
        b = sample_frames(r, max_frames=3000, seed=3)
        c = sample_frames(r, max_frames=3000, seed=4)
    assert a.frames.shape == (3000, 2) and a.total_frames == 10000
    assert a.frames.tobytes() == b.frames.tobytes() and a.frames.tobytes() != c.frames.tobytes()
    utt, t = a.frames[:, 0].astype(int), a.frames[:, 1].astype(int)
    assert (t < np.array(lengths)[utt]).all()  # real frames of their utterance
    assert len({(u, f) for u, f in zip(utt, t)}) == 3000  # without replacement
    assert (np.diff(utt) >= 0).all()  # scp order
    share = np.bincount(utt, minlength=5) / 3000
    # proportional to length (the standard deviation of a share is below 0.008)
    np.testing.assert_allclose(share, np.array(lengths) / 10000, atol=0.03)


def test_bad_features_name_the_utterance(tmp_path):
    mats = {k: v.astype(np.float32) for k, v in tagged([4, 4]).items()}
    mats["u1"][2, 0] = np.nan
    with FeatsReader(write_scp(tmp_path, mats)) as r:
        with pytest.raises(DataError, match=r"feats.scp \(u1\): features contain NaN/Inf"):
            sample_frames(r, 100, 1)
    other = tmp_path / "other"
    other.mkdir()
    with FeatsReader(write_scp(other, {"a": np.zeros((3, 2)), "b": np.zeros((3, 5))})) as r:
        with pytest.raises(DataError, match=r"\(b\): feature dimension 5 differs from 2"):
            sample_frames(r, 100, 1)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "feats.scp").write_text("")
    with FeatsReader(empty / "feats.scp") as r:
        with pytest.raises(DataError, match="no utterances"):
            sample_frames(r, 100, 1)


def test_few_frames_of_long_utterances_are_read_one_by_one(tmp_path, monkeypatch):
    lengths = [2000, 3000, 40]
    scp = write_scp(tmp_path, tagged(lengths))
    calls = []
    with FeatsReader(scp) as r:
        load = r.load
        monkeypatch.setattr(r, "load", lambda utt, *a: calls.append((utt, *a)) or load(utt, *a))
        s = sample_frames(r, max_frames=100, seed=2)
    utt, t = s.frames[:, 0].astype(int), s.frames[:, 1].astype(int)
    assert len(s.frames) == 100 and len(set(zip(utt, t))) == 100
    assert (t < np.array(lengths)[utt]).all() and (np.diff(utt * 10000 + t) > 0).all()
    # u0, u1: one read per sampled frame; never the whole matrix
    assert all(len(c) == 3 and c[2] == c[1] + 1 for c in calls if c[0] in ("u0", "u1"))
    assert sum(c[0] in ("u0", "u1") for c in calls) == int((utt < 2).sum())
