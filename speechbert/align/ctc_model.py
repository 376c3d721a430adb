"""Character CTC acoustic model used for forced alignment (and as a small greedy ASR).

Convolutional by default: on a few CPU cores a stack of 1-D convolutions trains an order of
magnitude faster than a BiLSTM of the same size (``doc/alignment.md``). BiLSTM and transformer
layers can be stacked on top for larger corpora.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from speechbert.errors import ConfigError


@dataclass
class CTCModelConfig:
    """Shape of the CTC model; stored with a trained model so it can be rebuilt."""

    input_dim: int = 80
    vocab_size: int = 29
    subsample: int = 1          # 1 or 2: stride of the front-end convolution
    channels: int = 192
    kernel_size: int = 5
    conv_layers: int = 4        # residual conv blocks after the front-end
    lstm_layers: int = 0        # BiLSTM layers after the convs (hidden = channels / 2 each way)
    transformer_layers: int = 0
    attention_heads: int = 4
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.subsample not in (1, 2, 4):
            raise ConfigError(f"subsample must be 1, 2 or 4, got {self.subsample}")
        if self.kernel_size % 2 != 1:
            raise ConfigError(f"kernel_size must be odd, got {self.kernel_size}")
        if self.transformer_layers and self.channels % self.attention_heads:
            raise ConfigError(f"channels ({self.channels}) must divide by attention_heads "
                              f"({self.attention_heads})")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CTCModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown CTC model options: {', '.join(unknown)}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _ConvBlock(nn.Module):
    """Pre-norm residual block: LayerNorm -> conv -> GELU -> dropout (+ input)."""

    def __init__(self, channels: int, kernel_size: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)
        self.conv = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, C)
        y = self.conv(self.norm(x).transpose(1, 2)).transpose(1, 2)
        return x + self.dropout(F.gelu(y))


class CTCModel(nn.Module):
    """Features ``(B, T, D)`` -> per-frame log-probabilities over the character vocabulary.

    ``forward(**batch)`` follows the trainer's interface and returns ``(loss, stats, weight)``.
    """

    def __init__(self, config: CTCModelConfig, blank: int = 0) -> None:
        super().__init__()
        self.config = config
        self.blank = blank
        c = config
        self.frontend = nn.Conv1d(c.input_dim, c.channels, c.kernel_size, stride=c.subsample,
                                  padding=c.kernel_size // 2)
        self.blocks = nn.ModuleList(_ConvBlock(c.channels, c.kernel_size, c.dropout)
                                    for _ in range(c.conv_layers))
        self.lstm = (nn.LSTM(c.channels, c.channels // 2, num_layers=c.lstm_layers,
                             batch_first=True, bidirectional=True,
                             dropout=c.dropout if c.lstm_layers > 1 else 0.0)
                     if c.lstm_layers else None)
        self.transformer = (nn.TransformerEncoder(
            nn.TransformerEncoderLayer(c.channels, c.attention_heads, 4 * c.channels, c.dropout,
                                       batch_first=True, norm_first=True),
            c.transformer_layers, enable_nested_tensor=False) if c.transformer_layers else None)
        self.norm = nn.LayerNorm(c.channels)
        self.output = nn.Linear(c.channels, c.vocab_size)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Frames out of the front-end for ``lengths`` frames in."""
        k, s = self.config.kernel_size, self.config.subsample
        return torch.div(lengths + 2 * (k // 2) - k, s, rounding_mode="floor") + 1

    def log_probs(self, feats: torch.Tensor, feats_lengths: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(log_probs (B, T', V), lengths (B,))``."""
        x = F.gelu(self.frontend(feats.transpose(1, 2))).transpose(1, 2)
        lengths = self.output_lengths(feats_lengths)
        for block in self.blocks:
            x = block(x)
        if self.lstm is not None:
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                                       enforce_sorted=False)
            x, _ = self.lstm(packed)
            x, _ = nn.utils.rnn.pad_packed_sequence(x, batch_first=True,
                                                    total_length=int(lengths.max()))
        if self.transformer is not None:
            pad = torch.arange(x.size(1), device=x.device)[None, :] >= lengths[:, None]
            x = self.transformer(x, src_key_padding_mask=pad)
        return F.log_softmax(self.output(self.norm(x)), dim=-1), lengths

    def forward(self, feats: torch.Tensor, feats_lengths: torch.Tensor, targets: torch.Tensor,
                target_lengths: torch.Tensor, **_: Any
                ) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
        """CTC loss summed over each utterance, averaged over the batch."""
        log_probs, lengths = self.log_probs(feats, feats_lengths)
        loss = F.ctc_loss(log_probs.transpose(0, 1), targets, lengths, target_lengths,
                          blank=self.blank, reduction="sum", zero_infinity=True)
        batch = feats.size(0)
        loss = loss / batch
        stats = {"loss_per_token": float(loss.detach() * batch / target_lengths.sum().clamp(min=1))}
        return loss, stats, torch.tensor(float(batch))
