"""A passage's audio for the report: its utterances back to back (passage time, doc/design.md),
the peak envelope drawn under the spans, and the small wav written with ``--embed_audio``."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile

from speechbert.audio.wav_io import WavSource
from speechbert.errors import DataError
from speechbert.io.atomic import atomic_path

#: Envelope points per passage: enough to see words and pauses, few enough that 200 passages
#: keep the page at a few MB.
DEFAULT_BINS = 240


def passage_samples(source: WavSource, utts: Sequence[str], durations: Sequence[float]) -> tuple[np.ndarray, int]:
    """The utterances' samples concatenated, each padded or cut to its ``utt2dur`` duration.

    Passage time is defined by ``utt2dur`` (doc/design.md), so each utterance is made exactly
    that long here: a span at passage time ``t`` is then at sample ``t * rate`` of the result.

    Raises:
        DataError: naming the utterance whose audio cannot be read, or whose rate differs from
            the passage's first utterance.
    """
    parts: list[np.ndarray] = []
    rate0: int | None = None
    for utt, dur in zip(utts, durations):
        samples, rate = source.load(utt)
        if rate0 is None:
            rate0 = rate
        elif rate != rate0:
            raise DataError(f"sample rate {rate} Hz differs from the passage's first utterance ({rate0} Hz)",
                            source.wav_scp, key=utt)
        n = int(round(dur * rate))
        if len(samples) >= n:
            parts.append(samples[:n])
        else:
            parts.append(np.concatenate([samples, np.zeros(n - len(samples), dtype=samples.dtype)]))
    if rate0 is None:
        return np.zeros(0, dtype=np.float32), 16000
    return np.concatenate(parts).astype(np.float32, copy=False), rate0


def peak_envelope(samples: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Peak absolute amplitude in each of ``bins`` equal slices of ``samples``, scaled so that the
    loudest slice is 1 (all zeros for silence or no samples)."""
    out = np.zeros(bins, dtype=np.float64)
    if len(samples) == 0:
        return out
    edges = np.linspace(0, len(samples), bins + 1).astype(np.int64)
    mag = np.abs(samples.astype(np.float64))
    for k in range(bins):
        a, b = edges[k], max(edges[k + 1], edges[k] + 1)
        out[k] = mag[a:min(b, len(mag))].max() if a < len(mag) else 0.0
    peak = out.max()
    return out / peak if peak > 0 else out


def envelope_path(env: np.ndarray, height: int = 100) -> str:
    """SVG path data of a symmetric envelope in a ``len(env)`` x ``height`` box (x = slice index),
    integers only to keep the page small."""
    mid = height / 2
    top = [f"{k} {int(round(mid - v * mid))}" for k, v in enumerate(env)]
    bottom = [f"{k} {int(round(mid + v * mid))}" for k, v in reversed(list(enumerate(env)))]
    return "M" + "L".join(top + bottom) + "Z"


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    """Write mono 16-bit PCM wav atomically."""
    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), samples, rate, subtype="PCM_16", format="WAV")
