"""Pieces shared by the SpeechBERT training tasks: options, BERT/tokenizer loading, data sets,
audio word encoder configuration, and the initialisation of a model part from another experiment."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any, Sequence

import torch
import yaml
from torch.utils.data import Dataset

from speechbert.command_line import ArgumentParser, str2bool
from speechbert.errors import ConfigError
from speechbert.io.dump_dir import read_dump_facts
from speechbert.tasks.input_pipeline import InputPipeline, settings_from_args
from speechbert.tasks.word_segments import SpokenCorpus
from speechbert.text.piece_vocab import PieceVocab, load_vocab_file

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------- tokenizer

def load_vocab(bert_dir: str | Path) -> PieceVocab:
    """The (cached) :class:`PieceVocab` of a BERT directory."""
    from speechbert.nets import resolve_bert_dir

    path = resolve_bert_dir(bert_dir) / "vocab.txt"
    if not path.is_file():
        raise ConfigError(f"{path}: the BERT directory has no vocab.txt")
    return load_vocab_file(path)


# ------------------------------------------------------------------------------------ options


def add_bert_arguments(parser: ArgumentParser, inherit: bool = False) -> None:
    """``--bert_dir`` and the BERT size/regularisation overrides.

    With ``inherit``, ``--bert_layers`` defaults to the initialising experiment's value.
    """
    a = parser.add_argument
    a("--bert_dir", required=True,
      help="local Hugging Face BERT directory (config.json, weights, vocab.txt)")
    a("--bert_layers", type=int, default=None if inherit else 0,
      help="keep only the first N transformer layers of the checkpoint (0: all)"
           + (" (default: from the initialising experiment's config.yaml, else 0)" if inherit else ""))
    a("--bert_dropout", type=float, default=None,
      help="hidden and attention dropout of the transformer (default: the checkpoint's)")


def add_corpus_arguments(parser: ArgumentParser, splits: Sequence[str] = ("train", "valid"),
                         with_ctm: bool = True, inherit: bool = False, extra_train: bool = False) -> None:
    """``--<split>_data/_dump/_ctm`` for each split, ``--cmvn``, ``--frame_pooling``, ``--max_word_frames``.

    With ``inherit`` the two frame options default to the initialising experiment's values
    (the audio encoder must see frames prepared the way it was trained on). With ``extra_train``,
    ``--extra_train_data/_dump/_ctm`` add training sets read like ``--train_*`` (features of the
    same type, the same CMVN): the pre-training data of stages 5 and 6.
    """
    a = parser.add_argument
    for split in splits:
        a(f"--{split}_data", required=split == "train", default=None,
          help=f"{split} data directory (contexts, text, questions.jsonl, utt2dur)")
        a(f"--{split}_dump", default=None, help=f"{split} feature directory (feats.scp, utt2num_frames, frame_shift)")
        if with_ctm:
            a(f"--{split}_ctm", default=None, help=f"{split} word alignment (exp/align/<set>/word.ctm)")
    a("--cmvn", default=None, help="global CMVN stats of the training set (dump/<train>/cmvn.ark); none: raw features")
    if extra_train:
        a("--extra_train_data", nargs="*", default=[],
          help="more training sets, e.g. LibriSpeech data dirs (speech + transcripts, no questions)")
        a("--extra_train_dump", nargs="*", default=[], help="their feature directories, in the same order")
        a("--extra_train_ctm", nargs="*", default=[], help="their word CTMs, in the same order")
    suffix = " (default: from the initialising experiment's config.yaml)" if inherit else ""
    a("--frame_pooling", type=int, default=None if inherit else 1,
      help="average every K consecutive frames of a spoken word into one (1: keep every frame)" + suffix)
    a("--max_word_frames", type=int, default=None if inherit else 0,
      help="after pooling, keep at most N evenly spaced frames of a spoken word (0: all frames)" + suffix)


def add_audio_encoder_arguments(parser: ArgumentParser, inherit: bool) -> None:
    """The ``--awe_*`` options of the audio word encoder.

    With ``inherit`` (pre-training, fine-tuning) they default to ``None``: the value is then
    taken from the experiment whose model initialises the audio encoder (its ``config.yaml``).
    """
    a = parser.add_argument
    d = (lambda v: None) if inherit else (lambda v: v)  # noqa: E731
    suffix = " (default: from the initialising experiment's config.yaml)" if inherit else ""
    a("--awe_hidden_size", type=int, default=d(256), help="audio word encoder RNN size per direction" + suffix)
    a("--awe_layers", type=int, default=d(1), help="audio word encoder RNN layers" + suffix)
    a("--awe_bidirectional", type=str2bool, default=d(True), help="bidirectional encoder RNN" + suffix)
    a("--awe_rnn_type", default=d("gru"), choices=["gru", "lstm"], help="RNN cell" + suffix)
    a("--awe_decoder_hidden_size", type=int, default=d(256), help="reconstruction decoder RNN size" + suffix)
    a("--awe_dropout", type=float, default=d(0.0), help="dropout between RNN layers" + suffix)


AWE_DEFAULTS = {"awe_hidden_size": 256, "awe_layers": 1, "awe_bidirectional": True, "awe_rnn_type": "gru",
                "awe_decoder_hidden_size": 256, "awe_dropout": 0.0, "bert_layers": 0,
                "frame_pooling": 1, "max_word_frames": 0}
#: what the audio word encoder was built for: its sizes and how its input frames are prepared
AWE_OPTIONS = tuple(k for k in AWE_DEFAULTS if k.startswith("awe_")) + ("feat_dim", "frame_pooling",
                                                                         "max_word_frames")
#: model-shape options a later stage takes over from the experiment that initialises it
INHERITED_MODEL_OPTIONS = AWE_OPTIONS + ("bert_layers",)


def read_exp_config(checkpoint: str | Path) -> dict[str, Any]:
    """The resolved ``config.yaml`` of the experiment a checkpoint file belongs to ({} if none)."""
    path = Path(checkpoint).parent / "config.yaml"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    return data if isinstance(data, dict) else {}


def inherit_model_options(args: argparse.Namespace, checkpoint: str | Path | None,
                          names: Sequence[str] = INHERITED_MODEL_OPTIONS, depth: int = 0) -> None:
    """Fill ``None`` model-shape options of ``args`` from the initialising experiment's config.

    Follows the chain (fine-tuning → pre-training → joint embedding) through each config's own
    ``init_model`` / ``init_audio_encoder``; what is still unset gets the built-in default.
    """
    missing = [n for n in names if getattr(args, n, None) is None]
    if missing and checkpoint and depth < 5:
        cfg = read_exp_config(checkpoint)
        for n in missing:
            if cfg.get(n) is not None:
                setattr(args, n, cfg[n])
        parent = cfg.get("init_model") or cfg.get("init_audio_encoder")
        if parent:
            inherit_model_options(args, parent, names, depth + 1)
    if depth == 0:
        for n in names:
            if getattr(args, n, None) is None and n in AWE_DEFAULTS:
                setattr(args, n, AWE_DEFAULTS[n])


def build_audio_encoder(args: argparse.Namespace, feat_dim: int, output_size: int) -> torch.nn.Module:
    """The audio word encoder the ``--awe_*`` options describe."""
    from speechbert.nets import AudioWordEncoder, AudioWordEncoderConfig

    return AudioWordEncoder(AudioWordEncoderConfig(
        input_dim=int(feat_dim), output_size=int(output_size), hidden_size=int(args.awe_hidden_size),
        num_layers=int(args.awe_layers), bidirectional=bool(args.awe_bidirectional),
        rnn_type=str(args.awe_rnn_type), decoder_hidden_size=int(args.awe_decoder_hidden_size),
        dropout=float(args.awe_dropout)))


def read_bert(args: argparse.Namespace, type_vocab_size: int | None = None):
    """The pretrained BERT of ``--bert_dir`` with ``--bert_layers``/``--bert_dropout`` applied."""
    from speechbert.nets import read_pretrained_bert

    overrides: dict[str, Any] = {}
    if getattr(args, "bert_layers", 0):
        overrides["num_hidden_layers"] = int(args.bert_layers)
    if getattr(args, "bert_dropout", None) is not None:
        overrides["hidden_dropout_prob"] = float(args.bert_dropout)
        overrides["attention_probs_dropout_prob"] = float(args.bert_dropout)
    if type_vocab_size is not None:
        overrides["type_vocab_size"] = type_vocab_size
    return read_pretrained_bert(args.bert_dir, **overrides)


# --------------------------------------------------------------------------------------- data

_PIPELINES: dict[tuple, InputPipeline] = {}


def pipeline_for_args(args: argparse.Namespace, modality: str = "audio", windows: bool = False) -> InputPipeline:
    """The (per-process cached) input pipeline of a training run's resolved options.

    The same :class:`~speechbert.tasks.input_pipeline.InputPipeline` that decoders rebuild from
    the run's ``inputs.yaml``: training and decoding cannot prepare inputs differently.
    """
    names = ("bert_dir", "train_dump", "cmvn", "feat_dim", "frame_pooling", "max_word_frames", "max_seq_len",
             "max_question_len", "window_units", "window_stride", "negative_windows")
    key = (modality, windows, *(str(getattr(args, n, None)) for n in names))
    if key not in _PIPELINES:
        _PIPELINES[key] = InputPipeline(settings_from_args(args, modality, windows))
    return _PIPELINES[key]


def load_corpus(args: argparse.Namespace, split: str, train: bool = True, modality: str = "audio",
                windows: bool = False) -> SpokenCorpus | None:
    """The corpus of ``--<split>_data/_dump/_ctm`` through the run's input pipeline; ``None`` if unset.

    ``train`` selects the training policy for unaligned utterances (their words are left out);
    ``False`` the decoding one (every question answered), which validation metrics use.
    """
    data = getattr(args, f"{split}_data", None)
    if not data:
        return None
    dump = getattr(args, f"{split}_dump", None)
    if modality == "audio" and not dump:
        raise ConfigError(f"--{split}_data is set but --{split}_dump is not")
    ctm = getattr(args, f"{split}_ctm", None)
    return pipeline_for_args(args, modality, windows).corpus(data, dump, ctm, train=train)


def extra_train_sets(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """``(data, dump, ctm)`` of every ``--extra_train_*`` set (validated: one of each per set)."""
    data = list(getattr(args, "extra_train_data", None) or [])
    dump = list(getattr(args, "extra_train_dump", None) or [])
    ctm = list(getattr(args, "extra_train_ctm", None) or [])
    if not (len(data) == len(dump) == len(ctm)):
        raise ConfigError(f"--extra_train_data, --extra_train_dump and --extra_train_ctm must name one entry per "
                          f"set; got {len(data)}, {len(dump)} and {len(ctm)}")
    return list(zip(data, dump, ctm))


def training_corpora(args: argparse.Namespace) -> list[SpokenCorpus]:
    """The training corpus of ``--train_*`` followed by those of ``--extra_train_*``, each cut by the
    run's input pipeline (so they must have the training features' type)."""
    main = load_corpus(args, "train")
    assert main is not None
    pipeline = pipeline_for_args(args, "audio")
    return [main] + [pipeline.corpus(d, u, c, train=True) for d, u, c in extra_train_sets(args)]


class ConcatWithLengths(torch.utils.data.ConcatDataset):
    """Data sets one after the other, with their ``lengths`` (one cost per example) joined."""

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        super().__init__(datasets)
        self.lengths = [int(n) for d in datasets for n in d.lengths]  # type: ignore[attr-defined]


def concat_datasets(datasets: Sequence[Dataset]) -> Dataset:
    """The one data set of ``datasets`` (itself if there is only one)."""
    return datasets[0] if len(datasets) == 1 else ConcatWithLengths(datasets)


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


def register_init(args: argparse.Namespace, path: str, src_prefix: str, dst_prefix: str) -> None:
    """Have the trainer load ``src_prefix.*`` of ``path`` into ``dst_prefix.*`` (fresh runs only).

    Uses the trainer's ``--init_param`` so that a resumed run or a model reloaded for decoding
    does not read the initialising file again.
    """
    spec = f"{path}:{src_prefix}:{dst_prefix}"
    current = list(getattr(args, "init_param", None) or [])
    if spec not in current:
        current.append(spec)
    args.init_param = current
