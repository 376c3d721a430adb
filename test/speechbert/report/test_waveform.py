"""waveform: passage samples in passage time, the peak envelope and its SVG path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

from report_fixture import RATE, build_tiny_recipe
from speechbert.audio.wav_io import WavSource
from speechbert.report.waveform import envelope_path, passage_samples, peak_envelope, write_wav


def test_passage_samples_follow_utt2dur(tmp_path: Path) -> None:
    r = build_tiny_recipe(tmp_path)
    src = WavSource(r.data / "wav.scp")
    # c1-u1 is told to last 1.2 s (0.2 s of padding) and c1-u2 1.0 s (cut): passage time rules.
    samples, rate = passage_samples(src, ["c1-u1", "c1-u2"], [1.2, 1.0])
    assert rate == RATE and len(samples) == int(2.2 * RATE)
    assert np.all(samples[RATE:int(1.2 * RATE)] == 0)
    u2, _ = src.load("c1-u2")
    assert np.allclose(samples[int(1.2 * RATE):], u2[:RATE])


def test_peak_envelope_and_path() -> None:
    x = np.zeros(1000, dtype=np.float32)
    x[100] = -0.5
    x[900] = 0.25
    env = peak_envelope(x, bins=10)
    assert env.tolist() == [0, 1.0, 0, 0, 0, 0, 0, 0, 0, 0.5]
    assert peak_envelope(np.zeros(0, np.float32), 4).tolist() == [0, 0, 0, 0]
    path = envelope_path(np.array([0.0, 1.0, 0.5]), height=100)
    assert path == "M0 50L1 0L2 25L2 75L1 100L0 50Z"


def test_write_wav_round_trip(tmp_path: Path) -> None:
    x = (0.25 * np.sin(np.arange(1600) / 10)).astype(np.float32)
    write_wav(tmp_path / "a.wav", x, 8000)
    y, rate = soundfile.read(str(tmp_path / "a.wav"), dtype="float32")
    assert rate == 8000 and len(y) == 1600 and np.max(np.abs(y - x)) < 1e-4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]
