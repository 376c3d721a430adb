"""A seeded, bounded sample of the frames of a feature dump, for fitting k-means.

Frames are drawn uniformly without replacement from all frames of all utterances, so every
utterance contributes in proportion to its length (no speaker or passage dominates because it
came first in the scp). Only utterances that contribute a frame are read, and of an utterance
that contributes few frames only those frames.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from speechbert.errors import DataError
from speechbert.io.feats import FeatsReader
from speechbert.units.kmeans import SAMPLING_STREAM, rng_stream

logger = logging.getLogger(__name__)

# An utterance with fewer than 1/_SPARSE of its frames sampled is read frame by frame.
_SPARSE = 16


@dataclass
class FrameSample:
    """Frames drawn from a dump, in scp order (and frame order within an utterance)."""

    frames: np.ndarray  # (n, dim) float32
    num_utts: int  # utterances that contributed frames
    total_frames: int  # frames in the whole dump
    total_utts: int  # utterances in the whole dump


def sample_frames(reader: FeatsReader, max_frames: int, seed: int) -> FrameSample:
    """Draw at most ``max_frames`` frames of ``reader``'s utterances (all of them if there are
    fewer), with a generator seeded by ``seed``.

    The frames read are checked (all of an utterance's when it is read whole).

    Raises:
        DataError: naming the feats.scp (and the utterance) for an empty dump, features with
            NaN/Inf, or a feature dimension that differs between utterances.
    """
    where = reader.feats_scp
    utts = reader.keys()
    if not utts:
        raise DataError("no utterances to learn units from", where)
    lengths = np.array([reader.num_frames(u) for u in utts], dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        raise DataError(f"the {len(utts)} utterances have no frames", where)
    rng = rng_stream(seed, SAMPLING_STREAM)
    if total <= max_frames:
        picked = None
    else:
        picked = np.sort(rng.choice(total, size=max_frames, replace=False))
    ends = np.cumsum(lengths)
    starts = ends - lengths
    dim: int | None = None
    parts: list[np.ndarray] = []
    for i, utt in enumerate(utts):
        if lengths[i] == 0:
            continue
        if picked is None:
            rows = None
        else:
            lo, hi = np.searchsorted(picked, [starts[i], ends[i]])
            if lo == hi:
                continue
            rows = picked[lo:hi] - starts[i]
        if rows is not None and len(rows) * _SPARSE < lengths[i]:
            # A few frames of a long utterance: read just those (one positional read each from
            # the uncompressed archives compute_feats writes) rather than the whole matrix --
            # a bounded sample of a large SSL dump then reads a small part of it.
            feats = np.concatenate([reader.load(utt, int(t), int(t) + 1) for t in rows])
            rows = None
        else:
            feats = reader.load(utt)
        if dim is None:
            dim = feats.shape[1]
        elif feats.shape[1] != dim:
            raise DataError(f"feature dimension {feats.shape[1]} differs from {dim} seen in earlier utterances",
                            where, key=utt)
        if not np.isfinite(feats).all():
            raise DataError("features contain NaN/Inf", where, key=utt)
        parts.append(feats if rows is None else feats[rows])
    frames = np.concatenate(parts).astype(np.float32, copy=False)
    logger.info("sampled %d of %d frames from %d of %d utterances of %s", len(frames), total, len(parts),
                len(utts), where)
    return FrameSample(frames=frames, num_utts=len(parts), total_frames=total, total_utts=len(utts))
