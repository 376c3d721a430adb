"""Output heads on top of :class:`speechbert.nets.BertEncoder`.

``MLMHead(config, word_embeddings)``: dense + GELU + LayerNorm, then a decoder whose weight IS the
encoder's word-embedding table (tied) plus an output bias. ``head(hidden)`` → logits over the
vocabulary (… x vocab_size); gather the masked positions before calling it to save work.
``head.load_hf_state_dict(state)`` takes HF ``cls.predictions.*`` weights (prefix stripped or not).

``SpanHead(hidden_size)``: a linear layer to two logits per position.
``head(hidden, mask=None)`` → ``(start_logits, end_logits)``, each B x T; positions where
``mask`` is False get the dtype's most negative value, so they never win a softmax/argmax.
``head.load_hf_state_dict(state)`` takes HF ``qa_outputs.*`` weights.

``AbsSpanHead``: the interface of every span head (``span_head: <name>`` in YAML, registered in
:mod:`speechbert.nets.span_heads`): ``forward(hidden, mask=None) -> (start, end)`` and
``accepts_hf_qa_outputs`` (whether a checkpoint's ``qa_outputs.*`` fit it).
"""

from __future__ import annotations

from typing import ClassVar, Mapping, Optional

import torch
import torch.nn.functional as F
from torch import nn

from speechbert.errors import ConfigError
from speechbert.nets.config import GELU_VARIANTS, BertConfig

#: HF names under ``cls.predictions.`` → our MLMHead parameter names.
MLM_HF_NAMES = {
    "transform.dense.weight": "dense.weight",
    "transform.dense.bias": "dense.bias",
    "transform.LayerNorm.weight": "layer_norm.weight",
    "transform.LayerNorm.bias": "layer_norm.bias",
    "transform.LayerNorm.gamma": "layer_norm.weight",
    "transform.LayerNorm.beta": "layer_norm.bias",
    "bias": "bias",
    "decoder.bias": "bias",
}


def _strip(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}


class MLMHead(nn.Module):
    """Masked-token prediction head with the decoder tied to the input word embeddings."""

    def __init__(self, config: BertConfig, word_embeddings: nn.Embedding) -> None:
        super().__init__()
        hidden = config.hidden_size
        if word_embeddings.embedding_dim != hidden:
            raise ConfigError(f"word embeddings have dim {word_embeddings.embedding_dim}, hidden_size is {hidden}")
        self.dense = nn.Linear(hidden, hidden)
        self.layer_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.gelu_approximate = GELU_VARIANTS[config.hidden_act]
        # Not registered as a submodule: the table belongs to the encoder (no duplicate in state_dict).
        self._word_embeddings = (word_embeddings,)
        self.bias = nn.Parameter(torch.zeros(word_embeddings.num_embeddings))
        nn.init.normal_(self.dense.weight, std=config.initializer_range)
        nn.init.zeros_(self.dense.bias)
        #: True once weights were loaded from a checkpoint (pretraining logs it).
        self.loaded_from_checkpoint = False

    @property
    def decoder_weight(self) -> torch.Tensor:
        return self._word_embeddings[0].weight

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        h = F.gelu(self.dense(hidden), approximate=self.gelu_approximate)
        return F.linear(self.layer_norm(h), self.decoder_weight, self.bias)

    def load_hf_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load HF ``cls.predictions.*`` weights; raise ``ConfigError`` on missing/unknown names."""
        state = _strip(state, "cls.predictions.")
        ours: dict[str, torch.Tensor] = {}
        unexpected = []
        for name, tensor in state.items():
            if name == "decoder.weight":
                continue  # tied to the word embeddings, loaded with the encoder
            target = MLM_HF_NAMES.get(name)
            if target is None:
                unexpected.append(name)
            else:
                ours[target] = tensor
        missing = sorted({"dense.weight", "dense.bias", "layer_norm.weight", "layer_norm.bias", "bias"} - set(ours))
        if missing or unexpected:
            raise ConfigError("MLM head weights do not match: "
                              f"missing {missing or 'none'}, unexpected {sorted(unexpected) or 'none'}")
        bias = ours["bias"]
        if bias.shape[0] != self.bias.shape[0]:
            raise ConfigError(f"MLM head bias has {bias.shape[0]} entries, vocabulary has {self.bias.shape[0]}")
        self.load_state_dict(ours, strict=True)
        self.loaded_from_checkpoint = True


def mask_span_logits(start: torch.Tensor, end: torch.Tensor,
                     mask: Optional[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Start/end logits with the dtype's most negative value where ``mask`` is False."""
    if mask is None:
        return start, end
    fill = torch.finfo(start.dtype).min
    return start.masked_fill(~mask.bool(), fill), end.masked_fill(~mask.bool(), fill)


class AbsSpanHead(nn.Module):
    """A span head: hidden states (B x T x H) -> start and end logits (B x T each), masked."""

    #: whether :meth:`load_hf_state_dict` takes a Hugging Face QA checkpoint's ``qa_outputs.*``
    accepts_hf_qa_outputs: ClassVar[bool] = False

    def forward(self, hidden: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def load_hf_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load HF ``qa_outputs.*`` weights (only heads with ``accepts_hf_qa_outputs``)."""
        raise ConfigError(f"{type(self).__name__} cannot take a checkpoint's qa_outputs weights")


class SpanHead(AbsSpanHead):
    """Start/end logits for span extraction (``span_head: linear``)."""

    accepts_hf_qa_outputs = True

    def __init__(self, hidden_size: int, initializer_range: float = 0.02) -> None:
        super().__init__()
        self.proj = nn.Linear(hidden_size, 2)
        nn.init.normal_(self.proj.weight, std=initializer_range)
        nn.init.zeros_(self.proj.bias)

    def forward(self, hidden: torch.Tensor, mask: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.proj(hidden)
        return mask_span_logits(logits[..., 0], logits[..., 1], mask)

    def load_hf_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load HF ``qa_outputs.{weight,bias}``."""
        state = _strip(state, "qa_outputs.")
        self.load_state_dict({"proj.weight": state["weight"], "proj.bias": state["bias"]}, strict=True)
