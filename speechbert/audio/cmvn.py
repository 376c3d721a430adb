"""Global cepstral mean and variance normalization with Kaldi-layout statistics.

The statistics are a ``2 x (D+1)`` float64 matrix, as Kaldi's ``compute-cmvn-stats`` writes
without ``--spk2utt``: row 0 holds the per-dimension sums and the frame count in the last
column, row 1 the per-dimension sums of squares (its last column is unused, 0).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, TypeVar

import kaldiio
import numpy as np

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_path

logger = logging.getLogger(__name__)

# Kaldi's apply-cmvn floors the variance at this value before taking 1/sqrt.
DEFAULT_VAR_FLOOR = 1.0e-10

ArrayT = TypeVar("ArrayT")


class CMVNAccumulator:
    """Accumulate global CMVN statistics over feature matrices in float64."""

    def __init__(self) -> None:
        self._stats: np.ndarray | None = None

    def add(self, feats: np.ndarray, utt: str | None = None, where: str | Path | None = None) -> None:
        """Add the frames of one ``(frames, dim)`` matrix (``where``: the file it came from).

        Raises:
            DataError: naming ``where`` and ``utt`` if the dimension differs from earlier matrices.
        """
        if feats.ndim != 2:
            raise DataError(f"expected a (frames, dim) matrix, got shape {feats.shape}", where, key=utt)
        dim = feats.shape[1]
        if self._stats is None:
            self._stats = np.zeros((2, dim + 1), dtype=np.float64)
        elif self._stats.shape[1] != dim + 1:
            raise DataError(f"feature dimension {dim} differs from {self._stats.shape[1] - 1} "
                            "seen in earlier utterances", where, key=utt)
        x = feats.astype(np.float64, copy=False)
        self._stats[0, :dim] += x.sum(axis=0)
        self._stats[1, :dim] += np.einsum("ij,ij->j", x, x)
        self._stats[0, dim] += x.shape[0]

    @property
    def stats(self) -> np.ndarray:
        """The ``2 x (D+1)`` statistics matrix.

        Raises:
            DataError: if no frames were added.
        """
        if self._stats is None or self._stats[0, -1] <= 0:
            raise DataError("no feature frames to compute CMVN statistics from")
        return self._stats.copy()


def compute_stats(matrices: Iterable[tuple[str, np.ndarray]]) -> np.ndarray:
    """Global CMVN statistics of ``(utt, feats)`` pairs."""
    acc = CMVNAccumulator()
    for utt, feats in matrices:
        acc.add(feats, utt)
    return acc.stats


def write_stats(path: str | Path, stats: np.ndarray) -> None:
    """Write statistics as a single Kaldi binary float64 matrix, atomically (kaldiio)."""
    stats = np.asarray(stats, dtype=np.float64)
    _check_stats(stats, path)
    with atomic_path(path) as tmp:
        kaldiio.save_mat(str(tmp), stats)


def read_stats(path: str | Path) -> np.ndarray:
    """Read a statistics matrix written by :func:`write_stats` or Kaldi's ``compute-cmvn-stats``.

    A one-entry ark (``<key> <matrix>``) is accepted too.

    Raises:
        DataError: naming the file if it is missing, unreadable or not ``2 x (D+1)``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("no such CMVN stats file", path)
    try:
        stats = kaldiio.load_mat(str(path))
    except Exception:  # noqa: BLE001 - kaldiio raises many types for a keyed ark or bad data
        try:
            entries = kaldiio.load_ark(str(path))
            items = list(entries)
        except Exception as e:  # noqa: BLE001
            raise DataError(f"cannot read CMVN stats: {type(e).__name__}: {e}", path) from None
        if len(items) != 1:
            raise DataError(f"expected one global stats matrix, found {len(items)} entries "
                            "(per-speaker stats are not supported)", path)
        stats = items[0][1]
    stats = np.asarray(stats, dtype=np.float64)
    _check_stats(stats, path)
    return stats


