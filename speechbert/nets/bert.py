"""Our BERT encoder: embeddings + post-LN transformer blocks, weight-compatible with HF BERT.

Public API::

    model = BertEncoder(BertConfig(...))             # random init (HF's init scheme)
    out = model(input_ids, attention_mask)           # BertOutput; out[0] is B x T x H
    emb = model.embed_tokens(input_ids)              # raw word-embedding lookup (B x T x H)
    out = model(word_embeds=emb, attention_mask=m)   # same as input_ids=..., but the word
                                                     # vectors may be replaced (audio words)

``forward(input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
word_embeds=None, output_hidden_states=False)``:

- exactly one of ``input_ids`` (B x T long) and ``word_embeds`` (B x T x H float) is given;
  ``word_embeds`` replaces only the word-embedding lookup: position and token-type embeddings,
  LayerNorm and dropout are still applied.
- ``attention_mask``: B x T, 1/True for real positions, 0/False for padding (HF convention).
  ``None`` (on CPU also an all-ones mask) means no padding and lets SDPA use its fastest
  kernels; elsewhere a given mask is always applied (checking it would cost a synchronisation).
- padding positions of the outputs are zero. On CPU, with padding, all per-token work
  (projections, GELU, LayerNorm, dropout) runs on the real tokens only, and the padded B x T
  layout is used only inside attention. On other devices the padded layout is used throughout
  (finding the real tokens would need a device-to-host synchronisation in every step).
- no host synchronisation and nothing data-dependent reaches Python in ``forward`` (no
  ``.item()``, no ``bool(tensor)``): ``bench/transformer.py`` checks it with the profiler.
- returns ``BertOutput(last_hidden_state, hidden_states)``; ``hidden_states`` is ``None`` unless
  ``output_hidden_states`` (then the embedding output followed by every layer's output).

The attention uses ``torch.nn.functional.scaled_dot_product_attention`` with one fused
query/key/value projection; HF's separate ``query``/``key``/``value`` weights are concatenated
when loading (see :mod:`speechbert.nets.pretrained`). When training on CPU with attention
dropout, SDPA would fall back to its unfused math path anyway; the same computation is written
out here so that the probabilities' dropout uses the cheap CPU mask of
:mod:`speechbert.nets.dropout` (so do the other dropouts). Evaluation and CUDA use SDPA
unchanged. ``BertModel`` is an alias of ``BertEncoder``.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import nn

from speechbert.errors import ConfigError
from speechbert.nets.config import GELU_VARIANTS, BertConfig
from speechbert.nets.dropout import Dropout, dropout_add, keep_mask


class BertOutput(NamedTuple):
    """Encoder output; index 0 is the last hidden states (B x T x H)."""

    last_hidden_state: torch.Tensor
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None


class BertEmbeddings(nn.Module):
    """Word + position + token-type embeddings, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size,
                                            padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, word_embeds: torch.Tensor, token_type_ids: Optional[torch.Tensor],
                position_ids: Optional[torch.Tensor]) -> torch.Tensor:
        seq_len = word_embeds.shape[1]
        if seq_len > self.position_embeddings.num_embeddings:
            raise ConfigError(f"sequence length {seq_len} exceeds max_position_embeddings="
                              f"{self.position_embeddings.num_embeddings}")
        if position_ids is None:
            # Broadcast one 1 x T x H slice instead of materialising B x T indices.
            pos = self.position_embeddings.weight[:seq_len].unsqueeze(0)
        else:
            pos = self.position_embeddings(position_ids)
        if token_type_ids is None:
            typ = self.token_type_embeddings.weight[0]
        else:
            typ = self.token_type_embeddings(token_type_ids)
        return self.dropout(self.layer_norm(word_embeds + pos + typ))


