"""Padding of variable-length frames and id lists into batch tensors (every task's collate)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


def pad_feats(mats: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack variable-length ``T_i x D`` segments into ``N x T x D`` zeros-padded + ``N`` lengths."""
    if not mats:
        return torch.zeros(0, 1, 1), torch.zeros(0, dtype=torch.long)
    dim = mats[0].shape[1]
    max_len = max(len(m) for m in mats)
    out = np.zeros((len(mats), max_len, dim), dtype=np.float32)
    for i, m in enumerate(mats):
        out[i, : len(m)] = m
    return torch.from_numpy(out), torch.tensor([len(m) for m in mats], dtype=torch.long)


def pad_ids(seqs: Sequence[Sequence[int]], pad: int = 0) -> torch.Tensor:
    """``B x max_len`` long tensor of padded id lists."""
    max_len = max((len(s) for s in seqs), default=0)
    out = torch.full((len(seqs), max(max_len, 1)), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        if len(s):
            out[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return out