def _check_stats(stats: np.ndarray, path: str | Path | None) -> None:
    if stats.ndim != 2 or stats.shape[0] != 2 or stats.shape[1] < 2:
        raise DataError(f"CMVN stats must be a 2 x (D+1) matrix, got shape {stats.shape}", path)
    if not np.isfinite(stats).all():
        raise DataError("CMVN stats contain NaN/Inf", path)
    if stats[0, -1] < 1:
        raise DataError(f"CMVN stats frame count is {stats[0, -1]:g}; need at least one frame", path)


class GlobalCMVN:
    """Apply global mean (and variance) normalization from Kaldi-layout statistics.

    ``cmvn(feats)`` returns ``(feats - mean) / std`` (float32); works on NumPy arrays and
    torch tensors of shape ``(..., D)``.
    """

    def __init__(self, stats: np.ndarray, var_floor: float = DEFAULT_VAR_FLOOR,
                 source: str | Path | None = None) -> None:
        stats = np.asarray(stats, dtype=np.float64)
        _check_stats(stats, source)
        count = stats[0, -1]
        mean = stats[0, :-1] / count
        var = stats[1, :-1] / count - mean**2
        floored = var < var_floor
        if floored.any():
            logger.warning("CMVN: flooring the variance of %d of %d dimensions to %g%s",
                           int(floored.sum()), len(var), var_floor, f" ({source})" if source else "")
            var = np.maximum(var, var_floor)
        self.source = None if source is None else str(source)
        self.count = float(count)
        self.mean = mean.astype(np.float32)
        self.std = np.sqrt(var).astype(np.float32)
        self._scale = (1.0 / np.sqrt(var)).astype(np.float32)
        self._torch_cache: dict = {}

    @classmethod
    def load(cls, path: str | Path, var_floor: float = DEFAULT_VAR_FLOOR) -> "GlobalCMVN":
        """Read statistics from ``path`` (see :func:`read_stats`)."""
        return cls(read_stats(path), var_floor=var_floor, source=path)

    @property
    def dim(self) -> int:
        """Feature dimension the statistics describe."""
        return int(self.mean.shape[0])

    def __call__(self, feats: ArrayT, norm_means: bool = True, norm_vars: bool = True) -> ArrayT:
        """Normalize ``feats`` (last axis = feature dimension); returns a new float32 array/tensor.

        Raises:
            DataError: if the feature dimension differs from the statistics'.
        """
        dim = feats.shape[-1]  # type: ignore[attr-defined]
        if dim != self.dim:
            raise DataError(f"features have dimension {dim} but the CMVN stats have {self.dim}",
                            self.source)
        if isinstance(feats, np.ndarray):
            return self.apply_inplace(feats.astype(np.float32, copy=True), norm_means,  # type: ignore[return-value]
                                      norm_vars)
        import torch

        if not isinstance(feats, torch.Tensor):
            raise TypeError(f"expected a numpy array or torch tensor, got {type(feats).__name__}")
        mean, scale = self._torch_consts(feats.device)
        out_t = feats.to(torch.float32)
        if norm_means:
            out_t = out_t - mean
        if norm_vars:
            out_t = out_t * scale
        if out_t is feats:
            out_t = out_t.clone()
        return out_t  # type: ignore[return-value]

    def apply_inplace(self, feats: np.ndarray, norm_means: bool = True, norm_vars: bool = True) -> np.ndarray:
        """Normalize a float32 ``(..., D)`` array in place (no copy) and return it."""
        if feats.shape[-1] != self.dim:
            raise DataError(f"features have dimension {feats.shape[-1]} but the CMVN stats have {self.dim}",
                            self.source)
        if norm_means:
            feats -= self.mean
        if norm_vars:
            feats *= self._scale
        return feats

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_torch_cache"] = {}  # device copies are rebuilt on demand (no CUDA tensors in pickles)
        return state

    def _torch_consts(self, device):  # type: ignore[no-untyped-def]
        import torch

        key = str(device)
        if key not in self._torch_cache:
            self._torch_cache[key] = (torch.from_numpy(self.mean).to(device),
                                      torch.from_numpy(self._scale).to(device))
        return self._torch_cache[key]
