"""Pieces shared by the SpeechBERT training tasks: options, BERT/tokenizer loading, data sets,
audio word encoder and span head configuration (the registries' ``awe``/``span_head`` options and
the upgrade of older configs), and the initialisation of a model part from another experiment."""

from __future__ import annotations

import argparse
import copy
import logging
from pathlib import Path
from typing import Any, Sequence

import torch
import yaml
from torch.utils.data import Dataset

from speechbert.command_line import ArgumentParser, str2bool
from speechbert.errors import ConfigError, DataError
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


#: the flat options of the RNN encoder before the encoder registry -> their ``awe_conf`` keys of
#: ``awe: rnn``. Still read (command line, YAML, old experiments' config.yaml), never written.
LEGACY_AWE_OPTIONS = {"awe_hidden_size": "hidden_size", "awe_layers": "num_layers",
                      "awe_bidirectional": "bidirectional", "awe_rnn_type": "rnn_type",
                      "awe_decoder_hidden_size": "decoder_hidden_size", "awe_dropout": "dropout"}
DEFAULT_AWE = "rnn"


def add_audio_encoder_arguments(parser: ArgumentParser, inherit: bool) -> None:
    """``--awe`` (a registered audio word encoder) and ``--awe_conf`` (its options, a mapping).

    With ``inherit`` (pre-training, fine-tuning) both default to ``None``: the encoder and every
    option not given are then those of the experiment whose model initialises the audio encoder
    (its ``config.yaml``). The flat ``--awe_hidden_size``-style options of the first version are
    kept, hidden, as another spelling of ``awe: rnn`` options (:func:`upgrade_legacy_awe_options`).
    """
    from speechbert.nets.abs_audio_word_encoder import AUDIO_WORD_ENCODERS

    AUDIO_WORD_ENCODERS.add_arguments(parser, default=DEFAULT_AWE)
    if inherit:
        parser.set_defaults(awe=None, awe_conf=None)
        for option in ("--awe", "--awe_conf"):
            action = parser._option_string_actions[option]
            action.help = f"{action.help} (default: the initialising experiment's, from its config.yaml; else rnn)"
    a = parser.add_argument
    types = {"awe_hidden_size": int, "awe_layers": int, "awe_bidirectional": str2bool, "awe_rnn_type": str,
             "awe_decoder_hidden_size": int, "awe_dropout": float}
    for name, kind in types.items():
        a(f"--{name}", type=kind, default=None, help=argparse.SUPPRESS)


def add_span_head_arguments(parser: ArgumentParser) -> None:
    """``--span_head`` (a registered span head, default ``linear``) and ``--span_head_conf``."""
    from speechbert.nets.span_heads import SPAN_HEADS

    SPAN_HEADS.add_arguments(parser, default="linear")


def _conf_mapping(value: Any, where: str) -> dict:
    """An ``awe_conf`` value as a dict: a mapping, or the text of one (a config.yaml may hold either)."""
    from speechbert.registry import parse_conf_mapping

    try:
        return parse_conf_mapping(value)
    except argparse.ArgumentTypeError as e:
        raise ConfigError(f"{where}: awe_conf: {e}") from None


def upgrade_legacy_awe_options(values: dict[str, Any], where: str = "the options") -> dict[str, Any]:
    """``values`` (a config.yaml mapping or ``vars(args)``) with the flat ``awe_*`` options moved
    into ``awe: rnn`` + ``awe_conf``; a mapping without them is returned unchanged (as a copy).

    A flat option next to ``awe_conf`` is fine when they agree; a flat option with another
    ``awe`` than ``rnn``, or disagreeing with ``awe_conf``, is a ConfigError naming both.
    """
    out = dict(values)
    legacy = {LEGACY_AWE_OPTIONS[k]: out.pop(k) for k in list(out) if k in LEGACY_AWE_OPTIONS}
    legacy = {k: v for k, v in legacy.items() if v is not None}
    if not legacy:
        return out
    old = ", ".join(f"awe_{'layers' if k == 'num_layers' else k}" for k in legacy)
    if out.get("awe") not in (None, DEFAULT_AWE):
        raise ConfigError(f"{where}: {old} are options of awe {DEFAULT_AWE!r}, but awe is {out['awe']!r} "
                          f"(give the options of {out['awe']!r} in awe_conf)")
    conf = _conf_mapping(out.get("awe_conf"), where)
    for key, value in legacy.items():
        if key in conf and conf[key] != value:
            raise ConfigError(f"{where}: awe_conf.{key}={conf[key]!r} but the older option for it says {value!r}: "
                              "give it once, in awe_conf")
        conf.setdefault(key, value)
    out.update(awe=DEFAULT_AWE, awe_conf=conf)
    return out


