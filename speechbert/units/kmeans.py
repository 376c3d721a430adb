"""Mini-batch k-means with k-means++ initialisation, in plain NumPy.

Own code rather than scikit-learn: the toolkit does not depend on it, and the part needed here
is small. The algorithm:

1. **k-means++** (greedy, as Arthur & Vassilvitskii with several candidates per step) on
   ``init_size`` frames drawn from the sample, best of ``n_init`` runs;
2. **mini-batch epochs** (Sculley 2010): every epoch visits the sample once in a seeded order,
   batch by batch; each centroid moves towards the mean of its batch frames with the learning
   rate ``1 / (frames it has owned so far)``;
3. after an epoch, a centroid that owned no frame in it is **re-seeded** at the frames farthest
   from their nearest centroid (the frames the codebook explains worst);
4. **stop** when the epoch's inertia (mean squared distance of a frame to its centroid, measured
   when the frame was assigned) improves by less than ``tol`` relative to the previous epoch, or
   after ``max_iter`` epochs.

Every random choice comes from one seed, and every reduction runs in a fixed order, so the same
seed and the same input give the same centroids, bit for bit, on the same machine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from speechbert.errors import ConfigError, DataError

logger = logging.getLogger(__name__)


# The random streams drawn from one seed (numbers of SeedSequence children).
INIT_STREAM, ORDER_STREAM, SAMPLING_STREAM = 0, 1, 2


def rng_stream(seed: int, stream: int) -> np.random.Generator:
    """The generator of random stream ``stream`` of ``seed`` (same on every platform: PCG64)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


@dataclass(frozen=True)
class KMeansConfig:
    """Options of :func:`fit_kmeans`."""

    num_units: int
    batch_size: int = 10000
    max_iter: int = 100  # epochs (passes over the sample)
    tol: float = 1e-4  # stop when the epoch inertia improves by less than this (relative)
    init_size: int | None = None  # frames for k-means++ (default: max(3 * batch_size, 3 * num_units))
    n_init: int = 3  # k-means++ runs; the one of lowest inertia on the init frames is kept
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("num_units", "batch_size", "max_iter", "n_init"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"--{name} must be a positive integer, got {value!r}")
        if not (self.tol >= 0 and np.isfinite(self.tol)):
            raise ConfigError(f"--tol must be a finite number >= 0, got {self.tol!r}")
        if self.init_size is not None and self.init_size < self.num_units:
            raise ConfigError(f"--init_size {self.init_size} is smaller than --num_units {self.num_units}")


@dataclass
class KMeansResult:
    """What :func:`fit_kmeans` found."""

    centroids: np.ndarray  # (num_units, dim) float64
    inertia: list[float] = field(default_factory=list)  # per epoch, mean squared distance per frame
    num_reseeded: int = 0  # centroids re-seeded because they owned no frame in an epoch
    converged: bool = False  # stopped by ``tol`` (not by ``max_iter``)

    @property
    def num_epochs(self) -> int:
        """Epochs run."""
        return len(self.inertia)


def squared_distances(x: np.ndarray, centroids: np.ndarray, c_sqnorm: np.ndarray | None = None) -> np.ndarray:
    """``(len(x), len(centroids))`` squared Euclidean distances, in the dtype of ``centroids``.

    Uses ``|x|^2 - 2 x.c + |c|^2`` (one matrix product); rounding can make it slightly negative
    for coinciding points, so it is clipped at 0.
    """
    x = x.astype(centroids.dtype, copy=False)
    if c_sqnorm is None:
        c_sqnorm = np.einsum("ij,ij->i", centroids, centroids)
    d = x @ centroids.T
    d *= -2
    d += c_sqnorm[None, :]
    d += np.einsum("ij,ij->i", x, x)[:, None]
    np.maximum(d, 0, out=d)
    return d


