"""The interface of an audio word encoder, and the registry the YAML ``awe:`` key chooses from.

An audio word encoder maps one spoken word's frames to one vector in BERT's input-embedding
space. Every consumer -- the joint-embedding model (stage 5), the mixed text/audio encoder of
pre-training and fine-tuning (stages 6, 7), the audio vector table -- sees it only through
:class:`AbsAudioWordEncoder`::

    enc = AUDIO_WORD_ENCODERS.build("rnn", {"hidden_size": 128}, input_dim=80, output_size=384)
    vectors = enc.encode(feats, lengths)     # feats: B x T x D float, lengths: B long -> B x output_size
    out = enc(feats, lengths)                # AudioWordOutput(vectors, reconstruction or None)
    enc.has_decoder                          # True when forward rebuilds the frames (reconstruction loss)
    enc.pretraining_only_parameters()        # names of parameters only the joint-embedding losses use
    enc.input_kind                           # "features" (real-valued, CMVN applies) or "units" (ids)

A component is a module with a builder registered in one line (doc/extending.md)::

    @AUDIO_WORD_ENCODERS.register("max_pool", MaxPoolConf)
    def build_max_pool(conf: MaxPoolConf, *, input_dim: int, output_size: int) -> AbsAudioWordEncoder: ...

Builders take their config dataclass and the keyword arguments ``input_dim`` (feature
dimension of a frame: 1 for unit ids) and ``output_size`` (the BERT hidden size).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, NamedTuple, Optional

import torch
from torch import nn

from speechbert.registry import Registry

#: the audio word encoders: ``awe: <name>`` + ``awe_conf: {...}`` (built-ins register on first use)
AUDIO_WORD_ENCODERS = Registry(
    "awe",
    builtin_modules=("speechbert.nets.audio_word_encoder", "speechbert.nets.pooling_word_encoder",
                     "speechbert.nets.unit_word_encoder"),
    description="audio word encoder")

#: what a frame of an encoder's input holds
INPUT_KINDS = ("features", "units")


class AudioWordOutput(NamedTuple):
    """What ``forward`` returns: the word vectors and, for encoders with a decoder, the rebuilt frames."""

    vectors: torch.Tensor                    # B x output_size
    reconstruction: Optional[torch.Tensor]   # B x T x D (zero past each length), or None


def length_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """B x max_len bool, True at the valid frames."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def check_segments(feats: torch.Tensor, lengths: torch.Tensor, input_dim: int) -> torch.Tensor:
    """``lengths`` as a long tensor after checking a padded batch of word segments (ValueError if bad)."""
    if feats.dim() != 3 or feats.shape[-1] != input_dim:
        raise ValueError(f"feats must be B x T x {input_dim}, got {tuple(feats.shape)}")
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    if lengths.shape != (feats.shape[0],):
        raise ValueError(f"lengths must have shape ({feats.shape[0]},), got {tuple(lengths.shape)}")
    if feats.shape[0] and (int(lengths.min()) < 1 or int(lengths.max()) > feats.shape[1]):
        raise ValueError(f"lengths must be in [1, {feats.shape[1]}], got {lengths.tolist()}")
    return lengths


class AbsAudioWordEncoder(nn.Module, ABC):
    """Word segment frames -> one vector per word (see the module docstring).

    Subclasses set ``input_dim`` and ``output_size`` and implement :meth:`encode`; an encoder
    with a reconstruction decoder also overrides :meth:`forward`, :attr:`has_decoder` and
    :meth:`pretraining_only_parameters`.
    """

    #: "features": real-valued frames (global CMVN may be applied); "units": one discrete id per frame
    input_kind: ClassVar[str] = "features"
    input_dim: int
    output_size: int

    @abstractmethod
    def encode(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """B x T x D frames (+ B lengths, padding after each segment) -> B x output_size vectors."""

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> AudioWordOutput:
        """The vectors and the reconstruction (``None`` without a decoder)."""
        return AudioWordOutput(self.encode(feats, lengths), None)

    @property
    def has_decoder(self) -> bool:
        """Whether ``forward`` rebuilds the frames, so a reconstruction loss can train the encoder."""
        return False

    def pretraining_only_parameters(self) -> list[str]:
        """Names (as in ``named_parameters()``) of the parameters only the joint-embedding losses
        use; pre-training and fine-tuning freeze them (:class:`~speechbert.nets.mixed_encoder.MixedEncoder`)."""
        return []