class BertLayer(nn.Module):
    """One post-LN block: x = LN(x + Attn(x)); x = LN(x + FFN(x))."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_dim = config.head_dim
        self.attn_dropout = config.attention_probs_dropout_prob
        self.gelu_approximate = GELU_VARIANTS[config.hidden_act]
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.ffn_in = nn.Linear(hidden, config.intermediate_size)
        self.ffn_out = nn.Linear(config.intermediate_size, hidden)
        self.ffn_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.hidden_dropout = config.hidden_dropout_prob

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor],
                packing: Optional["_Packing"] = None) -> torch.Tensor:
        """``x``: B x T x H, or N x H real tokens only when ``packing`` is given."""
        qkv = self.qkv(x)
        if packing is not None:
            qkv = packing.pad(qkv)
        batch, seq_len = qkv.shape[:2]
        q, k, v = qkv.view(batch, seq_len, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        if self.training and self.attn_dropout > 0.0 and q.device.type == "cpu":
            ctx = _attention_with_cpu_dropout(q, k, v, attn_mask, self.attn_dropout)
        else:
            ctx = F.scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, dropout_p=self.attn_dropout if self.training else 0.0)
        ctx = ctx.transpose(1, 2).reshape(batch, seq_len, self.num_heads * self.head_dim)
        if packing is not None:
            ctx = packing.pack(ctx)
        x = self.attn_norm(dropout_add(x, self.attn_out(ctx), self.hidden_dropout, self.training))
        h = F.gelu(self.ffn_in(x), approximate=self.gelu_approximate)
        return self.ffn_norm(dropout_add(x, self.ffn_out(h), self.hidden_dropout, self.training))


def _attention_with_cpu_dropout(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                attn_mask: Optional[torch.Tensor], p: float) -> torch.Tensor:
    """``dropout(softmax(q k^T / sqrt(d) + mask)) v``: what SDPA computes, with the cheap CPU dropout.

    q, k, v: B x heads x T x head_dim; ``attn_mask`` additive, broadcast to B x heads x T x T.
    The mask is finite, so even a row of padding only gives finite probabilities: SDPA's guard
    for fully masked rows is not needed.
    """
    scores = torch.matmul(q * (1.0 / math.sqrt(q.shape[-1])), k.transpose(-2, -1))
    if attn_mask is not None:
        scores = scores + attn_mask
    probs = torch.softmax(scores, dim=-1)
    keep, scale = keep_mask(probs.shape, p, probs.device)
    # The scale goes on the context (head_dim columns) rather than on the T x T probabilities.
    return torch.matmul(probs * keep, v).mul_(scale)


def _packs_tokens(device: torch.device) -> bool:
    """Whether padded batches run their per-token work on the real tokens only (CPU: yes).

    Elsewhere, the index of the real tokens would cost a device-to-host synchronisation per step.
    """
    return device.type == "cpu"


class _Packing:
    """Moves between the padded B x T layout (attention) and the N real tokens (everything else).

    Every projection, GELU, LayerNorm and dropout is per token, so running them on the real
    tokens only saves the padding's share of the work; attention needs the padded layout.
    """

    def __init__(self, mask: torch.Tensor, index: torch.Tensor) -> None:
        """``mask``: B x T bool; ``index``: the flat positions of its True entries."""
        self.batch, self.seq_len = mask.shape
        self.index = index
        self.pad_index = (~mask).reshape(-1).nonzero().squeeze(1)

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(self.batch * self.seq_len, x.shape[-1]).index_select(0, self.index)

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        # Zero only the padding rows; the real ones are overwritten anyway.
        out = x.new_empty(self.batch * self.seq_len, x.shape[-1]).index_fill_(0, self.pad_index, 0)
        out.index_copy_(0, self.index, x)
        return out.view(self.batch, self.seq_len, x.shape[-1])


class BertEncoder(nn.Module):
    """The BERT transformer (no pooler): see the module docstring for the call convention."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        config.validate()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.layers = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    @staticmethod
    def expected_state_keys(config: BertConfig) -> list[str]:
        """The ``state_dict`` keys of an encoder built from ``config`` (without building it)."""
        keys = [f"embeddings.{m}.weight" for m in ("word_embeddings", "position_embeddings",
                                                   "token_type_embeddings", "layer_norm")]
        keys.append("embeddings.layer_norm.bias")
        for i in range(config.num_hidden_layers):
            keys += [f"layers.{i}.{m}.{k}" for m in ("qkv", "attn_out", "attn_norm", "ffn_in", "ffn_out", "ffn_norm")
                     for k in ("weight", "bias")]
        return keys

    @property
    def word_embeddings(self) -> nn.Embedding:
        """The input word-embedding table (the MLM decoder is tied to it)."""
        return self.embeddings.word_embeddings

    def embed_tokens(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The raw word-embedding lookup (no position/type/LayerNorm): the audio-vector space."""
        return self.embeddings.word_embeddings(input_ids)

    def resize_token_types(self, type_vocab_size: int) -> None:
        """Grow the token-type table (e.g. for modality types); new rows are copies of row 0."""
        old = self.embeddings.token_type_embeddings
        if type_vocab_size == old.num_embeddings:
            return
        if type_vocab_size < old.num_embeddings:
            raise ConfigError(f"cannot shrink type_vocab_size from {old.num_embeddings} to {type_vocab_size}")
        new = nn.Embedding(type_vocab_size, old.embedding_dim, device=old.weight.device, dtype=old.weight.dtype)
        with torch.no_grad():
            new.weight[: old.num_embeddings] = old.weight
            new.weight[old.num_embeddings:] = old.weight[0]
        self.embeddings.token_type_embeddings = new
        self.config = self.config.replace(type_vocab_size=type_vocab_size)

    @staticmethod
    def _attention_dtype(x: torch.Tensor) -> torch.dtype:
        if torch.is_autocast_enabled(x.device.type):
            return torch.get_autocast_dtype(x.device.type)
        return x.dtype

    def forward(self, input_ids: Optional[torch.Tensor] = None,
                attention_mask: Optional[torch.Tensor] = None,
                token_type_ids: Optional[torch.Tensor] = None,
                position_ids: Optional[torch.Tensor] = None,
                word_embeds: Optional[torch.Tensor] = None,
                output_hidden_states: bool = False) -> BertOutput:
        if (input_ids is None) == (word_embeds is None):
            raise ValueError("give exactly one of input_ids and word_embeds")
        if word_embeds is None:
            word_embeds = self.embed_tokens(input_ids)
        elif word_embeds.dim() != 3 or word_embeds.shape[-1] != self.config.hidden_size:
            raise ValueError(f"word_embeds must be B x T x {self.config.hidden_size}, "
                             f"got {tuple(word_embeds.shape)}")
        x = self.embeddings(word_embeds, token_type_ids, position_ids)
        mask = None if attention_mask is None else attention_mask.bool()
        packing, attn_mask, zero_pads = None, None, None
        if mask is not None and _packs_tokens(x.device):
            # On CPU the index of the real tokens costs no synchronisation, and its length (a
            # shape, not a tensor value) tells whether there is padding at all.
            index = mask.reshape(-1).nonzero().squeeze(1)
            if index.numel() < mask.numel():
                packing = _Packing(mask, index)
                x = packing.pack(x)
                attn_mask = self._additive_mask(mask, x)
            # else no padding: no mask at all lets SDPA pick its fastest kernel.
        elif mask is not None:
            # Elsewhere, whether there is padding is not known without a device-to-host copy:
            # always the padded layout with the mask, and the padding outputs set to zero.
            attn_mask = self._additive_mask(mask, x)
            zero_pads = mask[..., None].to(x.dtype)
        states = [x] if output_hidden_states else None
        for layer in self.layers:
            x = layer(x, attn_mask, packing)
            if states is not None:
                states.append(x)
        if packing is not None:
            x = packing.pad(x)
            states = [packing.pad(s) for s in states] if states is not None else None
        elif zero_pads is not None:
            x = x * zero_pads
            states = [s * zero_pads for s in states] if states is not None else None
        return BertOutput(x, tuple(states) if states is not None else None)

    def _additive_mask(self, mask: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """B x 1 x 1 x T: 0 at real positions, the dtype's minimum at padding.

        Broadcast over heads and queries (never B x H x T x T); a float mask avoids SDPA's
        per-layer conversion of a boolean one.
        """
        dtype = self._attention_dtype(x)
        return torch.zeros(mask.shape, dtype=dtype, device=x.device).masked_fill_(
            ~mask, torch.finfo(dtype).min)[:, None, None, :]

BertModel = BertEncoder
