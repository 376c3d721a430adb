"""One experiment → one input pipeline (``doc/inputs.md``).

Everything that shapes what a model reads is recorded in its experiment directory when it is
trained (``exp/<name>/inputs.yaml``): the modality, the features (type, dimension, frame shift
and a copy of the feature configuration), the CMVN file and its checksum, the word-segment
settings (``frame_pooling``, ``max_word_frames``, the unaligned-utterance policies), the
tokenizer vocabulary and its checksum, and for span QA the windowing and question length.

:class:`InputPipeline` turns those settings into corpora and data sets. Training, validation,
``sqa_decode``, ``cascade_decode``, ``answer`` and the benchmarks all build their inputs through
it, so decoding reads exactly what training read. A decode-time input (a dump, a CMVN file, a
window option) that contradicts the record is a :class:`~speechbert.errors.ConfigError` naming
both values.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from speechbert.errors import ConfigError, DataError
from speechbert.io.atomic import atomic_open
from speechbert.io.dump_dir import read_dump_facts
from speechbert.tasks.word_segments import SpokenCorpus

logger = logging.getLogger(__name__)

#: The input record of an experiment directory.
INPUTS_FILE = "inputs.yaml"
#: Bump when the meaning of a field changes; older records are refused with a clear message.
INPUTS_VERSION = 1
MODALITIES = ("audio", "text")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class InputSettings:
    """What a model reads and how it is prepared; written to ``exp/<name>/inputs.yaml``.

    Paths are stored as given at training time (relative to the recipe directory in recipes);
    :meth:`InputPipeline.resolve` finds them again from another working directory.
    """

    modality: str
    vocab: str | None = None
    vocab_sha256: str | None = None
    # features (audio modality)
    feats_type: str | None = None  # the dump's feats_type line, e.g. "fbank 80"
    feat_dim: int | None = None
    frame_shift: float | None = None  # seconds
    feats_config: dict | None = None  # the feature config the training dump was made with
    train_dump: str | None = None
    cmvn: str | None = None
    cmvn_sha256: str | None = None
    # word segments
    frame_pooling: int = 1
    max_word_frames: int = 0
    train_unaligned: str = "drop"  # training: words of unaligned utterances are left out
    decode_unaligned: str = "uniform"  # validation/decoding: every question is answered
    # span QA windows (None for tasks without them)
    max_seq_len: int | None = None
    max_question_len: int | None = None
    window_units: int | None = None
    window_stride: int | None = None
    negative_windows: str | None = None
    version: int = INPUTS_VERSION

    def as_dict(self) -> dict[str, Any]:
        """Plain values for YAML."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | Path) -> "InputSettings":
        """Parse a record read from ``source`` (named in errors)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataError(f"unknown input settings {unknown} (written by a newer speechbert?)", source)
        version = data.get("version", INPUTS_VERSION)
        if version != INPUTS_VERSION:
            raise DataError(f"input record version {version}; this speechbert reads version {INPUTS_VERSION}",
                            source)
        if data.get("modality") not in MODALITIES:
            raise DataError(f"modality must be one of {MODALITIES}, got {data.get('modality')!r}", source)
        return cls(**dict(data))


# ------------------------------------------------------------------------------ recording


def settings_from_args(args: argparse.Namespace, modality: str = "audio", windows: bool = False) -> InputSettings:
    """The input settings of a training run's resolved options ``args``.

    Audio runs read the facts of the training dump (``feats_type``, ``frame_shift``, the feature
    config copy under ``conf/``) and checksum the CMVN file; every run checksums the vocabulary.
    """
    from speechbert.nets import resolve_bert_dir

    bert_dir = getattr(args, "bert_dir", None)
    vocab = vocab_sha = None
    if bert_dir:
        vpath = resolve_bert_dir(bert_dir) / "vocab.txt"
        if vpath.is_file():
            vocab, vocab_sha = str(vpath), file_sha256(vpath)
    kw: dict[str, Any] = {"modality": modality, "vocab": vocab, "vocab_sha256": vocab_sha}
    if modality == "audio":
        dump = getattr(args, "train_dump", None)
        if dump:
            facts = read_dump_facts(dump)
            kw.update(feats_type=facts["feats_type"], frame_shift=facts["frame_shift"],
                      feats_config=facts["feats_config"], train_dump=str(dump))
            feat_dim = facts["feat_dim"]
        else:
            feat_dim = None
        if getattr(args, "feat_dim", None):
            feat_dim = int(args.feat_dim)
        kw["feat_dim"] = feat_dim
        cmvn = getattr(args, "cmvn", None)
        if cmvn:
            if not Path(cmvn).is_file():
                raise ConfigError(f"--cmvn {cmvn}: no such file")
            check_cmvn_fits(cmvn, dump, feat_dim, facts if dump else None)
            kw.update(cmvn=str(cmvn), cmvn_sha256=file_sha256(cmvn))
        kw.update(frame_pooling=_int_or(getattr(args, "frame_pooling", None), 1),
                  max_word_frames=_int_or(getattr(args, "max_word_frames", None), 0))
    if windows:
        kw.update(max_seq_len=int(args.max_seq_len), max_question_len=int(args.max_question_len),
                  window_units=int(args.window_units), window_stride=int(args.window_stride),
                  negative_windows=str(args.negative_windows))
    return InputSettings(**kw)


def check_cmvn_fits(cmvn: str | Path, dump: str | Path | None, feat_dim: int | None,
                    facts: Mapping[str, Any] | None) -> None:
    """Raise ConfigError, naming both files and the feature config, when the CMVN stats' dimension
    is not the features' (e.g. fbank stats with MFCC features after changing ``feats_config``)."""
    from speechbert.audio.cmvn import GlobalCMVN

    if feat_dim is None:
        return
    dim = GlobalCMVN.load(cmvn).dim
    if dim != int(feat_dim):
        made = f" (made with {facts['feats_config_file']})" if facts and facts.get("feats_config_file") else ""
        what = f"{dump} has {facts['feats_type']!r} features{made}" if facts and facts.get("feats_type") \
            else f"the features are {feat_dim}-dim"
        raise ConfigError(f"--cmvn {cmvn} holds {dim}-dim stats but {what}: compute the CMVN from these features "
                          "(stage 2) or use the dump the stats came from")


