"""Audio word encoder ``units``: reads discrete speech units (one integer id per frame).

A unit dump is an ordinary feature archive of dimension 1 whose frames hold the unit id as a
float, with the ``feats_type`` line ``units <K>``. This encoder casts the frames to ids, embeds
them (``nn.Embedding(num_units, embed_size)``), averages a word's embeddings over its own length
and maps the mean to the BERT hidden size (:class:`~speechbert.nets.pooling_word_encoder.PooledProjection`).
In YAML::

    awe: units
    awe_conf: {num_units: 0, embed_size: 128, hidden_size: 256}

``num_units: 0`` takes K from the training dump's ``feats_type`` line (the resolved value is
recorded in the experiment's config). Unit ids are not features: global CMVN must not be applied
(``--cmvn`` with this encoder is a ConfigError; the task checks it), and neither may frames be
averaged (``frame_pooling`` must be 1; ``max_word_frames`` picks frames and is fine).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from speechbert.errors import ConfigError, DataError
from speechbert.nets.abs_audio_word_encoder import AUDIO_WORD_ENCODERS, AbsAudioWordEncoder, check_segments, \
    length_mask
from speechbert.nets.pooling_word_encoder import PooledProjection, check_pooling_sizes


@dataclasses.dataclass(frozen=True)
class UnitEncoderConf:
    """``awe_conf`` of ``awe: units``."""

    num_units: int = 0       # K, the unit inventory (0: from the training dump's "units K" line)
    embed_size: int = 128    # unit embedding size
    hidden_size: int = 256   # per-frame projection before pooling (0: pool the embeddings)
    dropout: float = 0.0     # on the pooled vector, in training

    def __post_init__(self) -> None:
        if int(self.num_units) < 0:
            raise ConfigError(f"num_units must be >= 1 (0: from the dump's feats_type), got {self.num_units}")
        if int(self.embed_size) < 1:
            raise ConfigError(f"embed_size must be >= 1, got {self.embed_size}")
        check_pooling_sizes(self.hidden_size, self.dropout)


class UnitWordEncoder(AbsAudioWordEncoder):
    """Unit ids -> embeddings -> masked mean (+ projection) -> the BERT hidden size (no decoder)."""

    input_kind = "units"

    def __init__(self, num_units: int, output_size: int, conf: UnitEncoderConf = UnitEncoderConf()) -> None:
        super().__init__()
        if int(num_units) < 1:
            raise ConfigError(f"num_units must be >= 1, got {num_units} (set awe_conf.num_units or read a "
                              "'units K' dump)")
        self.input_dim = 1
        self.output_size = int(output_size)
        self.num_units = int(num_units)
        self.embed = nn.Embedding(self.num_units, conf.embed_size)
        self.pool = PooledProjection(conf.embed_size, self.output_size, conf.hidden_size, conf.dropout)

    def unit_ids(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """B x T long ids of B x T x 1 frames; DataError when a valid frame is no id in [0, num_units)."""
        values = feats[..., 0]
        ids = values.round().long()
        valid = length_mask(lengths.to(feats.device), feats.shape[1])
        bad = valid & ((ids.to(values.dtype) != values) | (ids < 0) | (ids >= self.num_units))
        if bool(bad.any()):
            b, t = (int(i) for i in bad.nonzero()[0])
            raise DataError(f"frame {t} of word segment {b} holds {float(values[b, t])!r}, not a unit id in "
                            f"[0, {self.num_units}) (a unit dump read with CMVN, or another dump?)")
        return ids.masked_fill(~valid, 0)

    def encode(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = check_segments(feats, lengths, 1)
        return self.pool(self.embed(self.unit_ids(feats, lengths)), lengths)


@AUDIO_WORD_ENCODERS.register("units", UnitEncoderConf)
def build_unit_encoder(conf: UnitEncoderConf, *, input_dim: int, output_size: int) -> UnitWordEncoder:
    """discrete unit ids (a 'units K' dump) -> embedding -> mean -> linear; no decoder."""
    if int(input_dim) != 1:
        raise ConfigError(f"awe 'units' reads one unit id per frame, but the features have {input_dim} dims "
                          "(a 'units K' dump has dimension 1)")
    return UnitWordEncoder(conf.num_units, output_size, conf)
