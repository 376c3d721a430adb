"""Lazy random access to features listed in a ``feats.scp``, with optional CMVN on load.

Built for two access patterns: whole utterances (the aligner) and many small frame ranges cut
out of a few hundred utterances (the audio word encoder). For uncompressed binary matrices
(what ``compute_feats`` writes) a slice costs one positional read of exactly its rows: the
matrix header is parsed once per utterance and cached, and archive file descriptors stay open
(least recently used closed beyond ``max_open_files``). Reads use ``os.preadv``, which has no
shared file position, so a reader is safe to use after ``fork`` (DataLoader workers); pickling
drops the open descriptors and caches.

Other matrix forms kaldiio understands (compressed, text, ``[..]`` ranges in the scp) are read
whole through kaldiio and sliced.

Optionally (``cache_size > 0``) whole normalized utterance matrices are kept in an LRU cache,
which makes repeated slices of the same utterances a memory copy.

:class:`ArkWriter` is the matching writer (``compute_feats``): float32 matrices in Kaldi's
binary ark form, the same bytes ``kaldiio.WriteHelper("ark,scp:...")`` writes.
"""

from __future__ import annotations

import io
import os
import struct
from collections import OrderedDict
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

from speechbert.audio.cmvn import GlobalCMVN
from speechbert.errors import DataError
from speechbert.io.kaldi_table import read_table
from speechbert.io.pipes import run_pipe

_HEADER_BYTES = 15  # "\0B" + "FM " + "\4" + int32 rows + "\4" + int32 cols
_BINARY_DTYPES = {b"FM ": np.dtype("<f4"), b"DM ": np.dtype("<f8")}


class _Matrix(NamedTuple):
    """Where an uncompressed binary matrix's data lies in its archive."""

    path: str
    data_offset: int
    rows: int
    cols: int
    dtype: np.dtype