def nearest(x: np.ndarray, centroids: np.ndarray, c_sqnorm: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centroid of each row of ``x`` (the lowest index on a tie) and the
    squared distance to it."""
    d = squared_distances(x, centroids, c_sqnorm)
    labels = np.argmin(d, axis=1)
    return labels, d[np.arange(len(x)), labels]


def kmeans_plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Greedy k-means++: ``k`` rows of ``x`` (float64 copies) spread out over the data, and their
    inertia on ``x`` (sum of squared distances to the nearest of them).

    Each new centre is the best (lowest resulting inertia) of ``2 + log k`` candidates drawn
    with probability proportional to the squared distance to the nearest centre so far. It is
    still a random draw: on separated blobs about one run in a few hundred leaves a blob without
    a centre, hence :func:`fit_kmeans` keeps the best of ``n_init`` runs.

    Raises:
        DataError: if ``x`` has fewer than ``k`` distinct rows.
    """
    n = len(x)
    x = x.astype(np.float64, copy=False)
    trials = 2 + int(np.log(k))
    chosen = [int(rng.integers(n))]
    closest = squared_distances(x, x[chosen])[:, 0]
    for _ in range(1, k):
        total = float(closest.sum())
        if not total > 0:
            raise DataError(f"the {n} frames used to initialise k-means have only {len(chosen)} distinct "
                            f"values, fewer than the {k} units asked for")
        cumulative = np.cumsum(closest)
        # side="right": a draw never lands on a frame of weight 0 (one that is already a centre)
        candidates = np.minimum(np.searchsorted(cumulative, rng.random(trials) * total, side="right"), n - 1)
        d = squared_distances(x, x[candidates])  # (n, trials)
        np.minimum(d, closest[:, None], out=d)
        best = int(np.argmin(d.sum(axis=0)))
        chosen.append(int(candidates[best]))
        closest = np.ascontiguousarray(d[:, best])
    return x[chosen].copy(), float(closest.sum())


def fit_kmeans(frames: np.ndarray, config: KMeansConfig, init: np.ndarray | None = None) -> KMeansResult:
    """Fit ``config.num_units`` centroids to ``frames`` (``(n, dim)``, finite).

    ``init`` (``(num_units, dim)``) replaces the k-means++ initialisation (tests, warm starts).

    Raises:
        ConfigError: if there are fewer frames than units, or ``init`` has the wrong shape.
        DataError: if the frames hold NaN/Inf or too few distinct values.
    """
    if frames.ndim != 2 or frames.shape[1] < 1:
        raise DataError(f"expected a (frames, dim) matrix, got shape {frames.shape}")
    n, dim = frames.shape
    k = config.num_units
    if n < k:
        raise ConfigError(f"--num_units {k} is more than the {n} frames to cluster")
    if not np.isfinite(frames).all():
        raise DataError("frames contain NaN/Inf")
    # Independent streams for initialisation and epoch order, so that changing one option
    # (e.g. init_size) does not reshuffle everything else.
    init_rng, order_rng = rng_stream(config.seed, INIT_STREAM), rng_stream(config.seed, ORDER_STREAM)
    if init is None:
        init_size = min(n, config.init_size or max(3 * config.batch_size, 3 * k))
        subset = frames[np.sort(init_rng.permutation(n)[:init_size])].astype(np.float64)
        runs = [kmeans_plus_plus(subset, k, init_rng) for _ in range(config.n_init)]
        centroids = min(runs, key=lambda run: run[1])[0]  # the first of the lowest on a tie
    else:
        if init.shape != (k, dim):
            raise ConfigError(f"initial centroids have shape {init.shape}, expected {(k, dim)}")
        centroids = np.array(init, dtype=np.float64)
    result = KMeansResult(centroids=centroids)
    counts = np.zeros(k, dtype=np.int64)  # frames each centroid has owned: its learning rate is 1/count
    last_dist = np.zeros(n, dtype=np.float64)
    for epoch in range(1, config.max_iter + 1):
        owned = np.zeros(k, dtype=np.int64)
        order = order_rng.permutation(n)
        for start in range(0, n, config.batch_size):
            idx = order[start:start + config.batch_size]
            batch = frames[idx].astype(np.float64)
            labels, dist = nearest(batch, centroids)
            last_dist[idx] = dist
            _update(centroids, counts, owned, batch, labels)
        inertia = float(last_dist.sum() / n)
        result.inertia.append(inertia)
        empty = np.flatnonzero(owned == 0)
        if len(empty):
            _reseed(centroids, counts, empty, frames, last_dist)
            result.num_reseeded += len(empty)
        logger.info("k-means epoch %d/%d: inertia %.6g per frame%s", epoch, config.max_iter, inertia,
                    f"; re-seeded {len(empty)} empty unit(s) at far frames" if len(empty) else "")
        if len(empty) == 0 and epoch > 1:
            prev = result.inertia[-2]
            if inertia == 0 or (prev - inertia) <= config.tol * prev:
                result.converged = True
                break
    return result


def _update(centroids: np.ndarray, counts: np.ndarray, owned: np.ndarray, batch: np.ndarray,
            labels: np.ndarray) -> None:
    """One mini-batch step: each centroid moves to the running mean of the frames it owned."""
    order = np.argsort(labels, kind="stable")  # a fixed summation order: deterministic sums
    sorted_labels = labels[order]
    units, starts, sizes = np.unique(sorted_labels, return_index=True, return_counts=True)
    sums = np.add.reduceat(batch[order], starts, axis=0)
    counts[units] += sizes
    owned[units] += sizes
    rate = (1.0 / counts[units])[:, None]
    centroids[units] += (sums - sizes[:, None] * centroids[units]) * rate


def _reseed(centroids: np.ndarray, counts: np.ndarray, empty: np.ndarray, frames: np.ndarray,
            last_dist: np.ndarray) -> None:
    """Move the ``empty`` centroids onto the frames farthest from their nearest centroid."""
    far = np.argsort(-last_dist, kind="stable")[:len(empty)]
    centroids[empty] = frames[far].astype(np.float64)
    counts[empty] = 0  # a fresh start: its next batch sets it to the mean of what it owns
    last_dist[far] = 0.0  # these frames are now explained exactly
