"""Stage 5: the initial phonetic-semantic joint embedding of spoken words.

An RNN autoencoder (:class:`speechbert.nets.AudioWordEncoder`) reads one spoken word's frames
and outputs one vector; two losses train it:

- *phonetic*: the decoder rebuilds the word's frames from the vector (``--reconstruction_loss``
  mse or l1, weight ``--reconstruction_weight``);
- *semantic*: a distance (``--distance`` l1 [the paper's], l2 or cosine, weight
  ``--semantic_weight``) between the vector and the FROZEN text BERT input (word) embedding of
  the word. A word of several WordPieces is targeted by the mean of its piece embeddings or by
  its first piece (``--target_pieces``).

Validation metric ``valid.acc_nn``: the share of held-out spoken words whose nearest candidate
(by the same distance) is their own word. Candidates (``--nn_candidates``): ``words`` = the
word-level targets of every word type of the train and valid text; ``vocab`` = every WordPiece
embedding of the vocabulary, right when the nearest is the word's first piece.

The saved model holds only ``audio_encoder.*`` (the BERT table is a non-persistent buffer):
pre-training loads it with ``--init_audio_encoder``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from speechbert.bin.cli import ArgumentParser
from speechbert.errors import ConfigError, DataError
from speechbert.tasks.abs_task import AbsTask
from speechbert.io.dump_dir import read_dump_facts
from speechbert.tasks.input_pipeline import write_input_settings
from speechbert.tasks.common import (PieceVocab, add_audio_encoder_arguments, add_bert_arguments,
                                     add_corpus_arguments, build_audio_encoder, concat_datasets, load_corpus,
                                     load_vocab, pad_feats, pad_ids, pipeline_for_args, read_bert,
                                     training_corpora)
from speechbert.tasks.word_segments import SpokenCorpus, read_passages

logger = logging.getLogger(__name__)

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
        from speechbert.nets import masked_reconstruction_loss

        out = self.audio_encoder(feats, feat_lens)
        rec = masked_reconstruction_loss(out.reconstruction, feats, feat_lens, kind=self.reconstruction_loss)
        target = self.targets(pieces, piece_mask)
        dist = row_distance(out.vectors.float(), target, self.distance).mean()
        loss = self.reconstruction_weight * rec + self.semantic_weight * dist
        with torch.no_grad():
            cos = F.cosine_similarity(out.vectors.float(), target, dim=-1).mean()
        stats = {"rec": rec.detach(), "dist": dist.detach(), "cos": cos}
        return loss, stats, int(feats.shape[0])


class SpokenWordDataset(Dataset):
    """One item per utterance: the frames and WordPiece ids of its aligned words."""

    def __init__(self, corpus: SpokenCorpus, vocab: PieceVocab, max_pieces: int = 8) -> None:
        self.corpus = corpus
        self.vocab = vocab
        self.max_pieces = max_pieces
        self.items: list[tuple[str, str, list[int]]] = []  # (context_id, utt, word indexes)
        self.lengths: list[int] = []
        for cid, seg in corpus.segments.items():
            p = seg.passage
            by_utt: dict[int, list[int]] = {}
            for w in range(seg.num_words):
                if seg.aligned[w]:
                    by_utt.setdefault(p.word_utt[w], []).append(w)
            for k, words in by_utt.items():
                self.items.append((cid, p.utts[k], words))
                n = [int(seg.frames[w, 1] - seg.frames[w, 0]) for w in words]
                n = [-(-x // max(1, corpus.frame_pooling)) for x in n]
                if corpus.max_word_frames:
                    n = [min(x, corpus.max_word_frames) for x in n]
                self.lengths.append(int(sum(n)))
        if not self.items:
            raise DataError("no aligned spoken words (is the CTM empty or for another data set?)")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        cid, utt, words = self.items[index]
        p = self.corpus.passages[cid]
        return {"id": utt, "feats": self.corpus.word_feats(cid, words),
                "pieces": [self.vocab.word_ids(p.words[w])[: self.max_pieces] for w in words]}


def collate_words(items: list[dict]) -> dict:
    """Flatten the words of the items into one batch of segments."""
    mats = [m for it in items for m in it["feats"]]
    pieces = [p for it in items for p in it["pieces"]]
    feats, lens = pad_feats(mats)
    ids = pad_ids(pieces, 0)
    mask = pad_ids([[1] * len(p) for p in pieces], 0).bool()
    return {"ids": [it["id"] for it in items], "feats": feats, "feat_lens": lens, "pieces": ids, "piece_mask": mask}


def feat_dim_of(args: argparse.Namespace) -> int:
    """``--feat_dim``, else read from the training features (``feats_type`` or the first matrix)."""
    if getattr(args, "feat_dim", None):
        return int(args.feat_dim)
    dim = read_dump_facts(args.train_dump)["feat_dim"]
    if dim is not None:
        args.feat_dim = int(dim)
        return args.feat_dim
    corpus = load_corpus(args, "train")
    args.feat_dim = corpus.feat_dim
    return args.feat_dim


class JointEmbeddingTask(AbsTask):
    """Stage 5: train the audio word encoder into BERT's input-embedding space."""

    name = "joint_embedding"
    prog = "joint_embed_train"  # speechbert.bin.joint_embed_train

    @classmethod
    def add_task_arguments(cls, parser: ArgumentParser) -> None:
        add_bert_arguments(parser)
        add_corpus_arguments(parser, extra_train=True)
        add_audio_encoder_arguments(parser, inherit=False)
        a = parser.add_argument
        a("--feat_dim", type=int, default=None, help="feature dimension (default: from the training features)")
        a("--target_pieces", default="mean", choices=list(TARGET_PIECES),
          help="target of a multi-piece word: mean of its piece embeddings, or its first piece")
        a("--max_pieces", type=int, default=8, help="at most N pieces of a word enter its target")
        a("--distance", default="l1", choices=list(DISTANCES),
          help="semantic distance to the BERT embedding (l1: mean absolute error as in the paper)")
        a("--semantic_weight", type=float, default=1.0, help="weight of the semantic (distance) loss")
        a("--reconstruction_weight", type=float, default=1.0, help="weight of the reconstruction loss")
        a("--reconstruction_loss", default="mse", choices=["mse", "l1"], help="frame reconstruction loss")
        a("--nn_candidates", default="words", choices=["words", "vocab"],
          help="valid.acc_nn candidates: word types of train+valid text, or every vocabulary piece")
        a("--nn_batch_words", type=int, default=512, help="spoken words per batch in validation")

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> nn.Module:
        bert = read_bert(args)
        table = bert.encoder.word_embeddings.weight.detach()
        encoder = build_audio_encoder(args, feat_dim_of(args), table.shape[1])
        return JointEmbeddingModel(encoder, table, target_pieces=args.target_pieces, distance=args.distance,
                                   semantic_weight=args.semantic_weight,
                                   reconstruction_weight=args.reconstruction_weight,
                                   reconstruction_loss=args.reconstruction_loss)

    @classmethod
    def build_dataset(cls, args: argparse.Namespace, split: str) -> Dataset | None:
        vocab = load_vocab(args.bert_dir)
        if split == "train":
            return concat_datasets([SpokenWordDataset(c, vocab, args.max_pieces) for c in training_corpora(args)])
        corpus = load_corpus(args, split)
        if corpus is None:
            return None
        return SpokenWordDataset(corpus, vocab, args.max_pieces)

    @classmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[[list], dict]:
        return collate_words

    @classmethod
    def write_input_record(cls, args: argparse.Namespace, output_dir: Path) -> None:
        write_input_settings(output_dir, pipeline_for_args(args, "audio").settings)

    @classmethod
    def validate(cls, model: nn.Module, args: argparse.Namespace, device: torch.device) -> dict[str, float]:
        corpus = load_corpus(args, "valid")
        if corpus is None:
            return {}
        vocab = load_vocab(args.bert_dir)
        return nearest_neighbour_accuracy(model, corpus, vocab, args, device)


