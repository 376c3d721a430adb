"""The phonetic-semantic joint-embedding model of stage 5: an audio word encoder pulled towards the
frozen BERT word-embedding table, with its distance loss and -- when the encoder has a
reconstruction decoder (:attr:`~speechbert.nets.abs_audio_word_encoder.AbsAudioWordEncoder.has_decoder`)
-- its reconstruction loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from speechbert.errors import ConfigError
from speechbert.nets.audio_word_encoder import masked_reconstruction_loss

DISTANCES = ("l1", "l2", "cosine")
TARGET_PIECES = ("mean", "first")


def row_distance(a: torch.Tensor, b: torch.Tensor, kind: str) -> torch.Tensor:
    """Distance between matching rows of ``a`` and ``b`` (N x H each) → N."""
    if kind == "l1":
        return (a - b).abs().mean(-1)
    if kind == "l2":
        return (a - b).pow(2).mean(-1)
    if kind == "cosine":
        return 1.0 - F.cosine_similarity(a, b, dim=-1, eps=1e-8)
    raise ConfigError(f"distance {kind!r}: expected one of {DISTANCES}")


def pairwise_distance(a: torch.Tensor, b: torch.Tensor, kind: str) -> torch.Tensor:
    """Distance of every row of ``a`` (N x H) to every row of ``b`` (K x H) → N x K."""
    if kind == "l1":
        return torch.cdist(a, b, p=1.0)
    if kind == "l2":
        return torch.cdist(a, b, p=2.0)
    if kind == "cosine":
        return 1.0 - F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
    raise ConfigError(f"distance {kind!r}: expected one of {DISTANCES}")


def word_targets(table: torch.Tensor, pieces: torch.Tensor, piece_mask: torch.Tensor, mode: str) -> torch.Tensor:
    """Word-level targets (N x H) from a piece embedding table and padded piece ids (N x P)."""
    if mode == "first":
        return table[pieces[:, 0]]
    if mode == "mean":
        emb = table[pieces] * piece_mask.unsqueeze(-1).to(table.dtype)
        return emb.sum(1) / piece_mask.sum(1, keepdim=True).clamp_min(1).to(table.dtype)
    raise ConfigError(f"target_pieces {mode!r}: expected one of {TARGET_PIECES}")


class JointEmbeddingModel(nn.Module):
    """Audio word encoder + the frozen BERT word-embedding table it is pulled towards."""

    def __init__(self, audio_encoder: nn.Module, embedding_table: torch.Tensor, *, target_pieces: str = "mean",
                 distance: str = "l1", semantic_weight: float = 1.0, reconstruction_weight: float = 1.0,
                 reconstruction_loss: str = "mse") -> None:
        super().__init__()
        if target_pieces not in TARGET_PIECES:
            raise ConfigError(f"--target_pieces {target_pieces!r}: expected one of {TARGET_PIECES}")
        if distance not in DISTANCES:
            raise ConfigError(f"--distance {distance!r}: expected one of {DISTANCES}")
        self.has_reconstruction = bool(getattr(audio_encoder, "has_decoder", True))
        if reconstruction_weight and not self.has_reconstruction:
            raise ConfigError(f"--reconstruction_weight {reconstruction_weight}: the audio word encoder "
                              f"{type(audio_encoder).__name__} has no reconstruction decoder (use 0)")
        self.audio_encoder = audio_encoder
        # Frozen and not saved: the text BERT's table is the fixed target space.
        self.register_buffer("embedding_table", embedding_table.detach().clone().float(), persistent=False)
        self.target_pieces = target_pieces
        self.distance = distance
        self.semantic_weight = float(semantic_weight)
        self.reconstruction_weight = float(reconstruction_weight)
        self.reconstruction_loss = reconstruction_loss

    def targets(self, pieces: torch.Tensor, piece_mask: torch.Tensor) -> torch.Tensor:
        return word_targets(self.embedding_table, pieces, piece_mask, self.target_pieces)

    def forward(self, feats: torch.Tensor, feat_lens: torch.Tensor, pieces: torch.Tensor,
                piece_mask: torch.Tensor) -> tuple[torch.Tensor, dict, int]:
        out = self.audio_encoder(feats, feat_lens)
        rec = None
        if self.has_reconstruction:
            rec = masked_reconstruction_loss(out.reconstruction, feats, feat_lens, kind=self.reconstruction_loss)
        target = self.targets(pieces, piece_mask)
        dist = row_distance(out.vectors.float(), target, self.distance).mean()
        if rec is not None:
            loss = self.reconstruction_weight * rec + self.semantic_weight * dist
        else:
            loss = self.semantic_weight * dist
        with torch.no_grad():
            cos = F.cosine_similarity(out.vectors.float(), target, dim=-1).mean()
        stats = {"dist": dist.detach(), "cos": cos}
        if rec is not None:
            stats = {"rec": rec.detach(), **stats}
        return loss, stats, int(feats.shape[0])