class FeatsReader:
    """Read feature matrices by utterance id from a ``feats.scp``.

    Args:
        feats_scp: Kaldi scp of ``<utt> <ark path>:<byte offset>`` lines.
        cmvn: a :class:`GlobalCMVN`, or the path of Kaldi-layout stats, applied on load.
        norm_vars: with ``cmvn``, also normalize variances (else means only).
        cache_size: number of whole (normalized) utterance matrices to keep in memory; 0 = none.
        max_open_files: archive descriptors kept open at once.
    """

    def __init__(self, feats_scp: str | Path, cmvn: GlobalCMVN | str | Path | None = None, *,
                 norm_vars: bool = True, cache_size: int = 0, max_open_files: int = 64) -> None:
        self.feats_scp = str(feats_scp)
        self._locs = read_table(feats_scp, require_sorted=False)
        self.cmvn = GlobalCMVN.load(cmvn) if isinstance(cmvn, (str, Path)) else cmvn
        self.norm_vars = norm_vars
        self.cache_size = int(cache_size)
        self.max_open_files = max(1, int(max_open_files))
        self._init_state()

    def _init_state(self) -> None:
        self._fds: OrderedDict[str, int] = OrderedDict()
        self._headers: dict[str, _Matrix | None] = {}  # None: not a plain binary matrix
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._kaldiio_fds: dict = {}

    # -- mapping-like interface ---------------------------------------------------------
    def keys(self) -> list[str]:
        """Utterance ids in scp order."""
        return list(self._locs)

    def __len__(self) -> int:
        return len(self._locs)

    def __contains__(self, utt: object) -> bool:
        return utt in self._locs

    def __iter__(self) -> Iterator[str]:
        return iter(self._locs)

    def __getitem__(self, utt: str) -> np.ndarray:
        return self.load(utt)

    def items(self) -> Iterator[tuple[str, np.ndarray]]:
        """``(utt, feats)`` for every utterance in scp order."""
        for utt in self._locs:
            yield utt, self.load(utt)

    # -- reading ------------------------------------------------------------------------
    def num_frames(self, utt: str) -> int:
        """Number of frames of ``utt`` (reads only the matrix header when it can)."""
        header = self._header(utt)
        if header is not None:
            return header.rows
        return int(self._load_whole_raw(utt).shape[0])

    def dim(self, utt: str | None = None) -> int:
        """Feature dimension of ``utt`` (default: the first utterance)."""
        if utt is None:
            if not self._locs:
                raise DataError("empty feats.scp", self.feats_scp)
            utt = next(iter(self._locs))
        header = self._header(utt)
        return header.cols if header is not None else int(self._load_whole_raw(utt).shape[1])

    def load(self, utt: str, start_frame: int | None = None, end_frame: int | None = None) -> np.ndarray:
        """Frames ``[start_frame, end_frame)`` of ``utt`` as a new float32 ``(frames, dim)`` array.

        ``end_frame`` past the utterance is clipped to its length (a word that ends at the
        audio's last partial frame); a negative or reversed range, or a start past the end of
        the utterance, is an error.

        Raises:
            DataError: naming the utterance for an unknown id, a bad range, or an archive
                that cannot be read.
        """
        cached = self._cache.get(utt) if self.cache_size > 0 else None
        if cached is not None:
            self._cache.move_to_end(utt)
            start, end = self._check_range(utt, start_frame, end_frame, cached.shape[0])
            return cached[start:end].copy()
        if self.cache_size > 0:
            whole = self._normalized(self._load_whole_raw(utt))
            self._cache[utt] = whole
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
            start, end = self._check_range(utt, start_frame, end_frame, whole.shape[0])
            return whole[start:end].copy()
        header = self._header(utt)
        if header is None:
            whole = self._load_whole_raw(utt)
            start, end = self._check_range(utt, start_frame, end_frame, whole.shape[0])
            return self._normalized(np.array(whole[start:end], dtype=np.float32))
        start, end = self._check_range(utt, start_frame, end_frame, header.rows)
        return self._normalized(self._read_rows(utt, header, start, end))

    def _normalized(self, feats: np.ndarray) -> np.ndarray:
        """Apply CMVN in place to a fresh float32 array."""
        if feats.dtype != np.float32:
            feats = feats.astype(np.float32)
        if self.cmvn is not None:
            self.cmvn.apply_inplace(feats, norm_vars=self.norm_vars)
        return feats

    def _check_range(self, utt: str, start: int | None, end: int | None, rows: int) -> tuple[int, int]:
        s = 0 if start is None else int(start)
        e = rows if end is None else min(int(end), rows)
        if s < 0 or (end is not None and int(end) < s) or s > rows:
            raise DataError(f"bad frame range [{start}, {end}) for an utterance of {rows} frames",
                            self.feats_scp, key=utt)
        return s, e

    def _location(self, utt: str) -> str:
        loc = self._locs.get(utt)
        if loc is None:
            raise DataError("no such utterance", self.feats_scp, key=utt)
        return loc

    def _header(self, utt: str) -> _Matrix | None:
        if utt in self._headers:
            return self._headers[utt]
        loc = self._location(utt)
        header = None
        path, sep, offset_s = loc.rpartition(":")
        if sep and offset_s.isdigit() and not path.endswith("|"):
            offset = int(offset_s)
            raw = self._pread(utt, path, _HEADER_BYTES, offset)
            if not raw:
                raise DataError(f"byte offset {offset} is past the end of archive {path} "
                                f"({os.fstat(self._fd(utt, path)).st_size} bytes)", self.feats_scp, key=utt)
            dtype = _BINARY_DTYPES.get(raw[2:5])
            if raw[:2] == b"\0B" and dtype is not None and len(raw) == _HEADER_BYTES \
                    and raw[5:6] == b"\4" and raw[10:11] == b"\4":
                rows, cols = struct.unpack("<i", raw[6:10])[0], struct.unpack("<i", raw[11:15])[0]
                if rows < 0 or cols <= 0:
                    raise DataError(f"corrupt matrix header ({rows} x {cols}) at {loc}",
                                    self.feats_scp, key=utt)
                header = _Matrix(path, offset + _HEADER_BYTES, rows, cols, dtype)
        self._headers[utt] = header
        return header

    def _read_rows(self, utt: str, m: _Matrix, start: int, end: int) -> np.ndarray:
        out = np.empty((end - start, m.cols), dtype=m.dtype)
        nbytes = out.nbytes
        if nbytes:
            got = os.preadv(self._fd(utt, m.path), [memoryview(out).cast("B")],
                            m.data_offset + start * m.cols * m.dtype.itemsize)
            if got != nbytes:
                raise DataError(f"archive {m.path} is truncated (wanted {nbytes} bytes, got {got})",
                                self.feats_scp, key=utt)
        return out

    def _load_whole_raw(self, utt: str) -> np.ndarray:
        """The whole matrix as stored (any format kaldiio reads), without CMVN."""
        header = self._header(utt)
        if header is not None:
            return self._read_rows(utt, header, 0, header.rows)
        import kaldiio

        loc = self._location(utt)
        try:
            if loc.endswith("|"):
                # Run the command here: kaldiio only asserts on a failing one, without its status.
                data = run_pipe(loc[:-1].strip(), where=self.feats_scp, key=utt)
                mat = kaldiio.matio.read_kaldi(io.BytesIO(data))
            else:
                mat = kaldiio.load_mat(loc, fd_dict=self._kaldiio_fds)
        except DataError:
            raise
        except Exception as e:  # noqa: BLE001 - kaldiio raises many types for bad data
            why = " ".join(str(e).split())  # kaldiio's messages span lines and pad with spaces
            raise DataError(f"cannot read features at {loc}: {type(e).__name__}{': ' + why if why else ''}",
                            self.feats_scp, key=utt) from None
        mat = np.asarray(mat)
        if mat.ndim != 2:
            raise DataError(f"expected a matrix at {loc}, got shape {mat.shape}", self.feats_scp, key=utt)
        return mat

    def _fd(self, utt: str, path: str) -> int:
        fd = self._fds.get(path)
        if fd is not None:
            self._fds.move_to_end(path)
            return fd
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as e:
            raise DataError(f"cannot open archive {path}: {e.strerror}", self.feats_scp, key=utt) from None
        self._fds[path] = fd
        if len(self._fds) > self.max_open_files:
            _, old = self._fds.popitem(last=False)
            os.close(old)
        return fd

    def _pread(self, utt: str, path: str, size: int, offset: int) -> bytes:
        return os.pread(self._fd(utt, path), size, offset)

    # -- lifetime -----------------------------------------------------------------------
    def close(self) -> None:
        """Close open archives and drop caches."""
        for fd in self._fds.values():
            os.close(fd)
        for f in self._kaldiio_fds.values():
            f.close()
        self._init_state()

    def __enter__(self) -> "FeatsReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn down os
            pass

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for key in ("_fds", "_headers", "_cache", "_kaldiio_fds"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._init_state()


class ArkWriter:
    """Float32 matrices to a Kaldi binary archive, plus the scp lines that locate them.

    Writes the bytes ``kaldiio.WriteHelper("ark,scp:...")`` writes (``<key> \\0BFM \\4<rows>\\4<cols>``
    then the little-endian rows), but straight from the array's buffer: no ``tobytes`` copy,
    and no scp file to rewrite when the archive is written under a temporary name (the scp
    lines name ``scp_ark``, the archive's final path). Measured: a quarter of the feature
    stage's time beyond the fbank computation itself went to those two.
    """

    def __init__(self, ark: str | Path, scp_ark: str | Path) -> None:
        self._f = open(ark, "wb")
        self._scp_ark = str(scp_ark)
        self.scp_lines: list[str] = []

    def write(self, key: str, matrix: np.ndarray) -> None:
        """Append ``matrix`` (2-D float32) under ``key`` (no whitespace)."""
        if not key or len(key.split()) != 1 or key.split()[0] != key:
            raise ValueError(f"archive keys must be non-empty without whitespace, got {key!r}")
        if matrix.ndim != 2 or matrix.dtype.kind != "f" or matrix.dtype.itemsize != 4:
            raise ValueError(f"{key}: ArkWriter writes 2-D float32 matrices, got {matrix.dtype} {matrix.shape}")
        f = self._f
        f.write(key.encode("utf-8") + b" ")
        offset = f.tell()
        rows, cols = matrix.shape
        f.write(b"\0BFM \4" + struct.pack("<i", rows) + b"\4" + struct.pack("<i", cols))
        f.write(np.ascontiguousarray(matrix, dtype="<f4").data)
        self.scp_lines.append(f"{key} {self._scp_ark}:{offset}\n")

    def close(self) -> None:
        """Flush and close the archive."""
        self._f.close()

    def __enter__(self) -> "ArkWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