def _int_or(value: Any, default: int) -> int:
    return default if value is None else int(value)


def write_input_settings(exp_dir: str | Path, settings: InputSettings) -> Path:
    """Write ``exp_dir/inputs.yaml`` atomically; returns its path."""
    path = Path(exp_dir) / INPUTS_FILE
    with atomic_open(path) as f:
        f.write("# What this experiment's model reads (speechbert.tasks.input_pipeline); every\n"
                "# decoder builds its inputs from this record.\n")
        yaml.safe_dump(settings.as_dict(), f, sort_keys=True, default_flow_style=False, allow_unicode=True)
    return path


def read_input_settings(exp_dir: str | Path) -> InputSettings:
    """The input record of an experiment directory.

    Raises:
        DataError: naming ``inputs.yaml`` when it is missing (trained before input records
            existed: retrain, or re-run the training stage, which writes it for a finished run)
            or malformed.
    """
    path = Path(exp_dir) / INPUTS_FILE
    if not path.is_file():
        raise DataError("no input record: the experiment was trained by an older speechbert; re-run its "
                        "training stage (a finished run only rewrites its records)", path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise DataError(f"cannot parse ({e})", path) from None
    if not isinstance(data, dict):
        raise DataError("expected a mapping of input settings", path)
    return InputSettings.from_dict(data, path)


# ------------------------------------------------------------------------------- building


@dataclass
class InputPipeline:
    """Builds corpora and data sets exactly as an experiment's model was trained to read them.

    ``root`` is the directory the record's relative paths are resolved from when they do not
    exist from the working directory (the recipe directory, ``exp/<name>/../..``).
    """

    settings: InputSettings
    root: Path | None = None
    source: str = "(training options)"
    _corpora: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_exp(cls, exp_dir: str | Path) -> "InputPipeline":
        """The pipeline recorded in ``exp_dir/inputs.yaml``."""
        exp_dir = Path(exp_dir)
        return cls(read_input_settings(exp_dir), exp_dir.resolve().parent.parent, str(exp_dir / INPUTS_FILE))

    # -- paths -------------------------------------------------------------------------

    def resolve(self, value: str | None) -> Path | None:
        """A recorded path as given (if it exists from here), else relative to ``root``."""
        if not value:
            return None
        p = Path(value)
        if p.exists() or p.is_absolute() or self.root is None:
            return p
        q = self.root / p
        return q if q.exists() else p

    def cmvn_path(self, override: str | Path | None = None) -> Path | None:
        """The CMVN file to apply: the recorded one, or ``override`` if it has the same bytes.

        Raises:
            ConfigError: for a missing file, or an override whose checksum differs from the
                record (naming both files).
        """
        s = self.settings
        if override:
            override = Path(override)
            if not override.is_file():
                raise ConfigError(f"--cmvn {override}: no such file")
            if s.cmvn_sha256 is None:
                raise ConfigError(f"--cmvn {override}: the model was trained without CMVN ({self.source})")
            if file_sha256(override) != s.cmvn_sha256:
                raise ConfigError(f"--cmvn {override} is not the CMVN the model was trained with "
                                  f"({s.cmvn}, sha256 {s.cmvn_sha256[:12]}…, recorded in {self.source})")
            return override
        path = self.resolve(s.cmvn)
        if path is None:
            return None
        if not path.is_file():
            raise ConfigError(f"the model's training CMVN {s.cmvn} (recorded in {self.source}) is not here; "
                              "pass --cmvn with a copy of it")
        if s.cmvn_sha256 and file_sha256(path) != s.cmvn_sha256:
            raise ConfigError(f"{path} has changed since the model was trained (sha256 differs from "
                              f"{self.source}): recompute features and retrain, or pass the original with --cmvn")
        return path

    def check_dump(self, dump_dir: str | Path) -> None:
        """Raise ConfigError when a dump's features differ from the training features."""
        s = self.settings
        facts = read_dump_facts(dump_dir)
        for name, label in (("feats_type", "feature type"), ("frame_shift", "frame shift (s)"),
                            ("feat_dim", "feature dimension")):
            want, got = getattr(s, name), facts[name]
            if want is None or got is None:
                continue
            same = abs(float(want) - float(got)) < 1e-9 if name == "frame_shift" else want == got
            if not same:
                raise ConfigError(f"{dump_dir}: {label} {got!r}, but the model was trained on {want!r} "
                                  f"({s.train_dump or 'the training dump'}, recorded in {self.source})")

    def check_window_options(self, window_units: int | None = None, window_stride: int | None = None) -> None:
        """Raise ConfigError for a decode-time window option that differs from the record."""
        for name, value in (("window_units", window_units), ("window_stride", window_stride)):
            recorded = getattr(self.settings, name)
            if value is not None and recorded is not None and int(value) != int(recorded):
                raise ConfigError(f"--{name} {value} contradicts the experiment's {name} {recorded} "
                                  f"({self.source}): the model reads what it was trained on")

    # -- corpora and data sets ----------------------------------------------------------

    def corpus(self, data_dir: str | Path, dump_dir: str | Path | None = None, ctm: str | Path | None = None,
               *, train: bool, text_name: str = "text", cmvn: str | Path | None = None) -> SpokenCorpus:
        """The spoken corpus of a data set, as the model reads it.

        ``train`` picks the unaligned-utterance policy (training leaves unaligned words out;
        validation and decoding answer every question). Text models read no features
        (``dump_dir`` is ignored) and get times only with a ``ctm``; audio models need
        ``dump_dir`` and ``ctm``.
        """
        s = self.settings
        policy = s.train_unaligned if train else s.decode_unaligned
        if s.modality == "audio":
            if dump_dir is None:
                raise ConfigError(f"{data_dir}: an audio model needs the data set's features (--dump)")
            self.check_dump(dump_dir)
            cmvn_file = self.cmvn_path(cmvn)
            key = ("audio", str(data_dir), str(dump_dir), str(ctm), str(cmvn_file), policy, text_name)
            if key not in self._corpora:
                self._corpora[key] = SpokenCorpus.load(
                    data_dir, dump_dir, ctm, cmvn_file, unaligned=policy, max_word_frames=int(s.max_word_frames),
                    text_name=text_name, frame_pooling=int(s.frame_pooling))
            return self._corpora[key]
        if ctm is None:
            policy = "drop"  # no alignment at all: words without times, not guessed ones
        key = ("text", str(data_dir), str(ctm), policy, text_name)
        if key not in self._corpora:
            self._corpora[key] = SpokenCorpus.load(data_dir, None, ctm, None, unaligned=policy, text_name=text_name,
                                                   max_word_frames=0, frame_pooling=1)
        return self._corpora[key]

    def apply_segment_settings(self, corpus: SpokenCorpus) -> SpokenCorpus:
        """Give a corpus built elsewhere (a recording) the recorded word-segment settings."""
        corpus.frame_pooling = int(self.settings.frame_pooling)
        corpus.max_word_frames = int(self.settings.max_word_frames)
        return corpus

    def sqa_dataset(self, corpus: SpokenCorpus, questions: Sequence[dict], train: bool):  # noqa: ANN201
        """An SQA window data set (:class:`speechbert.tasks.sqa_dataset.SQADataset`)."""
        from speechbert.tasks.sqa_dataset import SQADataset
        from speechbert.text.piece_vocab import load_vocab_file

        s = self.settings
        if s.max_seq_len is None:
            raise ConfigError(f"{self.source}: this experiment is not a span QA model (no window settings)")
        return SQADataset(corpus, questions, load_vocab_file(self.vocab_path()), modality=s.modality,
                          max_seq_len=int(s.max_seq_len), max_question_len=int(s.max_question_len),
                          window_units=int(s.window_units), window_stride=int(s.window_stride), train=train,
                          negative_windows=str(s.negative_windows))

    def vocab_path(self) -> Path:
        """The recorded vocabulary, checked against its checksum."""
        s = self.settings
        path = self.resolve(s.vocab)
        if path is None or not path.is_file():
            raise ConfigError(f"the model's vocabulary {s.vocab} (recorded in {self.source}) is not here")
        if s.vocab_sha256 and file_sha256(path) != s.vocab_sha256:
            raise ConfigError(f"{path} differs from the vocabulary the model was trained with ({self.source})")
        return path
