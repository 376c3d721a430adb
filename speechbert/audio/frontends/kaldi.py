"""The Kaldi-compatible frontends ``fbank`` and ``mfcc`` (``torchaudio.compliance.kaldi``).

They are :class:`speechbert.audio.features.FeatureExtractor` behind the :class:`Frontend`
interface: the numbers (and so the archives) are exactly those of the extractor, which the
recipes used before frontends were registered. ``frame_length``/``frame_shift`` are in
milliseconds, as in Kaldi.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from speechbert.audio.features import FeatureConfig, FeatureExtractor
from speechbert.audio.frontends.base import FRONTENDS, Frontend


@dataclass(frozen=True)
class FbankConf:
    """Options of ``frontend: fbank`` (log-mel filterbank, Kaldi ``compute-fbank-feats``)."""

    sample_rate: int = 16000
    num_mel_bins: int = 80
    frame_length: float = 25.0
    frame_shift: float = 10.0
    dither: float = 0.0
    preemphasis_coefficient: float = 0.97
    window_type: str = "povey"
    low_freq: float = 20.0
    high_freq: float = 0.0
    use_energy: bool = False
    use_deltas: bool = False

    def __post_init__(self) -> None:
        self.feature_config()  # validates (ConfigError naming the option)

    def feature_config(self) -> FeatureConfig:
        """The extractor's config for these options."""
        return FeatureConfig(feats_type="fbank", **{f.name: getattr(self, f.name) for f in fields(self)})


@dataclass(frozen=True)
class MfccConf:
    """Options of ``frontend: mfcc`` (Kaldi ``compute-mfcc-feats`` + ``add-deltas``)."""

    sample_rate: int = 16000
    num_mel_bins: int = 23
    num_ceps: int = 13
    use_deltas: bool = True
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
        self.feature_config()

    def feature_config(self) -> FeatureConfig:
        """The extractor's config for these options."""
        return FeatureConfig(feats_type="mfcc", **{f.name: getattr(self, f.name) for f in fields(self)})


class KaldiFrontend(Frontend):
    """fbank or MFCC features of :class:`FeatureExtractor` (byte-identical to it)."""

    def __init__(self, name: str, conf: FbankConf | MfccConf) -> None:
        self.name = name
        self.conf = conf
        self.feature_config = conf.feature_config()
        self._extractor = FeatureExtractor(self.feature_config)

    @property
    def sample_rate(self) -> int:
        return self.feature_config.sample_rate

    @property
    def dim(self) -> int:
        return self.feature_config.dim

    @property
    def frame_shift(self) -> float:
        return self.feature_config.frame_shift_seconds

    @property
    def shift_samples(self) -> int:
        return self.feature_config.shift_samples

    @property
    def min_samples(self) -> int:
        return self.feature_config.window_samples

    def num_frames(self, num_samples: int) -> int:
        return self.feature_config.num_frames(num_samples)

    def check_audio(self, samples: np.ndarray, utt: str = "") -> None:
        # The extractor's own check: its messages (in milliseconds of frame_length) are the
        # ones users and tests know.
        self._extractor.check_audio(samples, utt)

    def extract(self, samples: np.ndarray) -> np.ndarray:
        return self._extractor.extract(samples)


@FRONTENDS.register("fbank", FbankConf)
def build_fbank(conf: FbankConf, **_runtime: object) -> KaldiFrontend:
    """log-mel filterbank, Kaldi-compatible"""
    return KaldiFrontend("fbank", conf)


@FRONTENDS.register("mfcc", MfccConf)
def build_mfcc(conf: MfccConf, **_runtime: object) -> KaldiFrontend:
    """MFCC (+ deltas), Kaldi-compatible"""
    return KaldiFrontend("mfcc", conf)
