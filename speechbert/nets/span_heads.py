"""The span heads of fine-tuning, chosen in YAML by ``span_head: <name>`` + ``span_head_conf: {...}``.

- ``linear`` (default): :class:`~speechbert.nets.heads.SpanHead`, one linear layer to start/end
  logits (BERT's SQuAD head; takes a QA checkpoint's ``qa_outputs.*``). No options.
- ``mlp``: ``Linear(H, hidden_size)`` + GELU + LayerNorm + dropout + ``Linear(hidden_size, 2)``.

Builders take their config and the keyword arguments ``hidden_size`` (the transformer's) and
``initializer_range`` (its weight init std)::

    head = SPAN_HEADS.build("mlp", {"hidden_size": 128}, hidden_size=384, initializer_range=0.02)
    start, end = head(hidden, mask=allowed)
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from speechbert.errors import ConfigError
from speechbert.nets.heads import AbsSpanHead, SpanHead, mask_span_logits
from speechbert.registry import Registry

#: the span heads (``span_head: <name>``)
SPAN_HEADS = Registry("span_head", builtin_modules=("speechbert.nets.span_heads",), description="span head")


@dataclasses.dataclass(frozen=True)
class LinearSpanHeadConf:
    """``span_head_conf`` of ``span_head: linear`` (no options)."""


@SPAN_HEADS.register("linear", LinearSpanHeadConf)
def build_linear_span_head(conf: LinearSpanHeadConf, *, hidden_size: int,
                           initializer_range: float = 0.02) -> SpanHead:
    """one linear layer to start/end logits (BERT's SQuAD head)."""
    return SpanHead(hidden_size, initializer_range)


@dataclasses.dataclass(frozen=True)
class MLPSpanHeadConf:
    """``span_head_conf`` of ``span_head: mlp``."""

    hidden_size: int = 0    # the inner layer's size (0: the transformer's hidden size)
    dropout: float = 0.1    # after the inner layer, in training

    def __post_init__(self) -> None:
        if int(self.hidden_size) < 0:
            raise ConfigError(f"hidden_size must be >= 0 (0: the transformer's), got {self.hidden_size}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")


class MLPSpanHead(AbsSpanHead):
    """Dense + GELU + LayerNorm + dropout, then a linear layer to start/end logits."""

    def __init__(self, hidden_size: int, conf: MLPSpanHeadConf = MLPSpanHeadConf(),
                 initializer_range: float = 0.02) -> None:
        super().__init__()
        inner = int(conf.hidden_size) or int(hidden_size)
        self.dense = nn.Linear(hidden_size, inner)
        self.layer_norm = nn.LayerNorm(inner)
        self.dropout = float(conf.dropout)
        self.proj = nn.Linear(inner, 2)
        for layer in (self.dense, self.proj):
            nn.init.normal_(layer.weight, std=initializer_range)
            nn.init.zeros_(layer.bias)

    def forward(self, hidden: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.layer_norm(F.gelu(self.dense(hidden)))
        if self.dropout and self.training:
            h = F.dropout(h, self.dropout, training=True)
        logits = self.proj(h)
        return mask_span_logits(logits[..., 0], logits[..., 1], mask)


@SPAN_HEADS.register("mlp", MLPSpanHeadConf)
def build_mlp_span_head(conf: MLPSpanHeadConf, *, hidden_size: int, initializer_range: float = 0.02) -> MLPSpanHead:
    """dense + GELU + LayerNorm + dropout, then linear to start/end logits."""
    return MLPSpanHead(hidden_size, conf, initializer_range)
