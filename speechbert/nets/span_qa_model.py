"""The span QA model of stage 7: a :class:`~speechbert.nets.mixed_encoder.MixedEncoder` and a span head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from speechbert.nets.mixed_encoder import MixedEncoder


class SpanQAModel(nn.Module):
    """Mixed text/audio encoder + span head; ``forward`` returns the mean start/end cross-entropy."""

    def __init__(self, encoder: MixedEncoder, span_head: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.span_head = span_head

    def logits(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, attention_mask: torch.Tensor,
               span_mask: torch.Tensor, **audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Start and end logits (B x L, float32), the dtype's minimum outside ``span_mask``."""
        hidden = self.encoder(input_ids, token_type_ids, attention_mask, **audio)
        start, end = self.span_head(hidden.float(), mask=span_mask)
        return start, end

    def forward(self, start_positions: torch.Tensor, end_positions: torch.Tensor,
                **batch: torch.Tensor) -> tuple[torch.Tensor, dict, int]:
        start, end = self.logits(**batch)
        loss = (F.cross_entropy(start, start_positions) + F.cross_entropy(end, end_positions)) / 2
        with torch.no_grad():
            hit = (start.argmax(-1) == start_positions) & (end.argmax(-1) == end_positions)
        return loss, {"acc_span": hit.float().mean()}, int(start_positions.shape[0])
