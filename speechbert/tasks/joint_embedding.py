"""Stage 5: the initial phonetic-semantic joint embedding of spoken words.

An audio word encoder (``--awe``, default ``rnn``: the RNN autoencoder
:class:`speechbert.nets.AudioWordEncoder`; ``--awe_conf`` its options; doc/extending.md) reads
one spoken word's frames and outputs one vector; two losses train it:

- *phonetic* (encoders with a reconstruction decoder only): the decoder rebuilds the word's
  frames from the vector (``--reconstruction_loss`` mse or l1, weight ``--reconstruction_weight``,
  default 1 with a decoder and 0 without; a weight above 0 for an encoder without one is a
  ConfigError);
- *semantic*: a distance (``--distance`` l1 [the paper's], l2 or cosine, weight
  ``--semantic_weight``) between the vector and the FROZEN text BERT input (word) embedding of
  the word. A word of several WordPieces is targeted by the mean of its piece embeddings or by
  its first piece (``--target_pieces``).

Validation metric ``valid.acc_nn``: the share of held-out spoken words whose nearest candidate
(by the same distance) is their own word. Candidates (``--nn_candidates``): ``words`` = the
word-level targets of every word type of the train and valid text; ``vocab`` = every WordPiece
embedding of the vocabulary, right when the nearest is the word's first piece.

The saved model holds only ``audio_encoder.*`` (the BERT table is a non-persistent buffer):
pre-training loads it with ``--init_audio_encoder`` and takes ``awe``/``awe_conf`` from this
run's ``config.yaml``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from speechbert.command_line import ArgumentParser
from speechbert.errors import ConfigError, DataError
from speechbert.nets.joint_embedding_model import DISTANCES, TARGET_PIECES, JointEmbeddingModel, pairwise_distance
from speechbert.tasks.abs_task import AbsTask
from speechbert.tasks.common import (PieceVocab, add_audio_encoder_arguments, add_bert_arguments,
                                     add_corpus_arguments, build_audio_encoder, concat_datasets, feat_dim_of,
                                     load_corpus, load_vocab, pipeline_for_args, read_bert, training_corpora)
from speechbert.tasks.input_pipeline import write_input_settings
from speechbert.tasks.padding import pad_feats, pad_ids
from speechbert.tasks.word_segments import SpokenCorpus, read_passages

logger = logging.getLogger(__name__)


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
        a("--reconstruction_weight", type=float, default=None,
          help="weight of the reconstruction loss (default: 1 when the audio word encoder has a reconstruction "
               "decoder, else 0)")
        a("--reconstruction_loss", default="mse", choices=["mse", "l1"], help="frame reconstruction loss")
        a("--nn_candidates", default="words", choices=["words", "vocab"],
          help="valid.acc_nn candidates: word types of train+valid text, or every vocabulary piece")
        a("--nn_batch_words", type=int, default=512, help="spoken words per batch in validation")

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> nn.Module:
        bert = read_bert(args)
        table = bert.encoder.word_embeddings.weight.detach()
        encoder = build_audio_encoder(args, feat_dim_of(args), table.shape[1])
        resolve_reconstruction_weight(args, encoder)
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


def resolve_reconstruction_weight(args: argparse.Namespace, encoder: nn.Module) -> None:
    """``--reconstruction_weight``: unset -> 1 with a reconstruction decoder, 0 without; a weight
    above 0 for an encoder without a decoder is a ConfigError naming both."""
    has_decoder = bool(getattr(encoder, "has_decoder", True))
    if args.reconstruction_weight is None:
        args.reconstruction_weight = 1.0 if has_decoder else 0.0
    elif args.reconstruction_weight > 0 and not has_decoder:
        raise ConfigError(f"--reconstruction_weight {args.reconstruction_weight}: awe {args.awe!r} has no "
                          "reconstruction decoder; set reconstruction_weight to 0 (or leave it unset)")


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
