"""``AlignTask``: the character CTC aligner trained with the project trainer."""

from __future__ import annotations

import argparse
from typing import Callable

import torch
from torch.utils.data import Dataset

from speechbert.align.ctc_model import CTCModel, CTCModelConfig
from speechbert.align.data import AlignDataset, FeatureSource, collate
from speechbert.align.vocab import CharVocab
from speechbert.command_line import ArgumentParser
from speechbert.errors import ConfigError
from speechbert.tasks.abs_task import AbsTask

# Model options: (name, type, default, help); they map 1:1 onto CTCModelConfig fields.
MODEL_OPTIONS = (
    ("subsample", int, 1, "stride of the front-end convolution (1: 10 ms output frames, 2: 20 ms)"),
    ("channels", int, 192, "width of the conv / LSTM / transformer layers"),
    ("kernel_size", int, 5, "kernel size of the convolutions (odd)"),
    ("conv_layers", int, 4, "residual convolution blocks"),
    ("lstm_layers", int, 0, "BiLSTM layers after the convolutions (slow on CPU)"),
    ("transformer_layers", int, 0, "transformer encoder layers after the convolutions"),
    ("attention_heads", int, 4, "attention heads of the transformer layers"),
    ("dropout", float, 0.1, "dropout rate"),
)


class AlignTask(AbsTask):
    """Character CTC on the training set's reference ``text`` (see ``doc/alignment.md``)."""

    name = "align"
    prog = "align_train"  # speechbert.bin.align_train

    @classmethod
    def add_task_arguments(cls, parser: ArgumentParser) -> None:
        a = parser.add_argument
        a("--train_data", required=True, help="training data dir (reference text)")
        a("--train_dump", required=True, help="training features dir (feats.scp)")
        a("--valid_data", default=None, help="validation data dir")
        a("--valid_dump", default=None, help="validation features dir")
        a("--cmvn", default=None, help="global CMVN stats of the training set (dump/<train>/cmvn.ark)")
        a("--input_dim", type=int, default=0, help="feature dimension (0: read it from the training features)")
        a("--max_train_utts", type=int, default=0, help="use only the first N training utterances (0: all)")
        a("--rule_utts", type=int, default=200,
          help="validation (else training) utterances aligned to estimate the word-boundary rule "
               "from their oracle.ctm")
        a("--rule_min_count", type=int, default=15,
          help="a first/last letter gets its own boundary offset when seen at least this often")
        for name, typ, default, help_ in MODEL_OPTIONS:
            a(f"--{name}", type=typ, default=default, help=help_)

    @classmethod
    def model_config(cls, args: argparse.Namespace) -> CTCModelConfig:
        input_dim = args.input_dim or FeatureSource(args.train_dump, None).dim()
        return CTCModelConfig(input_dim=input_dim, vocab_size=len(CharVocab()),
                              **{name: getattr(args, name) for name, *_ in MODEL_OPTIONS})

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> torch.nn.Module:
        return CTCModel(cls.model_config(args), blank=CharVocab().blank)

    @classmethod
    def build_dataset(cls, args: argparse.Namespace, split: str) -> Dataset | None:
        if split == "train":
            data, dump = args.train_data, args.train_dump
        elif split == "valid":
            if not args.valid_data:
                return None
            if not args.valid_dump:
                raise ConfigError("--valid_data needs --valid_dump")
            data, dump = args.valid_data, args.valid_dump
        else:
            raise ValueError(f"unknown split {split!r}")
        return AlignDataset(data, dump, args.cmvn, CharVocab(), args.subsample,
                            max_utts=(args.max_train_utts or None) if split == "train" else None)

    @classmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[[list], dict]:
        return collate
