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

:func:`collate_mixed` pads a list of items into the keyword arguments of
:class:`speechbert.nets.mixed_encoder.MixedEncoder`, the model that reads them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from speechbert.tasks.padding import pad_feats, pad_ids


def collate_mixed(items: Sequence[dict], pad_id: int) -> dict:
    """Pad sequence items into the keyword arguments of :class:`~speechbert.nets.mixed_encoder.MixedEncoder`.

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