def _upgrade_args(args: argparse.Namespace) -> None:
    """:func:`upgrade_legacy_awe_options` on a parsed namespace (the flat options are removed)."""
    values = vars(args)
    if not any(k in values for k in LEGACY_AWE_OPTIONS):
        return
    upgraded = upgrade_legacy_awe_options({k: values.get(k) for k in ("awe", "awe_conf", *LEGACY_AWE_OPTIONS)})
    for k in LEGACY_AWE_OPTIONS:
        values.pop(k, None)
    if upgraded.get("awe") is not None or "awe" in values:
        args.awe = upgraded.get("awe")
    if upgraded.get("awe_conf") is not None or "awe_conf" in values:
        args.awe_conf = upgraded.get("awe_conf")


#: built-in values of model-shape options that no experiment in the chain set
AWE_DEFAULTS = {"awe": DEFAULT_AWE, "awe_conf": {}, "bert_layers": 0, "frame_pooling": 1, "max_word_frames": 0}
#: what the audio word encoder was built for: the encoder, its options and how its input frames are prepared
AWE_OPTIONS = ("awe", "awe_conf", "feat_dim", "frame_pooling", "max_word_frames")
#: model-shape options a later stage takes over from the experiment that initialises it
INHERITED_MODEL_OPTIONS = AWE_OPTIONS + ("bert_layers",)


def read_exp_config(checkpoint: str | Path) -> dict[str, Any]:
    """The resolved ``config.yaml`` of the experiment a checkpoint file belongs to ({} if none).

    Old configs (flat ``awe_*`` options) come back in the current form (``awe`` + ``awe_conf``,
    a dict).
    """
    path = Path(checkpoint).parent / "config.yaml"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        return {}
    data = upgrade_legacy_awe_options(data, str(path))
    if data.get("awe_conf") is not None:
        data["awe_conf"] = _conf_mapping(data["awe_conf"], str(path))
    return data


def inherit_model_options(args: argparse.Namespace, checkpoint: str | Path | None,
                          names: Sequence[str] = INHERITED_MODEL_OPTIONS, depth: int = 0) -> None:
    """Fill ``None`` model-shape options of ``args`` from the initialising experiment's config.

    Follows the chain (fine-tuning → pre-training → joint embedding) through each config's own
    ``init_model`` / ``init_audio_encoder``; what is still unset gets the built-in default.
    ``awe_conf`` is filled key by key: the keys given here win, the others come from the first
    config in the chain with the same ``awe``.
    """
    if depth == 0:
        _upgrade_args(args)
    missing = [n for n in names if getattr(args, n, None) is None and n != "awe_conf"]
    if (missing or "awe_conf" in names) and checkpoint and depth < 5:
        cfg = read_exp_config(checkpoint)
        for n in missing:
            if cfg.get(n) is not None:
                setattr(args, n, cfg[n])
        if "awe_conf" in names and cfg.get("awe_conf") is not None and \
                (cfg.get("awe") or DEFAULT_AWE) == (getattr(args, "awe", None) or DEFAULT_AWE):
            args.awe_conf = {**cfg["awe_conf"], **_conf_mapping(getattr(args, "awe_conf", None), "the options")}
        parent = cfg.get("init_model") or cfg.get("init_audio_encoder")
        if parent:
            inherit_model_options(args, parent, names, depth + 1)
    if depth == 0:
        for n in names:
            if getattr(args, n, None) is None and n in AWE_DEFAULTS:
                setattr(args, n, copy.deepcopy(AWE_DEFAULTS[n]))


def dump_units(dump_dir: str | Path | None) -> int | None:
    """K of a dump whose ``feats_type`` line is ``units K`` (discrete unit ids); else ``None``."""
    if not dump_dir:
        return None
    feats_type = read_dump_facts(dump_dir)["feats_type"] or ""
    parts = feats_type.split()
    if parts and parts[0] == "units":
        if len(parts) < 2 or not parts[1].isdigit():
            raise DataError(f"feats_type {feats_type!r}: expected 'units <K>'", Path(dump_dir) / "feats_type")
        return int(parts[1])
    return None


