"""Tests for speechbert.units.kmeans: k-means++ + mini-batch k-means on synthetic blobs."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from speechbert.errors import ConfigError, DataError
from speechbert.units.kmeans import KMeansConfig, fit_kmeans, kmeans_plus_plus, nearest, rng_stream, squared_distances


def blobs(k: int = 6, dim: int = 5, per: int = 300, spread: float = 12.0, seed: int = 0):
    """``k`` unit-variance Gaussian blobs whose centres are ``spread`` apart (scaled normal)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim)) * spread
    labels = np.repeat(np.arange(k), per)
    rng.shuffle(labels)
    x = (centres[labels] + rng.standard_normal((len(labels), dim))).astype(np.float32)
    return x, labels, centres


def purity(pred: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of frames whose predicted cluster's majority true label is theirs."""
    hits = 0
    for c in np.unique(pred):
        hits += np.bincount(truth[pred == c]).max()
    return hits / len(truth)


def match(centroids: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """For each true centre the index of the nearest centroid."""
    return np.argmin(squared_distances(centres, centroids), axis=1)


def test_recovers_well_separated_blobs():
    x, labels, centres = blobs()
    result = fit_kmeans(x, KMeansConfig(num_units=6, batch_size=256, seed=1))
    pred, dist = nearest(x, result.centroids)
    assert purity(pred, labels) == 1.0
    assert len(np.unique(pred)) == 6  # one unit per blob, not two in one
    m = match(result.centroids, centres)
    assert sorted(m) == list(range(6))
    # each centroid within a few standard errors (1/sqrt(300) per coordinate) of its blob's centre
    np.testing.assert_allclose(result.centroids[m], centres, atol=0.25)
    # inertia per frame: the blob noise, 1 per dimension
    assert result.inertia[-1] == pytest.approx(5.0, rel=0.08)
    assert result.converged and result.num_epochs < 100
    assert result.inertia[-1] < result.inertia[0]


def test_same_seed_same_bytes_and_another_seed_differs():
    x, labels, _ = blobs(seed=3)
    a = fit_kmeans(x, KMeansConfig(num_units=6, batch_size=100, seed=7))
    b = fit_kmeans(x, KMeansConfig(num_units=6, batch_size=100, seed=7))
    c = fit_kmeans(x, KMeansConfig(num_units=6, batch_size=100, seed=8))
    assert a.centroids.tobytes() == b.centroids.tobytes()
    assert a.inertia == b.inertia
    assert a.centroids.tobytes() != c.centroids.tobytes()
    assert purity(nearest(x, c.centroids)[0], labels) == 1.0


def test_empty_unit_is_reseeded_at_far_frames(caplog):
    x, labels, centres = blobs(k=4, seed=5)
    init = np.array(centres, dtype=np.float64)
    init[2] = centres[1] + 0.01  # two centroids on blob 1, none on blob 2
    init[3] = 1e4  # far from every frame: owns nothing
    with caplog.at_level(logging.INFO, logger="speechbert.units.kmeans"):
        result = fit_kmeans(x, KMeansConfig(num_units=4, batch_size=200, seed=1), init=init)
    assert result.num_reseeded >= 1
    assert "re-seeded" in caplog.text
    pred, _ = nearest(x, result.centroids)
    assert purity(pred, labels) == 1.0 and len(np.unique(pred)) == 4
    assert np.abs(result.centroids).max() < 100  # the far centroid did not survive


def test_inertia_is_logged_per_epoch_and_max_iter_stops(caplog):
    x, _, _ = blobs(seed=2)
    with caplog.at_level(logging.INFO, logger="speechbert.units.kmeans"):
        result = fit_kmeans(x, KMeansConfig(num_units=6, batch_size=50, max_iter=2, tol=0.0, seed=1))
    assert result.num_epochs == 2 and not result.converged
    assert "k-means epoch 1/2: inertia" in caplog.text and "k-means epoch 2/2: inertia" in caplog.text


def test_nearest_matches_brute_force_and_breaks_ties_low():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3))
    c = rng.standard_normal((7, 3))
    brute = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    labels, dist = nearest(x, c)
    np.testing.assert_array_equal(labels, brute.argmin(1))
    np.testing.assert_allclose(dist, brute.min(1), rtol=1e-10, atol=1e-12)
    tie = np.array([[0.0, 0.0]])
    assert nearest(tie, np.array([[1.0, 0.0], [-1.0, 0.0]]))[0][0] == 0


def test_kmeans_plus_plus_spreads_over_blobs():
    x, labels, centres = blobs(k=8, seed=4)
    init, inertia = kmeans_plus_plus(x, 8, rng_stream(1, 0))
    assert sorted(match(init, centres)) == list(range(8))
    assert inertia == pytest.approx(squared_distances(x, init).min(axis=1).sum())


def test_bad_input_is_a_clear_error():
    x, _, _ = blobs(k=2, per=3)
    with pytest.raises(ConfigError, match="--num_units 10 is more than the 6 frames"):
        fit_kmeans(x, KMeansConfig(num_units=10))
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        fit_kmeans(bad, KMeansConfig(num_units=2))
    same = np.ones((20, 3), np.float32)
    same[10:] = 2.0
    with pytest.raises(DataError, match="only 2 distinct values, fewer than the 3 units"):
        fit_kmeans(same, KMeansConfig(num_units=3))
    for kw, what in (({"num_units": 0}, "--num_units"), ({"num_units": 2, "batch_size": 0}, "--batch_size"),
                     ({"num_units": 2, "max_iter": 0}, "--max_iter"),
                     ({"num_units": 2, "n_init": 0}, "--n_init"), ({"num_units": 2, "tol": -1.0}, "--tol"),
                     ({"num_units": 4, "init_size": 3}, "--init_size 3")):
        with pytest.raises(ConfigError, match=what):
            KMeansConfig(**kw)
    with pytest.raises(ConfigError, match=r"initial centroids have shape \(3, 5\)"):
        fit_kmeans(blobs()[0], KMeansConfig(num_units=6), init=np.zeros((3, 5)))
