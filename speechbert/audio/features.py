"""Kaldi-compatible log-mel filterbank and MFCC features via ``torchaudio.compliance.kaldi``.

Conventions (the same as Kaldi's ``compute-fbank-feats`` / ``compute-mfcc-feats`` +
``add-deltas``):

- samples are scaled to the 16-bit integer range before analysis, as Kaldi reads WAV files, so
  log energies match Kaldi's and stay well above the floor used for digital silence;
- ``snip_edges``: frame ``i`` covers samples ``[i·shift, i·shift + window)``, and audio shorter
  than one window has no frames;
- deltas use Kaldi's regression window of 2 frames with the edge frames repeated, so
  ``mfcc 39`` equals Kaldi's ``add-deltas`` output.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import torch

from speechbert.errors import ConfigError, DataError

# The kinds this Kaldi-compatible extractor computes. Which frontends exist (and the names YAML
# configs use) is speechbert.audio.frontends.FRONTENDS; this class is the fbank/mfcc one's core.
FEATS_TYPES = ("fbank", "mfcc")
WINDOW_TYPES = ("povey", "hamming", "hanning", "rectangular", "blackman")
INT16_SCALE = 32768.0


@dataclass(frozen=True)
class FeatureConfig:
    """Feature options; the field names are the ``compute_feats`` CLI / YAML option names.

    ``frame_length`` and ``frame_shift`` are in milliseconds (as in Kaldi and torchaudio).
    ``use_deltas=None`` means: deltas and delta-deltas for MFCC, none for fbank.
    """

    feats_type: str = "fbank"
    sample_rate: int = 16000
    num_mel_bins: int = 80
    num_ceps: int = 13
    use_deltas: bool | None = None
    frame_length: float = 25.0
    frame_shift: float = 10.0
    dither: float = 0.0
    preemphasis_coefficient: float = 0.97
    window_type: str = "povey"
    low_freq: float = 20.0
    high_freq: float = 0.0
    use_energy: bool = False
    cepstral_lifter: float = 22.0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ConfigError`` naming the first option that cannot be used."""
        if self.feats_type not in FEATS_TYPES:
            raise ConfigError(f"feats_type must be one of {FEATS_TYPES}, got {self.feats_type!r}")
        if self.sample_rate <= 0:
            raise ConfigError(f"sample_rate must be positive, got {self.sample_rate}")
        if self.num_mel_bins < 3:
            raise ConfigError(f"num_mel_bins must be at least 3, got {self.num_mel_bins}")
        if self.feats_type == "mfcc" and not 1 <= self.num_ceps <= self.num_mel_bins:
            raise ConfigError(f"num_ceps must be in [1, num_mel_bins={self.num_mel_bins}], got {self.num_ceps}")
        if not 0 < self.frame_shift <= self.frame_length:
            raise ConfigError(f"need 0 < frame_shift <= frame_length, got frame_shift={self.frame_shift} "
                              f"frame_length={self.frame_length} (milliseconds)")
        if self.window_samples < 2:
            raise ConfigError(f"frame_length {self.frame_length} ms is shorter than two samples at "
                              f"{self.sample_rate} Hz")
        if self.dither < 0:
            raise ConfigError(f"dither must be >= 0, got {self.dither}")
        if self.window_type not in WINDOW_TYPES:
            raise ConfigError(f"window_type must be one of {WINDOW_TYPES}, got {self.window_type!r}")
        nyquist = self.sample_rate / 2
        high = self.high_freq if self.high_freq > 0 else nyquist + self.high_freq
        if not 0 <= self.low_freq < high <= nyquist:
            raise ConfigError(f"need 0 <= low_freq < high_freq <= {nyquist:g} Hz (Nyquist), got "
                              f"low_freq={self.low_freq} high_freq={self.high_freq}")

    @property
    def deltas(self) -> bool:
        """Whether deltas and delta-deltas are appended."""
        return self.feats_type == "mfcc" if self.use_deltas is None else bool(self.use_deltas)

    @property
    def base_dim(self) -> int:
        """Dimension before deltas."""
        if self.feats_type == "fbank":
            return self.num_mel_bins + (1 if self.use_energy else 0)
        return self.num_ceps

    @property
    def dim(self) -> int:
        """Feature dimension written to the archive."""
        return self.base_dim * (3 if self.deltas else 1)

    @property
    def window_samples(self) -> int:
        """Samples per analysis window (computed exactly as torchaudio does)."""
        return int(float(self.sample_rate) * self.frame_length * 0.001)

    @property
    def shift_samples(self) -> int:
        """Samples between frame starts (computed exactly as torchaudio does)."""
        return int(float(self.sample_rate) * self.frame_shift * 0.001)

    @property
    def feats_type_line(self) -> str:
        """The one-line content of ``dump/<set>/feats_type``, e.g. ``fbank 80``."""
        return f"{self.feats_type} {self.dim}"

    @property
    def frame_shift_seconds(self) -> float:
        """Frame shift in seconds (the content of ``dump/<set>/frame_shift``)."""
        return self.frame_shift / 1000.0

    def num_frames(self, num_samples: int) -> int:
        """Frames produced for ``num_samples`` samples (Kaldi ``snip_edges=true``)."""
        if num_samples < self.window_samples:
            return 0
        return 1 + (num_samples - self.window_samples) // self.shift_samples

    def to_dict(self) -> dict:
        """Plain dict of the options (for logging and config dumps)."""
        return asdict(self)

    @classmethod
    def option_names(cls) -> list[str]:
        """Field names, which are also the CLI option names."""
        return [f.name for f in fields(cls)]


