"""Audio word encoder ``mean_pool``: the mean of a word's (projected) frames, then a linear map.

In YAML::

    awe: mean_pool
    awe_conf: {hidden_size: 256, dropout: 0.0}

Each frame goes through ``Linear(D, hidden_size)`` + GELU (``hidden_size: 0`` skips it and pools
the raw frames), the frames of a word are averaged over its own length (padding never counts),
and ``Linear`` maps the mean to the BERT hidden size. No reconstruction decoder: train it with
``reconstruction_weight: 0`` (the semantic loss alone). Far cheaper than the RNN, and blind to
frame order -- a baseline for what the order adds.

:class:`PooledProjection` (masked mean + projection) is shared with the ``units`` encoder.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from speechbert.errors import ConfigError
from speechbert.nets.abs_audio_word_encoder import AUDIO_WORD_ENCODERS, AbsAudioWordEncoder, check_segments, \
    length_mask


def masked_mean(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean over the first ``lengths[b]`` steps of each row of ``x`` (B x T x H) -> B x H."""
    mask = length_mask(lengths.to(x.device), x.shape[1]).unsqueeze(-1).to(x.dtype)
    return (x * mask).sum(1) / mask.sum(1).clamp_min(1.0)


class PooledProjection(nn.Module):
    """Per-frame ``Linear`` + GELU (optional), masked mean over a word's frames, ``Linear`` to the output."""

    def __init__(self, input_dim: int, output_size: int, hidden_size: int = 0, dropout: float = 0.0) -> None:
        super().__init__()
        self.frame_proj = nn.Linear(input_dim, hidden_size) if hidden_size else None
        self.dropout = float(dropout)
        self.out = nn.Linear(hidden_size or input_dim, output_size)

    def forward(self, frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = frames
        if self.frame_proj is not None:
            x = F.gelu(self.frame_proj(x))
        pooled = masked_mean(x, lengths)
        if self.dropout and self.training:
            pooled = F.dropout(pooled, self.dropout, training=True)
        return self.out(pooled)


def check_pooling_sizes(hidden_size: int, dropout: float) -> None:
    """ConfigError naming the key when a pooled encoder's ``hidden_size``/``dropout`` cannot be used."""
    if int(hidden_size) < 0:
        raise ConfigError(f"hidden_size must be >= 0 (0: no per-frame projection), got {hidden_size}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {dropout}")


@dataclasses.dataclass(frozen=True)
class MeanPoolConf:
    """``awe_conf`` of ``awe: mean_pool``."""

    hidden_size: int = 256   # per-frame projection before pooling (0: pool the raw frames)
    dropout: float = 0.0     # on the pooled vector, in training

    def __post_init__(self) -> None:
        check_pooling_sizes(self.hidden_size, self.dropout)


class MeanPoolWordEncoder(AbsAudioWordEncoder):
    """Mean of a word's projected frames -> linear -> the BERT hidden size (no decoder)."""

    def __init__(self, input_dim: int, output_size: int, conf: MeanPoolConf = MeanPoolConf()) -> None:
        super().__init__()
        self.input_dim = int(input_dim)
        self.output_size = int(output_size)
        self.pool = PooledProjection(self.input_dim, self.output_size, conf.hidden_size, conf.dropout)

    def encode(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = check_segments(feats, lengths, self.input_dim)
        return self.pool(feats, lengths)


@AUDIO_WORD_ENCODERS.register("mean_pool", MeanPoolConf)
def build_mean_pool(conf: MeanPoolConf, *, input_dim: int, output_size: int) -> MeanPoolWordEncoder:
    """mean of the (projected) frames -> linear; no reconstruction decoder."""
    return MeanPoolWordEncoder(input_dim, output_size, conf)
