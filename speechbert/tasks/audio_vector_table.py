"""Audio word vectors of a frozen audio word encoder, computed once per passage.

With ``--freeze_audio_encoder true`` the encoder is a fixed function of a word's frames, so
running it again for every window of every question of every epoch only repeats work: in the
mini recipe a passage word is read by ~2 windows of each of its passage's questions, each epoch,
and in validation twice more (the loss pass and the decoding pass). The table runs the encoder
once over every word of a passage (in eval mode, without gradients) and the datasets hand the
vectors to the model instead of the frames (``audio_vectors`` items; see
:mod:`speechbert.tasks.mixed_inputs`).

Every consumer -- training, validation, ``sqa_decode``, ``answer`` -- fills the table the same
way: passage by passage, the passage's words in fixed chunks of :data:`WORDS_PER_CHUNK` in
passage order. The vectors of a word therefore do not depend on which windows, batches or
questions asked for it, and validation and decoding of one model read the same vectors, bit for
bit.

Memory: one float32 vector per passage word (mini: ~4 MB for the training set; Spoken SQuAD's
37k training questions over ~2.4M passage words at hidden size 768: ~7.5 GB on the host).
``--audio_vector_table false`` turns it off and runs the frozen encoder per batch instead.
"""

from __future__ import annotations

import logging
from typing import Iterable, Sequence

import torch
from torch import nn

from speechbert.tasks.padding import pad_feats
from speechbert.tasks.word_segments import SpokenCorpus

logger = logging.getLogger(__name__)

#: words encoded per forward pass when filling the table (fixed: it decides the vectors' bits)
WORDS_PER_CHUNK = 256


class AudioVectorTable:
    """``vectors(context_id, words)``: the frozen encoder's vectors of those passage words."""

    def __init__(self, corpus: SpokenCorpus, encoder: nn.Module, device: str | torch.device = "cpu") -> None:
        self.corpus = corpus
        self.encoder = encoder
        self.device = torch.device(device)
        self._vectors: dict[str, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def fill(self, context_ids: Iterable[str]) -> None:
        """Encode every word of the given passages that is not in the table yet."""
        todo = [c for c in dict.fromkeys(context_ids) if c not in self._vectors]
        if not todo:
            return
        was_training = self.encoder.training
        self.encoder.eval()
        words = 0
        try:
            with torch.no_grad():
                for cid in todo:
                    self._vectors[cid] = self._encode(cid)
                    words += int(self._vectors[cid].shape[0])
        finally:
            self.encoder.train(was_training)
        logger.info("audio vector table: %d words of %d passages encoded once by the frozen audio encoder",
                    words, len(todo))

    def vectors(self, context_id: str, word_indexes: Sequence[int]) -> torch.Tensor:
        """``len(word_indexes) x H`` float32 (CPU) vectors of the passage's words, in order."""
        if context_id not in self._vectors:
            self.fill([context_id])
        table = self._vectors[context_id]
        return table[torch.as_tensor(list(word_indexes), dtype=torch.long)]

    def _encode(self, context_id: str) -> torch.Tensor:
        feats = self.corpus.word_feats(context_id)
        out = []
        for first in range(0, len(feats), WORDS_PER_CHUNK):
            x, lens = pad_feats(feats[first:first + WORDS_PER_CHUNK])
            out.append(self.encoder.encode(x.to(self.device), lens.to(self.device)).float().cpu())
        if not out:
            return torch.zeros(0, 0)
        return torch.cat(out)
