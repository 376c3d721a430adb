"""The unit codebook: k-means centroids, their feature normalisation, and what they were fit on.

On disk a codebook is one ``.npz`` archive (``numpy.load`` opens it; ``unzip -l`` lists it):

- ``header.json`` -- UTF-8 JSON: ``format`` (``speechbert-units-codebook``), ``version``,
  ``num_units``, ``dim``, ``normalize``, the source dump's facts (``feats_type`` line,
  ``frame_shift`` in seconds, ``feats_config`` copy, ``feats_scp``) and how it was trained
  (``seed``, ``max_frames``, frames sampled, epochs, inertia per epoch, ...);
- ``centroids.npy`` -- ``(num_units, dim)`` float32;
- ``mean.npy``, ``std.npy`` -- ``(dim,)`` float32, only when ``normalize`` is true: frames are
  ``(x - mean) / std`` before they meet the centroids.

The archive is written with fixed member times, so the same codebook is the same bytes (the
design's "same seed, same machine, same bytes"), and atomically.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open
from speechbert.units.kmeans import nearest

FORMAT = "speechbert-units-codebook"
VERSION = 1
_HEADER = "header.json"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: no wall clock in the bytes
# A dimension whose spread is below this is constant in the sample: it is centred, not scaled
# (dividing by ~0 would blow up any frame where it is not).
_MIN_STD = 1e-5


@dataclass
class Codebook:
    """``num_units`` centroids in the (optionally normalised) feature space of one feature type."""

    centroids: np.ndarray  # (num_units, dim) float32
    mean: np.ndarray | None = None  # (dim,) float32, with std when the frames are normalised
    std: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)  # the header's facts beyond the arrays
    path: str | None = None  # the file it was loaded from (for messages)

    def __post_init__(self) -> None:
        self.centroids = np.ascontiguousarray(self.centroids, dtype=np.float32)
        if self.centroids.ndim != 2 or min(self.centroids.shape) < 1:
            raise ValueError(f"centroids must be a non-empty (units, dim) matrix, got {self.centroids.shape}")
        if (self.mean is None) != (self.std is None):
            raise ValueError("mean and std go together")
        if self.mean is not None:
            self.mean = np.ascontiguousarray(self.mean, dtype=np.float32).reshape(-1)
            self.std = np.ascontiguousarray(self.std, dtype=np.float32).reshape(-1)
            if self.mean.shape != (self.dim,) or self.std.shape != (self.dim,):
                raise ValueError(f"mean/std must have {self.dim} values")
        self._c_sqnorm = np.einsum("ij,ij->i", self.centroids, self.centroids)

    @property
    def num_units(self) -> int:
        """Number of units (centroids)."""
        return int(self.centroids.shape[0])

    @property
    def dim(self) -> int:
        """Dimension of the features the codebook takes."""
        return int(self.centroids.shape[1])

    @property
    def normalize(self) -> bool:
        """Whether frames are mean/variance normalised before assignment."""
        return self.mean is not None

    @property
    def name(self) -> str:
        """How messages name the codebook: its file, else ``the codebook``."""
        return f"codebook {self.path}" if self.path else "the codebook"

    def normalized(self, feats: np.ndarray) -> np.ndarray:
        """``feats`` as the centroids see them (a new float32 array when normalising)."""
        feats = np.asarray(feats, dtype=np.float32)
        if self.mean is None:
            return feats
        return (feats - self.mean) / self.std

    def assign(self, feats: np.ndarray) -> np.ndarray:
        """The unit (0-based centroid index, int64) of each row of ``feats`` (``(frames, dim)``)."""
        if feats.ndim != 2 or feats.shape[1] != self.dim:
            raise ValueError(f"expected (frames, {self.dim}) features, got {feats.shape}")
        labels, _ = nearest(self.normalized(feats), self.centroids, self._c_sqnorm)
        return labels

    # -- the facts of the features ---------------------------------------------------------
    def check_fits(self, feat_dim: int, facts: Mapping[str, Any], feats_scp: str | Path) -> None:
        """Refuse features that are not the kind the codebook was learned on.

        ``facts`` are the dump's (:func:`speechbert.io.dump_dir.read_dump_facts`); a fact either
        side does not know is not compared.

        Raises:
            DataError: naming the codebook, ``feats_scp`` and what differs (dimension, feature
                type, frame shift, feature config).
        """
        mine = self.info.get("feats_type")
        theirs = facts.get("feats_type")
        advice = "learn units on these features (learn_units) or use the features the codebook was learned on"
        if feat_dim != self.dim:
            raise DataError(f"{self.name} is for {self.dim}-dim features{_quoted(mine)} but {feats_scp} has "
                            f"{feat_dim}-dim features{_quoted(theirs)}: {advice}")
        if mine and theirs and mine != theirs:
            raise DataError(f"{self.name} was learned on {mine!r} features but {feats_scp} has {theirs!r} "
                            f"features: {advice}")
        shift, their_shift = self.info.get("frame_shift"), facts.get("frame_shift")
        if shift and their_shift and not math.isclose(float(shift), float(their_shift), rel_tol=1e-6):
            raise DataError(f"{self.name} was learned on features with a frame shift of {shift:g} s but "
                            f"{feats_scp} has {their_shift:g} s: {advice}")
        config, their_config = self.info.get("feats_config"), facts.get("feats_config")
        if isinstance(config, dict) and isinstance(their_config, dict) and config != their_config:
            mine_flat, theirs_flat = _flat(config), _flat(their_config)
            keys = sorted(k for k in set(mine_flat) | set(theirs_flat) if mine_flat.get(k) != theirs_flat.get(k))
            raise DataError(f"{self.name} was learned on features made with another feature config than "
                            f"{feats_scp} (they differ in {', '.join(map(str, keys))}): {advice}")

    # -- files -----------------------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        """The ``header.json`` record."""
        head = {"format": FORMAT, "version": VERSION, "num_units": self.num_units, "dim": self.dim,
                "normalize": self.normalize}
        head.update({k: v for k, v in self.info.items() if k not in head})
        return head

    def save(self, path: str | Path) -> None:
        """Write the codebook to ``path`` (an ``.npz`` archive), atomically and reproducibly."""
        header = json.dumps(self.header(), indent=2, sort_keys=True, default=str) + "\n"
        members = [(_HEADER, header.encode("utf-8")), ("centroids.npy", _npy_bytes(self.centroids))]
        if self.mean is not None:
            members += [("mean.npy", _npy_bytes(self.mean)), ("std.npy", _npy_bytes(self.std))]
        with atomic_open(path, "wb") as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
            for name, data in members:
                member = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                member.external_attr = 0o644 << 16
                z.writestr(member, data)
        self.path = str(path)

    @classmethod
    def load(cls, path: str | Path) -> "Codebook":
        """Read a codebook written by :meth:`save`.

        Raises:
            DataError: naming ``path`` when it is missing, not a codebook, or inconsistent.
        """
        path = Path(path)
        if not path.is_file():
            raise DataError("no such file" if not path.exists() else "not a file", path)
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
                for required in (_HEADER, "centroids.npy"):
                    if required not in names:
                        raise DataError(f"not a units codebook (no {required} in the archive)", path)
                header = _parse_header(z.read(_HEADER), path)
                arrays = {n[:-4]: _read_npy(z.read(n), path, n) for n in ("centroids.npy", "mean.npy", "std.npy")
                          if n in names}
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise DataError(f"not a units codebook (cannot read it as an .npz archive: {e})", path) from None
        centroids = arrays["centroids"]
        k, dim = header["num_units"], header["dim"]
        if centroids.ndim != 2 or centroids.shape != (k, dim) or centroids.dtype.kind != "f":
            raise DataError(f"centroids.npy holds {centroids.dtype} {centroids.shape}; the header says "
                            f"({k}, {dim}) floats", path)
        if not np.isfinite(centroids).all():
            raise DataError("centroids contain NaN/Inf", path)
        mean = std = None
        if header["normalize"]:
            mean, std = arrays.get("mean"), arrays.get("std")
            if mean is None or std is None:
                raise DataError("the header says normalize but mean.npy/std.npy are missing", path)
            if mean.shape != (dim,) or std.shape != (dim,):
                raise DataError(f"mean.npy/std.npy hold {mean.shape}/{std.shape} values, expected ({dim},)", path)
            if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
                raise DataError("mean.npy/std.npy hold NaN/Inf or a non-positive std", path)
        info = {key: value for key, value in header.items()
                if key not in ("format", "version", "num_units", "dim", "normalize")}
        return cls(centroids=centroids, mean=mean, std=std, info=info, path=str(path))


def normalization_stats(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation (float32) of ``frames``, accumulated in float64.

    A dimension that is constant in ``frames`` gets a std of 1 (centred, not scaled).
    """
    x = frames.astype(np.float64, copy=False)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std < _MIN_STD, 1.0, std)
    return mean.astype(np.float32), std.astype(np.float32)


def _flat(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"frontend_conf.layer": 9, ...}`` for a nested feature config (messages name the leaf)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flat(value, name + "."))
        else:
            out[name] = value
    return out


def _quoted(feats_type: str | None) -> str:
    return f" ({feats_type!r})" if feats_type else ""


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def _read_npy(data: bytes, path: Path, member: str) -> np.ndarray:
    try:
        return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{member} is not a plain numeric array ({e})", path) from None


def _parse_header(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{_HEADER} is not valid UTF-8 JSON ({e})", path) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DataError(f"not a units codebook ({_HEADER} does not say format {FORMAT!r})", path)
    if header.get("version") != VERSION:
        raise DataError(f"codebook version {header.get('version')!r}; this speechbert reads version {VERSION}",
                        path)
    for key in ("num_units", "dim"):
        if not isinstance(header.get(key), int) or isinstance(header.get(key), bool) or header[key] < 1:
            raise DataError(f"{_HEADER}: {key} must be a positive integer, got {header.get(key)!r}", path)
    if not isinstance(header.get("normalize"), bool):
        raise DataError(f"{_HEADER}: normalize must be true or false, got {header.get('normalize')!r}", path)
    return header
