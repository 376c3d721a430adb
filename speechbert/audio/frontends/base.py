"""The one interface every feature frontend offers, and the registry that names them.

A frontend turns mono float32 samples in [-1, 1] at its ``sample_rate`` into a float32
``(frames, dim)`` matrix. Every consumer (``compute_feats``, answering a new recording, the
dump's ``feats_type`` / ``frame_shift`` files) reads it through :class:`Frontend` only, so a new
frontend is one module plus one ``@FRONTENDS.register(name, ConfClass)`` line::

    frontend = FRONTENDS.build("fbank", {"num_mel_bins": 40})
    feats = frontend(samples, "utt1")            # checked: too-short audio, NaN/Inf
    frontend.feats_type_line                     # "fbank 40", the dump's feats_type
    frontend.to_dict()                           # {"frontend": "fbank", "frontend_conf": {...}}
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from speechbert.audio.features import check_finite_features, check_mono_audio
from speechbert.registry import Registry

FRONTENDS = Registry(
    "frontend",
    builtin_modules=("speechbert.audio.frontends.kaldi", "speechbert.audio.frontends.ssl"),
    description="feature frontend (frontend: <name> + frontend_conf: {...})",
)


class Frontend(abc.ABC):
    """Samples -> features. Subclasses set ``name`` and ``conf`` and implement the abstract parts.

    Attributes:
        name: the registered name (``fbank``, ``mfcc``, ``ssl``); the first word of ``feats_type``.
        conf: the component's config dataclass (what ``to_dict`` writes).
    """

    name: str = ""
    conf: Any = None

    # --- what the features are ----------------------------------------------------------------
    @property
    @abc.abstractmethod
    def sample_rate(self) -> int:
        """The rate (Hz) the samples must have; other rates are resampled before."""

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """Feature dimension."""

    @property
    @abc.abstractmethod
    def frame_shift(self) -> float:
        """Seconds between frames (the content of ``dump/<set>/frame_shift``)."""

    @property
    @abc.abstractmethod
    def shift_samples(self) -> int:
        """Samples between frame starts (frame ``i`` starts at sample ``i * shift_samples``)."""

    @property
    @abc.abstractmethod
    def min_samples(self) -> int:
        """The fewest samples that give one frame."""

    @abc.abstractmethod
    def num_frames(self, num_samples: int) -> int:
        """Frames produced for ``num_samples`` samples (0 below ``min_samples``)."""

    @abc.abstractmethod
    def extract(self, samples: np.ndarray) -> np.ndarray:
        """Features of audio that passed :meth:`check_audio`, not yet checked for NaN/Inf."""

    # --- shared behaviour ---------------------------------------------------------------------
    @property
    def feats_type_line(self) -> str:
        """The one-line content of ``dump/<set>/feats_type``: ``<name> <dim>`` (``fbank 80``)."""
        return f"{self.name} {self.dim}"

    def to_dict(self) -> dict:
        """``{"frontend": name, "frontend_conf": {...}}``: the YAML that rebuilds this frontend."""
        return {"frontend": self.name, "frontend_conf": FRONTENDS.conf_to_dict(self.conf)}

    def __call__(self, samples: np.ndarray, utt: str = "") -> np.ndarray:
        """Compute and check the features of one utterance.

        Raises:
            DataError: naming ``utt`` if the audio is not mono, is shorter than one frame, or the
                features contain NaN/Inf.
        """
        self.check_audio(samples, utt)
        return self.check_features(self.extract(samples), utt)

    def check_audio(self, samples: np.ndarray, utt: str = "") -> None:
        """Raise ``DataError`` naming ``utt`` unless ``samples`` is mono with at least one frame."""
        check_mono_audio(samples, self.min_samples, self.sample_rate, utt)

    @staticmethod
    def check_features(feats: np.ndarray, utt: str = "") -> np.ndarray:
        """Return ``feats`` if all finite, else raise ``DataError`` naming ``utt``."""
        return check_finite_features(feats, utt)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.feats_type_line}, frame_shift={self.frame_shift:g} s)"
