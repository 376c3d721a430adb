"""Tests for speechbert.units.codebook: the file, its checks, normalisation and assignment."""

from __future__ import annotations

import json
import time
import zipfile

import numpy as np
import pytest

from speechbert.errors import DataError
from speechbert.units.codebook import Codebook, normalization_stats

FACTS = {"feats_type": "ssl 3", "frame_shift": 0.02, "feats_config": {"layer": 6, "model": "m"}}


def codebook(normalize: bool = False) -> Codebook:
    centroids = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], np.float32)
    mean = std = None
    if normalize:
        mean, std = np.array([1, 2, 3], np.float32), np.array([2, 4, 0.5], np.float32)
    return Codebook(centroids, mean, std, info={"feats_type": "ssl 3", "frame_shift": 0.02,
                                                "feats_config": {"layer": 6, "model": "m"}, "seed": 4})


def test_round_trip_is_exact_and_the_same_bytes(tmp_path):
    cb = codebook(normalize=True)
    cb.save(tmp_path / "a.npz")
    time.sleep(1.1)  # a zip member's time has 2 s resolution: make a wall clock visible if it leaks in
    cb.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    back = Codebook.load(tmp_path / "a.npz")
    assert back.centroids.tobytes() == cb.centroids.tobytes()
    np.testing.assert_array_equal(back.mean, cb.mean)
    np.testing.assert_array_equal(back.std, cb.std)
    assert back.info["feats_type"] == "ssl 3" and back.info["seed"] == 4 and back.path == str(tmp_path / "a.npz")
    # inspectable with plain tools: numpy reads the arrays, the header is JSON text
    with np.load(tmp_path / "a.npz") as npz:
        np.testing.assert_array_equal(npz["centroids"], cb.centroids)
    head = json.loads(zipfile.ZipFile(tmp_path / "a.npz").read("header.json"))
    assert head["num_units"] == 4 and head["dim"] == 3 and head["normalize"] is True


def test_assignment_uses_the_stored_normalisation():
    plain = codebook()
    feats = np.array([[9, 1, 0], [0, 0, 0.4], [1, 1, 8], [0.1, 6, 0]], np.float32)
    np.testing.assert_array_equal(plain.assign(feats), [1, 0, 3, 2])
    norm = codebook(normalize=True)
    # (x - mean) / std = the rows above
    raw = feats * norm.std + norm.mean
    np.testing.assert_array_equal(norm.assign(raw), [1, 0, 3, 2])


def test_normalization_stats_centre_a_constant_dimension():
    x = np.array([[1, 5], [3, 5], [5, 5]], np.float32)
    mean, std = normalization_stats(x)
    np.testing.assert_allclose(mean, [3, 5])
    np.testing.assert_allclose(std, [np.sqrt(8 / 3), 1.0], rtol=1e-6)


def test_features_of_another_kind_are_refused_naming_both(tmp_path):
    cb = codebook()
    cb.save(tmp_path / "cb.npz")
    cb.check_fits(3, FACTS, "dump/test/feats.scp")  # the same kind: fine
    cb.check_fits(3, {"feats_type": None, "frame_shift": None, "feats_config": None}, "x")  # unknown: fine
    with pytest.raises(DataError, match=rf"codebook {tmp_path}/cb.npz is for 3-dim features \('ssl 3'\) but "
                                        r"dump/test/feats.scp has 80-dim features \('fbank 80'\)"):
        cb.check_fits(80, {"feats_type": "fbank 80"}, "dump/test/feats.scp")
    with pytest.raises(DataError, match="learned on 'ssl 3' features but d/feats.scp has 'mfcc 3'"):
        cb.check_fits(3, {**FACTS, "feats_type": "mfcc 3"}, "d/feats.scp")
    with pytest.raises(DataError, match="frame shift of 0.02 s but d/feats.scp has 0.01 s"):
        cb.check_fits(3, {**FACTS, "frame_shift": 0.01}, "d/feats.scp")
    with pytest.raises(DataError, match="another feature config than d/feats.scp .they differ in layer"):
        cb.check_fits(3, {**FACTS, "feats_config": {"layer": 9, "model": "m"}}, "d/feats.scp")
    nested = codebook()
    nested.info["feats_config"] = {"frontend": "ssl", "frontend_conf": {"layer": 9, "family": "hubert"}}
    with pytest.raises(DataError, match=r"they differ in frontend_conf.layer\)"):
        nested.check_fits(3, {**FACTS, "feats_config": {"frontend": "ssl",
                                                        "frontend_conf": {"layer": 6, "family": "hubert"}}}, "d")


def test_bad_files_are_errors_naming_them(tmp_path):
    with pytest.raises(DataError, match=r"none.npz: no such file"):
        Codebook.load(tmp_path / "none.npz")
    (tmp_path / "text.npz").write_text("not a zip\n")
    with pytest.raises(DataError, match=r"text.npz: not a units codebook \(cannot read it as an .npz"):
        Codebook.load(tmp_path / "text.npz")
    np.savez(tmp_path / "plain.npz", centroids=np.zeros((2, 3)))
    with pytest.raises(DataError, match=r"plain.npz: not a units codebook \(no header.json"):
        Codebook.load(tmp_path / "plain.npz")
    codebook().save(tmp_path / "cb.npz")
    with zipfile.ZipFile(tmp_path / "cb.npz") as z:
        head = json.loads(z.read("header.json"))
        centroids = z.read("centroids.npy")
    head["dim"] = 5
    with zipfile.ZipFile(tmp_path / "wrong.npz", "w") as z:
        z.writestr("header.json", json.dumps(head))
        z.writestr("centroids.npy", centroids)
    with pytest.raises(DataError, match=r"wrong.npz: centroids.npy holds float32 \(4, 3\); the header says \(4, 5\)"):
        Codebook.load(tmp_path / "wrong.npz")