def candidate_words(args: argparse.Namespace, corpus: SpokenCorpus) -> list[str]:
    """Word types of the train and valid text (sorted), the ``words`` candidates of acc_nn."""
    types = {w for p in corpus.passages.values() for w in p.words}
    if getattr(args, "train_data", None):
        types.update(w for p in read_passages(args.train_data).values() for w in p.words)
    return sorted(types)


@torch.no_grad()
def nearest_neighbour_accuracy(model: JointEmbeddingModel, corpus: SpokenCorpus, vocab: PieceVocab,
                               args: argparse.Namespace, device: torch.device) -> dict[str, float]:
    """``acc_nn``: share of aligned spoken words whose nearest candidate embedding is their word."""
    table = model.embedding_table
    max_pieces = int(getattr(args, "max_pieces", 8))
    if args.nn_candidates == "words":
        words = candidate_words(args, corpus)
        index = {w: i for i, w in enumerate(words)}
        pieces = [vocab.word_ids(w)[:max_pieces] for w in words]
        ids = pad_ids(pieces).to(device)
        mask = pad_ids([[1] * len(p) for p in pieces]).bool().to(device)
        cands = model.targets(ids, mask)
    else:
        cands = table
        index = None
    correct = 0
    total = 0
    batch: list[tuple[np.ndarray, int]] = []

    def flush() -> None:
        nonlocal correct, total
        feats, lens = pad_feats([m for m, _ in batch])
        vec = model.audio_encoder.encode(feats.to(device), lens.to(device)).float()
        nearest = pairwise_distance(vec, cands, model.distance).argmin(-1).cpu().numpy()
        truth = np.array([t for _, t in batch])
        correct += int((nearest == truth).sum())
        total += len(batch)
        batch.clear()

    for cid, seg in corpus.segments.items():
        ws = [w for w in range(seg.num_words) if seg.aligned[w]]
        if not ws:
            continue
        mats = corpus.word_feats(cid, ws)
        for w, m in zip(ws, mats):
            word = seg.passage.words[w]
            truth = index[word] if index is not None else vocab.word_ids(word)[0]
            batch.append((m, truth))
            if len(batch) >= args.nn_batch_words:
                flush()
    if batch:
        flush()
    if total == 0:
        return {}
    logger.info("acc_nn: %d / %d held-out spoken words nearest to their own %s", correct, total,
                "word" if index is not None else "first piece")
    return {"acc_nn": correct / total}
