"""Stage 6: cross-modal masked-language-model pre-training over text tokens and audio words.

One BERT-style transformer, initialised from the pretrained text BERT (``--bert_dir``, optionally
truncated to ``--bert_layers``), reads sequences built from each training passage (inputs in
``--pretrain_inputs``, every passage window yields one sequence per kind):

- ``paired``: ``[CLS] passage WordPieces [SEP] the same passage's audio words [SEP]``,
- ``audio``:  ``[CLS] audio words [SEP]``,
- ``text``:   ``[CLS] passage WordPieces [SEP]``.

Text positions are masked with probability ``--text_mask_prob``, audio words with
``--audio_mask_prob``, independently (also within a paired sequence). A masked position becomes
``[MASK]`` (``--mask_token_prob``), a random vocabulary token (``--random_token_prob``) or stays
as it is (the rest), as in BERT. Every masked position is predicted as text through the MLM head
tied to the word embeddings: a masked text token as itself, a masked audio word as its first
WordPiece or as all its pieces (``--audio_target first|all``; ``all`` averages the
cross-entropy of the pieces, and a prediction counts as right when it is any of them).

Masking is drawn inside the model from the torch generator (so a resumed run continues
exactly); validation uses a fixed seed, so epochs are compared on the same masks.
Validation metrics: ``valid.acc_audio_mlm`` (masked audio words) and ``valid.acc_text_mlm``.

The audio word encoder comes from the joint-embedding experiment (``--init_audio_encoder``; its
``awe`` and ``awe_conf`` are read from that experiment's ``config.yaml``, older flat ``awe_*``
options included) and is trained along (or frozen with ``--freeze_audio_encoder true``); the
parameters it names as pre-training-only (a reconstruction decoder) stay fixed.
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

from speechbert.command_line import ArgumentParser, str2bool
from speechbert.errors import ConfigError, DataError
from speechbert.nets.cross_modal_mlm import CrossModalMLM
from speechbert.nets.mixed_encoder import MixedEncoder
from speechbert.tasks.abs_task import AbsTask
from speechbert.tasks.common import (AWE_OPTIONS, PieceVocab, add_audio_encoder_arguments, add_bert_arguments,
                                     add_corpus_arguments, build_audio_encoder, concat_datasets, feat_dim_of,
                                     inherit_model_options, load_corpus, load_vocab, pipeline_for_args, read_bert,
                                     register_init, training_corpora)
from speechbert.tasks.input_pipeline import write_input_settings
from speechbert.tasks.mixed_inputs import collate_mixed
from speechbert.tasks.padding import pad_ids
from speechbert.tasks.span_decoding import make_windows
from speechbert.tasks.word_segments import SpokenCorpus

logger = logging.getLogger(__name__)

INPUT_KINDS = ("paired", "audio", "text")
class PretrainDataset(Dataset):
    """Sequences of every kind in ``inputs`` for every fully aligned window of every passage."""

    def __init__(self, corpus: SpokenCorpus, vocab: PieceVocab, inputs: list[str], max_seq_len: int,
                 window_words: int, window_stride: int, max_pieces: int = 8) -> None:
        bad = [k for k in inputs if k not in INPUT_KINDS]
        if bad or not inputs:
            raise ConfigError(f"--pretrain_inputs {inputs}: expected some of {INPUT_KINDS}")
        self.corpus = corpus
        self.vocab = vocab
        self.max_seq_len = max_seq_len
        self.max_pieces = max_pieces
        self.items: list[tuple[str, int, int, str]] = []
        self.lengths: list[int] = []
        skipped = 0
        window_words = min(window_words, max_seq_len - 2)
        for cid, seg in corpus.segments.items():
            words = seg.passage.words
            has_segment = seg.frames[:, 1] > seg.frames[:, 0]
            for s, e in make_windows(len(words), window_words, min(window_stride, window_words)):
                # Word positions matter, so a window with an unaligned word is left out; the rest of
                # its passage is kept (a LibriSpeech "passage" is a whole chapter).
                if not bool(np.all(has_segment[s:e])):
                    skipped += 1
                    continue
                for kind in inputs:
                    length = len(self._sequence_ids(cid, s, e, kind)[0])
                    self.items.append((cid, s, e, kind))
                    self.lengths.append(length)
        if skipped:
            logger.warning("pre-training: skipped %d window(s) with words of unaligned utterances", skipped)
        if not self.items:
            raise DataError("no fully aligned passage to pre-train on")

    def __len__(self) -> int:
        return len(self.items)

    def _text_budget(self, cid: str, s: int, e: int, kind: str) -> tuple[list[int], int]:
        """Text piece ids of words ``[s, e)`` and the audio end, fitted into ``max_seq_len``."""
        words = self.corpus.passages[cid].words
        if kind == "audio":
            return [], e
        pieces_per_word = [self.vocab.word_ids(w) for w in words[s:e]]
        budget = self.max_seq_len - (3 if kind == "paired" else 2)
        end = e
        while end > s:
            n_text = sum(len(p) for p in pieces_per_word[: end - s])
            n_audio = (end - s) if kind == "paired" else 0
            if n_text + n_audio <= budget:
                break
            end -= 1
        text = [i for p in pieces_per_word[: end - s] for i in p]
        return text, end

    def _sequence_ids(self, cid: str, s: int, e: int, kind: str) -> tuple[list[int], list[int], list[int], int]:
        """(input_ids, token types, audio positions, end word) of one sequence."""
        v = self.vocab
        words = self.corpus.passages[cid].words
        text, end = self._text_budget(cid, s, e, kind)
        ids = [v.cls_id]
        types = [0]
        audio_positions: list[int] = []
        if kind in ("paired", "text"):
            ids += text + [v.sep_id]
            types += [0] * (len(text) + 1)
        if kind in ("paired", "audio"):
            audio_positions = list(range(len(ids), len(ids) + end - s))
            ids += [v.word_ids(w)[0] for w in words[s:end]] + [v.sep_id]
            types += [1] * (end - s + 1)
        return ids, types, audio_positions, end

    def __getitem__(self, index: int) -> dict:
        cid, s, e, kind = self.items[index]
        ids, types, audio_positions, end = self._sequence_ids(cid, s, e, kind)
        words = self.corpus.passages[cid].words
        maskable = [False] * len(ids)
        if kind in ("paired", "text"):
            first_sep = ids.index(self.vocab.sep_id)
            for i in range(1, first_sep):
                maskable[i] = True
        item = {"id": f"{cid}:{s}-{e}:{kind}", "input_ids": ids, "token_type_ids": types,
                "text_maskable": maskable, "audio_positions": audio_positions, "audio_feats": [],
                "audio_targets": []}
        if audio_positions:
            item["audio_feats"] = self.corpus.word_feats(cid, range(s, end))
            item["audio_targets"] = [self.vocab.word_ids(w)[: self.max_pieces] for w in words[s:end]]
        return item


def make_pretrain_collate(pad_id: int) -> Callable[[list], dict]:
    """Collate for :class:`PretrainDataset` items."""

    def collate(items: list[dict]) -> dict:
        batch = collate_mixed(items, pad_id)
        batch["ids"] = [it["id"] for it in items]
        batch["text_maskable"] = pad_ids([[int(m) for m in it["text_maskable"]] for it in items], 0).bool()
        targets = [t for it in items for t in it["audio_targets"]]
        if targets:
            batch["audio_targets"] = pad_ids(targets, -1)
        return batch

    return collate


# ------------------------------------------------------------------------------------- task


class PretrainTask(AbsTask):
    """Stage 6: cross-modal MLM pre-training."""

    name = "pretrain"
    prog = "pretrain"  # speechbert.bin.pretrain

    @classmethod
    def add_task_arguments(cls, parser: ArgumentParser) -> None:
        add_bert_arguments(parser)
        add_corpus_arguments(parser, inherit=True, extra_train=True)
        add_audio_encoder_arguments(parser, inherit=True)
        a = parser.add_argument
        a("--feat_dim", type=int, default=None, help="feature dimension (default: from the training features)")
        a("--init_audio_encoder", default=None,
          help="joint-embedding model (exp/joint_embed/model.avg.pt) whose audio_encoder.* initialises ours")
        a("--freeze_audio_encoder", type=str2bool, default=False, help="keep the audio word encoder fixed")
        a("--pretrain_inputs", nargs="+", default=["paired", "audio"], choices=list(INPUT_KINDS),
          help="sequence kinds made from every passage window")
        a("--max_seq_len", type=int, default=256, help="longest input sequence (positions)")
        a("--window_words", type=int, default=128, help="passage words per window")
        a("--window_stride", type=int, default=96, help="words between the starts of consecutive windows")
        a("--text_mask_prob", type=float, default=0.15, help="probability of masking a text token")
        a("--audio_mask_prob", type=float, default=0.15, help="probability of masking an audio word")
        a("--mask_token_prob", type=float, default=0.8, help="share of masked positions shown as [MASK]")
        a("--random_token_prob", type=float, default=0.1, help="share of masked positions shown as a random token")
        a("--audio_target", default="first", choices=["first", "all"],
          help="text target of a masked audio word: its first WordPiece, or all its pieces")
        a("--max_pieces", type=int, default=8, help="at most N pieces of a word as targets (--audio_target all)")
        a("--eval_mask_seed", type=int, default=1234, help="seed of the validation masks")

    @classmethod
    def _resolve(cls, args: argparse.Namespace) -> None:
        # The transformer size is this stage's choice; only the audio encoder's shape is inherited.
        inherit_model_options(args, args.init_audio_encoder, names=AWE_OPTIONS)

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> nn.Module:
        cls._resolve(args)
        pre = read_bert(args)
        vocab = load_vocab(args.bert_dir)
        awe = build_audio_encoder(args, feat_dim_of(args), pre.config.hidden_size)
        encoder = MixedEncoder(pre.encoder, awe, freeze_audio_encoder=args.freeze_audio_encoder)
        model = CrossModalMLM(encoder, pre.mlm_head(), mask_id=vocab.mask_id, vocab_size=pre.config.vocab_size,
                              text_mask_prob=args.text_mask_prob, audio_mask_prob=args.audio_mask_prob,
                              mask_token_prob=args.mask_token_prob, random_token_prob=args.random_token_prob,
                              audio_target=args.audio_target, eval_seed=args.eval_mask_seed)
        if args.init_audio_encoder:
            register_init(args, args.init_audio_encoder, "audio_encoder", "encoder.audio_encoder")
        return model

    @classmethod
    def build_dataset(cls, args: argparse.Namespace, split: str) -> Dataset | None:
        cls._resolve(args)
        corpora = training_corpora(args) if split == "train" else [load_corpus(args, split)]
        if corpora[0] is None:
            return None
        return concat_datasets([PretrainDataset(c, load_vocab(args.bert_dir), list(args.pretrain_inputs),
                                                args.max_seq_len, args.window_words, args.window_stride,
                                                args.max_pieces) for c in corpora])

    @classmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[[list], dict]:
        return make_pretrain_collate(load_vocab(args.bert_dir).pad_id)

    @classmethod
    def write_input_record(cls, args: argparse.Namespace, output_dir: Path) -> None:
        cls._resolve(args)
        write_input_settings(output_dir, pipeline_for_args(args, "audio").settings)

    @classmethod
    def validate(cls, model: nn.Module, args: argparse.Namespace, device: torch.device) -> dict[str, float]:
        corpus = load_corpus(args, "valid")
        if corpus is None:
            return {}
        vocab = load_vocab(args.bert_dir)
        # Audio words are scored in audio-only sequences (a paired sequence could copy the text).
        ds = PretrainDataset(corpus, vocab, ["audio", "text"], args.max_seq_len, args.window_words, args.window_stride,
                             args.max_pieces)
        return mlm_accuracy(model, ds, make_pretrain_collate(vocab.pad_id), device)


@torch.no_grad()
def mlm_accuracy(model: CrossModalMLM, dataset: Dataset, collate: Callable[[list], dict], device: torch.device,
                 batch_size: int = 16) -> dict[str, float]:
    """Masked-prediction accuracy of audio words and of text tokens over a whole data set."""
    counts = np.zeros(4, dtype=np.int64)  # text ok, text n, audio ok, audio n
    for start in range(0, len(dataset), batch_size):
        batch = collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
        batch.pop("ids", None)
        batch = {k: v.to(device) for k, v in batch.items()}
        out = model.masked_predictions(**batch)
        counts += [int(out["text_ok"].sum()), out["text_ok"].numel(),
                   int(out["audio_ok"].sum()), out["audio_ok"].numel()]
    metrics = {}
    if counts[1]:
        metrics["acc_text_mlm"] = counts[0] / counts[1]
    if counts[3]:
        metrics["acc_audio_mlm"] = counts[2] / counts[3]
    logger.info("masked prediction: audio %d / %d, text %d / %d", counts[2], counts[3], counts[0], counts[1])
    return metrics
