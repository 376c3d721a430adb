"""Transformer inputs that mix text tokens and audio word vectors (pre-training, fine-tuning).

A sequence item (what a dataset yields) is a dict with

- ``input_ids``: one token id per position. At audio positions the id is a placeholder (the
  word's first WordPiece); it is used only when the audio word is masked out.
- ``token_type_ids``: 0 for the first segment (``[CLS]``, question or text), 1 for the second
  (the passage's audio words, or passage text in text QA) -- BERT's sentence A/B types, so a
  text checkpoint's type embeddings are reused unchanged.
- ``audio_positions``: the positions whose word embedding is an audio word vector, and
  ``audio_feats``: the frames of those spoken words, in the same order -- or, when the audio
  word encoder is frozen, ``audio_vectors``: their vectors (``n x H`` tensor), already encoded
  once per passage (:mod:`speechbert.tasks.audio_vector_table`).

:func:`collate_mixed` pads a list of items into tensors, and :class:`MixedEncoder` embeds text
ids with BERT's word-embedding table, replaces the audio positions by the audio word encoder's
vectors (which live in that same space after the joint embedding), and runs the transformer.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from speechbert.tasks.common import pad_feats, pad_ids

#: parameters of the audio word encoder that only the joint-embedding reconstruction uses
AWE_DECODER_PREFIXES = ("init_state.", "decoder.", "out.")


def collate_mixed(items: Sequence[dict], pad_id: int) -> dict:
    """Pad sequence items into the keyword arguments of :class:`MixedEncoder`.

    Returns ``input_ids``, ``token_type_ids``, ``attention_mask`` (B x L) and, when any item has
    audio words, ``audio_feats`` (N x T x D) and ``audio_lens`` -- or ``audio_vectors`` (N x H)
    when the items carry encoded vectors -- and ``audio_batch``, ``audio_pos`` (N): audio word
    ``n`` goes to sequence ``audio_batch[n]`` at position ``audio_pos[n]``.
    """
    input_ids = pad_ids([it["input_ids"] for it in items], pad_id)
    token_types = pad_ids([it["token_type_ids"] for it in items], 0)
    mask = pad_ids([[1] * len(it["input_ids"]) for it in items], 0).bool()
    batch = {"input_ids": input_ids, "token_type_ids": token_types, "attention_mask": mask}
    mats: list[np.ndarray] = []
    vectors: list[torch.Tensor] = []
    where_b: list[int] = []
    where_p: list[int] = []
    for b, it in enumerate(items):
        positions = it.get("audio_positions") or []
        if "audio_vectors" in it:
            n = int(it["audio_vectors"].shape[0])
            vectors.append(it["audio_vectors"])
        else:
            feats = it.get("audio_feats") or []
            n = len(feats)
            mats.extend(feats)
        if len(positions) != n:
            raise ValueError(f"item {it.get('id')}: {len(positions)} audio positions but {n} audio words")
        where_b.extend([b] * len(positions))
        where_p.extend(positions)
    if mats and vectors:
        raise ValueError("a batch mixes items with audio frames and items with encoded audio vectors")
    if mats:
        feats_t, lens = pad_feats(mats)
        batch.update(audio_feats=feats_t, audio_lens=lens)
    elif vectors and where_b:
        batch["audio_vectors"] = torch.cat(vectors)
    if where_b:
        batch.update(audio_batch=torch.tensor(where_b, dtype=torch.long),
                     audio_pos=torch.tensor(where_p, dtype=torch.long))
    return batch


class MixedEncoder(nn.Module):
    """BERT over text tokens and audio word vectors (see the module docstring)."""

    def __init__(self, bert: nn.Module, audio_encoder: Optional[nn.Module] = None,
                 freeze_audio_encoder: bool = False) -> None:
        super().__init__()
        self.bert = bert
        self.audio_encoder = audio_encoder
        self.freeze_audio_encoder = freeze_audio_encoder
        if audio_encoder is not None:
            for name, p in audio_encoder.named_parameters():
                # The reconstruction decoder is not used after the joint embedding.
                if freeze_audio_encoder or name.startswith(AWE_DECODER_PREFIXES):
                    p.requires_grad_(False)

    def audio_vectors(self, audio_feats: torch.Tensor, audio_lens: torch.Tensor) -> torch.Tensor:
        """One vector per spoken word (N x H)."""
        if self.audio_encoder is None:
            raise ValueError("this model reads text only, but the batch has audio words")
        if self.freeze_audio_encoder:
            with torch.no_grad():
                return self.audio_encoder.encode(audio_feats, audio_lens)
        return self.audio_encoder.encode(audio_feats, audio_lens)

    def train(self, mode: bool = True) -> "MixedEncoder":
        """As ``nn.Module.train``, but a frozen audio encoder stays in eval mode: it is a fixed
        function of a word's frames (no dropout), whether run per batch or once per passage."""
        super().train(mode)
        if self.freeze_audio_encoder and self.audio_encoder is not None:
            self.audio_encoder.eval()
        return self

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, attention_mask: torch.Tensor,
                audio_feats: Optional[torch.Tensor] = None, audio_lens: Optional[torch.Tensor] = None,
                audio_batch: Optional[torch.Tensor] = None, audio_pos: Optional[torch.Tensor] = None,
                audio_keep: Optional[torch.Tensor] = None,
                audio_vectors: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Hidden states (B x L x H). ``audio_keep`` (N bool) leaves masked audio words to their ids;
        ``audio_vectors`` (N x H, a frozen encoder's, encoded once) stand in for ``audio_feats``."""
        embeds = self.bert.embed_tokens(input_ids)
        vectors = None
        if audio_vectors is not None and audio_vectors.shape[0] > 0:
            if not self.freeze_audio_encoder:
                raise ValueError("encoded audio vectors are only for a frozen audio word encoder")
            vectors = audio_vectors.to(embeds.dtype)
        elif audio_feats is not None and audio_feats.shape[0] > 0:
            vectors = self.audio_vectors(audio_feats, audio_lens).to(embeds.dtype)
        if vectors is not None:
            b, p = audio_batch, audio_pos
            if audio_keep is not None:
                vectors, b, p = vectors[audio_keep], b[audio_keep], p[audio_keep]
            embeds = embeds.index_put((b, p), vectors)
        return self.bert(word_embeds=embeds, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