def delta_filters(order: int, window: int = 2) -> list[np.ndarray]:
    """Kaldi's delta regression filters for orders ``0..order``, each centred, odd length.

    Order ``k`` is order ``k-1`` convolved with ``[-window..window] / sum(j^2)``, so
    delta-deltas are the delta of deltas computed on the original (edge-repeated) frames.
    """
    base = np.arange(-window, window + 1, dtype=np.float64)
    base /= float(np.sum(base**2))
    filters = [np.ones(1)]
    for _ in range(order):
        filters.append(np.convolve(filters[-1], base))
    return filters


def add_deltas(feats: np.ndarray, order: int = 2, window: int = 2) -> np.ndarray:
    """Append delta features like Kaldi's ``add-deltas`` (edge frames repeated)."""
    filters = delta_filters(order, window)
    reach = (len(filters[-1]) - 1) // 2
    num_frames = feats.shape[0]
    padded = np.pad(feats.astype(np.float64), ((reach, reach), (0, 0)), mode="edge")
    out = [feats.astype(np.float64)]
    for filt in filters[1:]:
        half = (len(filt) - 1) // 2
        acc = np.zeros_like(out[0])
        for tap, coef in enumerate(filt):
            if coef != 0.0:
                start = reach - half + tap
                acc += coef * padded[start:start + num_frames]
        out.append(acc)
    return np.concatenate(out, axis=1).astype(np.float32)


def check_finite_features(feats: np.ndarray, utt: str = "") -> np.ndarray:
    """Return freshly extracted ``feats`` if all finite, else raise ``DataError`` naming ``utt``
    (the check of every frontend's output)."""
    if not np.isfinite(feats).all():
        bad = int(np.count_nonzero(~np.isfinite(feats).all(axis=1)))
        raise DataError(f"features contain NaN/Inf in {bad} of {feats.shape[0]} frames "
                        "(NaN/Inf or extreme samples in the audio?)", key=utt or None)
    return feats


def check_mono_audio(samples: np.ndarray, min_samples: int, sample_rate: int, utt: str = "",
                     frame_ms: float | None = None) -> None:
    """Raise ``DataError`` naming ``utt`` unless ``samples`` is mono with at least one frame
    (``min_samples``) -- the audio check of every frontend. ``frame_ms``: the frame length the
    message names (default: ``min_samples`` in milliseconds)."""
    if samples.ndim != 1:
        raise DataError(f"expected mono samples, got shape {samples.shape}", key=utt or None)
    if len(samples) < min_samples:
        ms = 1000.0 * min_samples / sample_rate if frame_ms is None else frame_ms
        raise DataError(f"audio too short for one frame: {len(samples)} samples < {min_samples} "
                        f"({ms:g} ms at {sample_rate} Hz)", key=utt or None)


class FeatureExtractor:
    """Turn mono float32 samples at ``config.sample_rate`` into ``(frames, dim)`` float32 matrices."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config

    @property
    def sample_rate(self) -> int:
        """The rate the samples must have (what ``extract_to_ark`` reads from any frontend)."""
        return self.config.sample_rate

    def __call__(self, samples: np.ndarray, utt: str = "") -> np.ndarray:
        """Compute and check the features of one utterance.

        Raises:
            DataError: naming ``utt`` if the audio is shorter than one window or the features
                contain NaN/Inf (e.g. from NaN samples in a float WAV).
        """
        self.check_audio(samples, utt)
        return self.check_features(self.extract(samples), utt)

    def check_audio(self, samples: np.ndarray, utt: str = "") -> None:
        """Raise ``DataError`` naming ``utt`` unless ``samples`` is mono with at least one frame."""
        cfg = self.config
        check_mono_audio(samples, cfg.window_samples, cfg.sample_rate, utt, frame_ms=cfg.frame_length)

    @staticmethod
    def check_features(feats: np.ndarray, utt: str = "") -> np.ndarray:
        """Return ``feats`` if all finite, else raise ``DataError`` naming ``utt``."""
        return check_finite_features(feats, utt)

    def extract(self, samples: np.ndarray) -> np.ndarray:
        """Features of audio that passed :meth:`check_audio`, not yet checked for NaN/Inf."""
        import torchaudio.compliance.kaldi as kaldi

        cfg = self.config
        wave = torch.from_numpy(np.asarray(samples, dtype=np.float32)).mul(INT16_SCALE).unsqueeze(0)
        common = dict(
            sample_frequency=float(cfg.sample_rate), num_mel_bins=cfg.num_mel_bins,
            frame_length=cfg.frame_length, frame_shift=cfg.frame_shift, dither=cfg.dither,
            preemphasis_coefficient=cfg.preemphasis_coefficient, window_type=cfg.window_type,
            low_freq=cfg.low_freq, high_freq=cfg.high_freq, use_energy=cfg.use_energy,
            energy_floor=0.0, snip_edges=True,
        )
        with torch.no_grad():
            if cfg.feats_type == "fbank":
                feats = kaldi.fbank(wave, **common)
            else:
                feats = kaldi.mfcc(wave, num_ceps=cfg.num_ceps, cepstral_lifter=cfg.cepstral_lifter, **common)
        out = feats.numpy()
        return add_deltas(out) if cfg.deltas else out
