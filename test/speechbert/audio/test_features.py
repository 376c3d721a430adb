"""Tests for speechbert.audio.features: Kaldi-compatible fbank/MFCC and add-deltas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchaudio.compliance.kaldi as kaldi

from speechbert.audio.features import FeatureConfig, FeatureExtractor, add_deltas, delta_filters
from speechbert.errors import ConfigError, DataError


def mel(f: float) -> float:
    return 1127.0 * math.log(1.0 + f / 700.0)


def expected_peak_bin(freq: float, num_bins: int = 80, low: float = 20.0, high: float = 8000.0) -> int:
    """Mel bin whose centre is nearest to ``freq`` (Kaldi's triangular filterbank layout)."""
    step = (mel(high) - mel(low)) / (num_bins + 1)
    centres = [mel(low) + (i + 1) * step for i in range(num_bins)]
    return int(np.argmin([abs(c - mel(freq)) for c in centres]))


def test_fbank_shape_and_frame_count(make_tone):
    cfg = FeatureConfig()
    x = make_tone(440, 1.0)
    feats = FeatureExtractor(cfg)(x, "u")
    # snip_edges: 1 + (16000 - 400) // 160
    assert feats.shape == (98, 80) == (cfg.num_frames(len(x)), cfg.dim)
    assert feats.dtype == np.float32
    assert cfg.feats_type_line == "fbank 80" and cfg.frame_shift_seconds == 0.01


@pytest.mark.parametrize("freq", [500.0, 1000.0, 3000.0])
def test_fbank_energy_peaks_in_the_tone_bin(make_tone, freq):
    feats = FeatureExtractor(FeatureConfig())(make_tone(freq, 0.5, noise=0.001), "u")
    assert abs(int(np.argmax(feats.mean(axis=0))) - expected_peak_bin(freq)) <= 1


def test_samples_are_scaled_to_the_int16_range_like_kaldi(make_tone):
    x = make_tone(700, 0.3)
    ours = FeatureExtractor(FeatureConfig(num_mel_bins=40))(x, "u")
    ref = kaldi.fbank(torch.from_numpy(x * 32768).unsqueeze(0), num_mel_bins=40, dither=0.0,
                      energy_floor=0.0).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-5)
    # The int16 scale adds log(32768^2) = 20.79 to every log-mel energy of non-silent frames.
    unscaled = kaldi.fbank(torch.from_numpy(x).unsqueeze(0), num_mel_bins=40, dither=0.0).numpy()
    assert abs(float(np.median(ours - unscaled)) - 2 * math.log(32768)) < 0.01


def test_mfcc_has_39_dims_with_kaldi_deltas(make_tone):
    cfg = FeatureConfig(feats_type="mfcc", num_mel_bins=23)
    x = make_tone(440, 0.5)
    feats = FeatureExtractor(cfg)(x, "u")
    assert feats.shape == (48, 39) and cfg.feats_type_line == "mfcc 39"
    static = kaldi.mfcc(torch.from_numpy(x * 32768).unsqueeze(0), num_mel_bins=23, dither=0.0,
                        energy_floor=0.0).numpy()
    np.testing.assert_allclose(feats[:, :13], static, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(feats[:, 13:], add_deltas(static)[:, 13:], rtol=1e-5, atol=1e-4)
    no_deltas = FeatureConfig(feats_type="mfcc", num_mel_bins=23, use_deltas=False)
    assert no_deltas.dim == 13


def test_delta_filters_match_kaldi():
    first, second = delta_filters(2)[1:]
    np.testing.assert_allclose(first, np.array([-2, -1, 0, 1, 2]) / 10)
    np.testing.assert_allclose(second, np.array([4, 4, 1, -4, -10, -4, 1, 4, 4]) / 100)


def test_add_deltas_on_linear_and_quadratic_tracks():
    t = np.arange(20, dtype=np.float32)
    feats = np.stack([3 * t, t**2], axis=1)
    out = add_deltas(feats)
    assert out.shape == (20, 6)
    np.testing.assert_allclose(out[:, :2], feats)
    # d/dt (3t) = 3 away from the edges; at frame 0 the repeated edge gives (1*3 + 2*6) / 10.
    np.testing.assert_allclose(out[4:-4, 2], 3.0, rtol=1e-6)
    assert out[0, 2] == pytest.approx(1.5)
    # d/dt t^2 = 2t, d2/dt2 t^2 = 2 away from the edges.
    np.testing.assert_allclose(out[4:-4, 3], 2 * t[4:-4], rtol=1e-5)
    np.testing.assert_allclose(out[4:-4, 5], 2.0, rtol=1e-5)
    np.testing.assert_allclose(out[4:-4, 4], 0.0, atol=1e-5)


def test_dither_zero_is_reproducible(make_tone):
    x = make_tone(440, 0.3)
    ext = FeatureExtractor(FeatureConfig())
    np.testing.assert_array_equal(ext(x, "u"), ext(x, "u"))


def test_digital_silence_gives_finite_features():
    feats = FeatureExtractor(FeatureConfig())(np.zeros(4000, dtype=np.float32), "u")
    assert np.isfinite(feats).all()


def test_too_short_audio_names_the_utterance():
    with pytest.raises(DataError, match=r"short1: audio too short for one frame: 399 samples < 400"):
        FeatureExtractor(FeatureConfig())(np.zeros(399, dtype=np.float32), "short1")


def test_nan_or_inf_features_name_the_utterance(make_tone):
    x = make_tone(440, 0.3)
    x[1000] = np.nan
    with pytest.raises(DataError, match=r"bad1: features contain NaN/Inf in 3 of 28 frames"):
        FeatureExtractor(FeatureConfig())(x, "bad1")
    y = make_tone(440, 0.3)
    y[500] = np.inf
    with pytest.raises(DataError, match=r"bad2: features contain NaN/Inf"):
        FeatureExtractor(FeatureConfig(feats_type="mfcc", num_mel_bins=23))(y, "bad2")


@pytest.mark.parametrize("kwargs, match", [
    (dict(feats_type="plp"), "feats_type must be one of"),
    (dict(frame_shift=30.0), "frame_shift <= frame_length"),
    (dict(high_freq=9000.0), "Nyquist"),
    (dict(feats_type="mfcc", num_mel_bins=10, num_ceps=13), "num_ceps must be in"),
    (dict(window_type="kaiser"), "window_type must be one of"),
    (dict(dither=-1.0), "dither must be >= 0"),
])
def test_bad_config_is_a_config_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        FeatureConfig(**kwargs)
