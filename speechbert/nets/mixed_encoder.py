"""BERT over text tokens and audio word vectors: the encoder of pre-training and fine-tuning.

Text ids are embedded with BERT's word-embedding table, the audio positions are replaced by the
audio word encoder's vectors (which live in that same space after the joint embedding), and the
transformer runs over the mix. The batch layout is :func:`speechbert.tasks.mixed_inputs.collate_mixed`'s.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn


class MixedEncoder(nn.Module):
    """BERT over text tokens and audio word vectors (see the module docstring)."""

    def __init__(self, bert: nn.Module, audio_encoder: Optional[nn.Module] = None,
                 freeze_audio_encoder: bool = False) -> None:
        super().__init__()
        self.bert = bert
        self.audio_encoder = audio_encoder
        self.freeze_audio_encoder = freeze_audio_encoder
        if audio_encoder is not None:
            # The parts that serve only the joint-embedding losses (a reconstruction decoder) are
            # not used after it; the encoder names them (AbsAudioWordEncoder).
            only_pretraining = set(getattr(audio_encoder, "pretraining_only_parameters", list)())
            for name, p in audio_encoder.named_parameters():
                if freeze_audio_encoder or name in only_pretraining:
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
