"""The SSL frontend as a ``torch.nn.Module``: waveforms -> one layer or a weighted sum of layers.

Used as is inside a model (the layer weights are a learnable parameter there; the SSL model's
own weights are frozen unless ``freeze_upstream=False``), and by the dump frontend
(:mod:`speechbert.audio.frontends.ssl`), which runs it without gradients with fixed weights.

Steps (each a method, so the dump frontend can chunk long audio between them):

1. :meth:`normalize` -- per-utterance zero mean, unit variance (``F.layer_norm`` over the valid
   samples), only for models trained that way;
2. :meth:`layer_features` -- the transformer layer outputs of torchaudio's ``extract_features``
   (layer ``k`` = the output of the ``k``-th transformer layer, 1-based), one layer or their
   weighted sum (``softmax`` of learnable logits, initialised to the configured weights);
3. :meth:`subsample` -- the mean of each ``k`` consecutive frames (the last group may be shorter).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from speechbert.audio.frontends.ssl_arch import SSLArch


class SSLEncoder(nn.Module):
    """Waveforms ``(batch, samples)`` -> features ``(batch, frames, dim)`` of an SSL speech model."""

    def __init__(self, model: nn.Module, arch: SSLArch, layer: int = -1, weighted_sum: bool = False,
                 layer_weights: Sequence[float] = (), subsample: int = 1, normalize: bool = False,
                 freeze_upstream: bool = True) -> None:
        super().__init__()
        self.model = model
        self.arch = arch
        n = arch.num_layers
        if not weighted_sum and not (1 <= layer <= n or -n <= layer <= -1):
            raise ValueError(f"layer {layer} is not one of the model's {n} layers (1..{n}, or -1 = last)")
        self.layer = layer if layer > 0 else n + 1 + layer
        self.weighted_sum = bool(weighted_sum)
        self.subsample_factor = int(subsample)
        self.normalize_input = bool(normalize)
        if self.weighted_sum:
            weights = list(layer_weights) or [1.0] * n
            if len(weights) != n:
                raise ValueError(f"layer_weights has {len(weights)} values, the model has {n} layers")
            total = float(sum(weights))
            # logits whose softmax is the normalised weights, so the fixed weights are the start
            self.layer_logits = nn.Parameter(torch.tensor([math.log(w / total) for w in weights]))
        self.freeze_upstream = freeze_upstream
        if freeze_upstream:
            for p in self.model.parameters():
                p.requires_grad_(False)

    @property
    def num_layers_used(self) -> int:
        """How many transformer layers run (the layers above the chosen one are skipped)."""
        return self.arch.num_layers if self.weighted_sum else self.layer

    @property
    def dim(self) -> int:
        return self.arch.dim

    def layer_weights(self) -> torch.Tensor:
        """The weights of the weighted sum (sum to 1)."""
        return torch.softmax(self.layer_logits, dim=0)

    def train(self, mode: bool = True) -> "SSLEncoder":
        super().train(mode)
        if self.freeze_upstream:
            self.model.eval()  # a frozen model keeps inference behaviour (no dropout) in training
        return self

    # --- steps ----------------------------------------------------------------------------------
    def normalize(self, waves: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Per-utterance zero mean, unit variance over the valid samples, when the model expects it."""
        if not self.normalize_input:
            return waves
        if lengths is None:
            return nn.functional.layer_norm(waves, waves.shape[-1:])
        mask = (torch.arange(waves.shape[1], device=waves.device)[None, :] < lengths[:, None]).to(waves.dtype)
        count = mask.sum(dim=1, keepdim=True).clamp(min=1)
        mean = (waves * mask).sum(dim=1, keepdim=True) / count
        var = (((waves - mean) * mask) ** 2).sum(dim=1, keepdim=True) / count
        return (waves - mean) / torch.sqrt(var + 1e-5) * mask  # F.layer_norm's eps

    def layer_features(self, waves: torch.Tensor,
                       lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The chosen layer (or the weighted sum) at the model's frame rate, and frame lengths."""
        outs, out_lengths = self.model.extract_features(waves, lengths, num_layers=self.num_layers_used)
        if not self.weighted_sum:
            return outs[self.layer - 1], out_lengths
        stacked = torch.stack(outs, dim=0)  # (layers, batch, frames, dim)
        w = self.layer_weights().to(stacked.dtype)
        return torch.einsum("l,lbtd->btd", w, stacked), out_lengths

    def subsample(self, feats: torch.Tensor,
                  lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The mean of each ``subsample`` consecutive valid frames; ``ceil(frames / k)`` frames."""
        k = self.subsample_factor
        if k == 1:
            return feats, lengths
        b, t, d = feats.shape
        valid = torch.full((b,), t, device=feats.device) if lengths is None else lengths
        mask = (torch.arange(t, device=feats.device)[None, :] < valid[:, None]).to(feats.dtype)
        pad = (-t) % k
        x = nn.functional.pad(feats * mask[..., None], (0, 0, 0, pad))
        m = nn.functional.pad(mask, (0, pad))
        sums = x.reshape(b, -1, k, d).sum(dim=2)
        counts = m.reshape(b, -1, k).sum(dim=2).clamp(min=1)
        out_lengths = None if lengths is None else torch.div(lengths + k - 1, k, rounding_mode="floor")
        return sums / counts[..., None], out_lengths

    def forward(self, waves: torch.Tensor,
                lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features ``(batch, frames, dim)`` and their lengths (``None`` when ``lengths`` is)."""
        feats, out_lengths = self.layer_features(self.normalize(waves, lengths), lengths)
        return self.subsample(feats, out_lengths)
