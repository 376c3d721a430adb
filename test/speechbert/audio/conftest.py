"""Fixtures for the audio tests: small synthesized WAV files (tones, chirps, noise)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import soundfile
import torch

torch.set_num_threads(1)


def tone(freq: float, seconds: float, rate: int = 16000, amp: float = 0.3, noise: float = 0.01,
         seed: int = 0) -> np.ndarray:
    """A sine tone plus a little white noise, float32."""
    t = np.arange(int(round(seconds * rate))) / rate
    rng = np.random.default_rng(seed)
    return (amp * np.sin(2 * np.pi * freq * t) + noise * rng.standard_normal(len(t))).astype(np.float32)


@pytest.fixture
def make_tone() -> Callable[..., np.ndarray]:
    return tone


@pytest.fixture
def write_wav(tmp_path: Path) -> Callable[..., Path]:
    """``write_wav(name, samples, rate=16000, subtype="PCM_16")`` -> path under tmp_path."""

    def _write(name: str, samples: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> Path:
        path = tmp_path / name
        soundfile.write(str(path), samples, rate, subtype=subtype)
        return path

    return _write