def resolve_audio_encoder(args: argparse.Namespace) -> None:
    """Make ``args.awe``/``args.awe_conf`` explicit: flat options upgraded, defaults filled, every
    option of the encoder written out (so ``config.yaml`` records it) and a ``units`` encoder's
    ``num_units: 0`` replaced by the K of the training dump. Idempotent."""
    from speechbert.nets.abs_audio_word_encoder import AUDIO_WORD_ENCODERS

    _upgrade_args(args)
    if getattr(args, "awe", None) is None:
        args.awe = DEFAULT_AWE
    values = _conf_mapping(getattr(args, "awe_conf", None), "the options")
    conf = AUDIO_WORD_ENCODERS.conf_to_dict(AUDIO_WORD_ENCODERS.make_conf(args.awe, values))
    if conf.get("num_units") == 0:
        units = dump_units(getattr(args, "train_dump", None))
        if units is None:
            raise ConfigError(f"awe_conf.num_units of awe {args.awe!r} is 0 (from the dump) but the training dump "
                              f"{getattr(args, 'train_dump', None)} has no 'units K' feats_type: set num_units")
        conf["num_units"] = units
    args.awe_conf = conf


def check_encoder_inputs(args: argparse.Namespace, encoder: torch.nn.Module) -> None:
    """ConfigError when the prepared inputs do not fit what the encoder reads.

    Unit ids (``input_kind == "units"``) are not features: global CMVN would shift them and frame
    pooling would average them. A ``units K`` dump read by a feature encoder, or a feature dump
    read by a unit encoder, is refused too.
    """
    kind = getattr(encoder, "input_kind", "features")
    units = dump_units(getattr(args, "train_dump", None))
    name = getattr(args, "awe", None)
    if kind == "units":
        if getattr(args, "cmvn", None):
            raise ConfigError(f"--cmvn {args.cmvn}: awe {name!r} reads discrete unit ids, which CMVN must not "
                              "normalise; leave --cmvn unset")
        if int(getattr(args, "frame_pooling", 1) or 1) != 1:
            raise ConfigError(f"--frame_pooling {args.frame_pooling}: awe {name!r} reads unit ids, which cannot "
                              "be averaged; use frame_pooling 1 (max_word_frames may subsample)")
        if getattr(args, "train_dump", None) and units is None:
            raise ConfigError(f"awe {name!r} reads unit ids, but --train_dump {args.train_dump} holds features "
                              "(its feats_type is not 'units K')")
        if units is not None and getattr(encoder, "num_units", units) < units:
            raise ConfigError(f"awe_conf.num_units={encoder.num_units} but --train_dump {args.train_dump} has "
                              f"{units} units")
    elif units is not None:
        raise ConfigError(f"--train_dump {args.train_dump} holds unit ids ('units {units}'), but awe {name!r} "
                          "reads real-valued features: use awe: units")


def build_audio_encoder(args: argparse.Namespace, feat_dim: int, output_size: int) -> torch.nn.Module:
    """The audio word encoder ``--awe``/``--awe_conf`` describe (resolved in ``args`` first)."""
    from speechbert.nets.abs_audio_word_encoder import AUDIO_WORD_ENCODERS

    resolve_audio_encoder(args)
    encoder = AUDIO_WORD_ENCODERS.build(args.awe, args.awe_conf, input_dim=int(feat_dim), output_size=int(output_size))
    check_encoder_inputs(args, encoder)
    return encoder


def build_span_head(args: argparse.Namespace, hidden_size: int, initializer_range: float) -> torch.nn.Module:
    """The span head ``--span_head``/``--span_head_conf`` describe (older configs: ``linear``)."""
    from speechbert.nets.span_heads import SPAN_HEADS

    name = getattr(args, "span_head", None) or "linear"
    conf = SPAN_HEADS.make_conf(name, getattr(args, "span_head_conf", None) or {})
    args.span_head, args.span_head_conf = name, SPAN_HEADS.conf_to_dict(conf)
    return SPAN_HEADS.build(name, conf, hidden_size=int(hidden_size), initializer_range=float(initializer_range))


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
