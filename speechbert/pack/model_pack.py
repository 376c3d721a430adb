"""Write a packed model: one zip archive with everything ``answer`` needs (``doc/model_pack.md``).

The archive holds the model file, its training config and input record, the CTC aligner (with
its boundary rule and CMVN), the model's training CMVN, the BERT config and tokenizer files,
the training dump's feature facts, an optional ``RESULTS.md``, a generated ``README.md`` model
card and ``meta.yaml`` (versions, training data, results, the SHA-256 of every member).

Every path the experiment records (CMVN, vocabulary, training dump, BERT directory) is stored
inside the archive and rewritten to its archive-relative name; the recorded checksums stay as
they are, so the reader checks the packed files against the values training recorded. The
archive's bytes depend only on its members (fixed member order, times and modes): packing the
same experiment twice gives the same file.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from speechbert.errors import ConfigError, DataError
from speechbert.io.atomic import atomic_path
from speechbert.pack import layout as L
from speechbert.pack.model_card import model_card
from speechbert.tasks.input_pipeline import InputPipeline, write_input_settings

logger = logging.getLogger(__name__)

#: Fixed member time: the archive's bytes must not depend on when it was packed.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: Weights do not shrink under deflate; storing them keeps packing and unpacking fast.
_STORED_SUFFIXES = (".pt", ".safetensors", ".ark")
#: Options of the training config that point at files; the packed copy points into the archive.
_INIT_OPTIONS = ("init_model", "init_audio_encoder")
_TRAINING_DATA_OPTIONS = ("train_data", "valid_data", "train_dump", "valid_dump", "train_ctm", "valid_ctm",
                          "cmvn", "bert_dir", "init_model", "init_audio_encoder", "extra_train_data")


@dataclass
class PackSummary:
    """What :func:`pack_model` wrote."""

    path: Path
    members: dict[str, dict[str, Any]]
    meta: dict[str, Any]

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def pack_model(exp_dir: str | Path, out: str | Path, *, aligner_dir: str | Path | None = None,
               results: str | Path | None = None, model_file: str = L.MODEL_FILE,
               results_system: str = "end-to-end") -> PackSummary:
    """Pack the end-to-end model of ``exp_dir`` and its aligner into the zip archive ``out``.

    ``aligner_dir`` defaults to the recipe's aligner ``exp_dir/../ctc_aligner`` (stage 3, whose
    alignments the model was trained on). ``results``: a ``RESULTS.md`` stored in the archive;
    its ``results_system`` rows are copied into ``meta.yaml``. ``out`` is written atomically.

    Raises:
        ConfigError: for a missing experiment, model file or aligner, a text model, an aligner
            whose features are not the model's, an output directory that does not exist, or a
            recorded file (CMVN, vocabulary) that is missing or whose bytes changed since training.
        DataError: for a malformed record or config (naming the file).
    """
    exp_dir, out = Path(exp_dir), Path(out)
    if not exp_dir.is_dir():
        raise ConfigError(f"{exp_dir}: no such experiment directory")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: the directory {out.parent} does not exist")
    config_path = exp_dir / "config.yaml"
    if not config_path.is_file():
        raise ConfigError(f"{exp_dir}: no config.yaml (not a training experiment directory)")
    config = _read_yaml(config_path)
    if config.get("input_modality", "audio") != "audio":
        raise ConfigError(f"{exp_dir} is a model with {config.get('input_modality')} input; a packed model answers "
                          "questions about audio, so it must be an end-to-end (audio) model")
    model_path = exp_dir / model_file
    if not model_path.is_file():
        raise ConfigError(f"{model_path}: no such model file (train and average the model first)")
    pipeline = InputPipeline.from_exp(exp_dir)
    settings = pipeline.settings
    if settings.max_seq_len is None:
        raise ConfigError(f"{pipeline.source}: not a span QA model (no window settings)")
    cmvn = pipeline.cmvn_path()  # checks the recorded checksum
    vocab = pipeline.vocab_path()  # idem
    aligner_dir = Path(aligner_dir) if aligner_dir else exp_dir.resolve().parent / "ctc_aligner"
    aligner_files, aligner_info = _aligner_members(aligner_dir, settings.feats_type, settings.frame_shift)
    bert_src = _bert_dir(config, pipeline)

    with tempfile.TemporaryDirectory(prefix="speechbert-pack.") as tmp:  # the few generated members
        staging = Path(tmp)
        files: dict[str, Path] = {}
        files[f"{L.MODEL_DIR}/{L.MODEL_FILE}"] = model_path
        metrics = exp_dir / L.METRICS_FILE
        if model_file == L.MODEL_FILE and metrics.is_file():
            files[f"{L.MODEL_DIR}/{L.METRICS_FILE}"] = metrics
        files.update(aligner_files)
        if cmvn is not None:
            files[L.CMVN_FILE] = cmvn
        files[L.VOCAB_FILE] = vocab
        files[L.BERT_CONFIG_FILE] = bert_src / "config.json"
        for name in L.TOKENIZER_FILES:
            if (bert_src / name).is_file():
                files[f"{L.BERT_DIR}/{name}"] = bert_src / name
        files.update(_feature_members(pipeline, staging))
        packed = dataclasses.replace(settings, cmvn=L.CMVN_FILE if cmvn is not None else None,
                                     vocab=L.VOCAB_FILE, train_dump=L.FEATURES_DIR)
        files[f"{L.MODEL_DIR}/{L.INPUTS_FILE}"] = write_input_settings(_mkdir(staging / "inputs"), packed)
        files[f"{L.MODEL_DIR}/{L.CONFIG_FILE}"] = _write_yaml(staging / "config.yaml", packed_config(config, cmvn))
        if results is not None:
            if not Path(results).is_file():
                raise ConfigError(f"--results {results}: no such file")
            files[L.RESULTS_FILE] = Path(results)
        meta = _meta(exp_dir, model_file, config, settings, aligner_dir, aligner_info, results, results_system,
                     {"cmvn": (settings.cmvn, L.CMVN_FILE if cmvn is not None else None),
                      "vocab": (settings.vocab, L.VOCAB_FILE), "train_dump": (settings.train_dump, L.FEATURES_DIR),
                      "bert_dir": (config.get("bert_dir"), L.BERT_DIR),
                      "aligner_dir": (str(aligner_dir), L.ALIGNER_DIR)})
        members = _write_archive(out, files, meta)
    logger.info("packed %s (%d members, %.1f MB) into %s", exp_dir, len(members), out.stat().st_size / 1e6, out)
    return PackSummary(out, members, meta)


def packed_config(config: Mapping[str, Any], cmvn: Path | None) -> dict[str, Any]:
    """The training config as stored in the archive: file options point into the archive and the
    initialising checkpoints are dropped (their model-shape options are filled in first)."""
    from speechbert.tasks.common import INHERITED_MODEL_OPTIONS, LEGACY_AWE_OPTIONS, inherit_model_options

    ns = argparse.Namespace(**dict(config))
    init = config.get("init_model") or config.get("init_audio_encoder")
    # The shape options a run inherits from its initialising checkpoint must be explicit once
    # that checkpoint is gone (a trainer's config.yaml already has them; an older one may not).
    names = INHERITED_MODEL_OPTIONS if config.get("init_model") else tuple(
        n for n in INHERITED_MODEL_OPTIONS if n != "bert_layers")
    inherit_model_options(ns, init, names=names)
    out = dict(config)
    for n in names:
        if n in out or getattr(ns, n, None) is not None:
            out[n] = getattr(ns, n, None)
    # An older config's flat awe_* options are in awe/awe_conf now (inherit_model_options moved them).
    for n in LEGACY_AWE_OPTIONS:
        out.pop(n, None)
    for n in _INIT_OPTIONS:
        if n in out:
            out[n] = None
    if "init_param" in out:
        out["init_param"] = []
    out.update(bert_dir=L.BERT_DIR, train_dump=L.FEATURES_DIR, cmvn=L.CMVN_FILE if cmvn is not None else None)
    return out


# ---------------------------------------------------------------------------------- members


def _aligner_members(aligner_dir: Path, feats_type: str | None, frame_shift: float | None
                     ) -> tuple[dict[str, Path], dict[str, Any]]:
    """The aligner's files and the facts ``meta.yaml`` records; checks it reads the model's features."""
    from speechbert.align.aligner import CONFIG_NAME, WEIGHTS_NAME, load_aligner

    if not aligner_dir.is_dir():
        raise ConfigError(f"{aligner_dir}: no such aligner directory (the recipe's stage-3 exp/ctc_aligner); "
                          "pass --aligner_dir")
    aligner = load_aligner(aligner_dir)  # refuses a directory it cannot load
    if feats_type and aligner.feats_type and aligner.feats_type != feats_type:
        raise ConfigError(f"the aligner {aligner_dir} reads {aligner.feats_type!r} features but the model was "
                          f"trained on {feats_type!r}: pass the aligner the recipe trained on these features")
    if frame_shift is not None and abs(aligner.frame_shift - float(frame_shift)) > 1e-9:
        raise ConfigError(f"the aligner {aligner_dir} has a {aligner.frame_shift} s frame shift, the model "
                          f"{frame_shift} s")
    info = _read_yaml(aligner_dir / CONFIG_NAME)
    files = {f"{L.ALIGNER_DIR}/{CONFIG_NAME}": aligner_dir / CONFIG_NAME,
             f"{L.ALIGNER_DIR}/{WEIGHTS_NAME}": aligner_dir / WEIGHTS_NAME}
    if info.get("cmvn"):
        files[f"{L.ALIGNER_DIR}/{info['cmvn']}"] = aligner_dir / str(info["cmvn"])
    rule = info.get("boundary_rule") or {}
    return files, {"feats_type": aligner.feats_type, "frame_shift": aligner.frame_shift,
                   "boundary_rule": {k: rule.get(k) for k in ("start_rule", "end_rule", "start_offset", "end_offset")},
                   "tokens": len(info.get("tokens") or [])}


def _bert_dir(config: Mapping[str, Any], pipeline: InputPipeline) -> Path:
    """The BERT directory (holding config.json) the model was built from."""
    from speechbert.nets import resolve_bert_dir

    value = config.get("bert_dir")
    if not value:
        raise ConfigError(f"{pipeline.source}: the training config names no bert_dir")
    path = pipeline.resolve(str(value))
    if path is None or not path.is_dir():
        raise ConfigError(f"the model's BERT directory {value} is not here: the packed model needs its config.json")
    return resolve_bert_dir(path)


def _feature_members(pipeline: InputPipeline, staging: Path) -> dict[str, Path]:
    """``features/``: the training dump's ``feats_type``, ``frame_shift`` and feature config copy
    (what ``read_dump_facts`` reads), from the dump when it is here, else from the record."""
    s = pipeline.settings
    dump = pipeline.resolve(s.train_dump)
    files: dict[str, Path] = {}
    if dump is not None and dump.is_dir():
        for name in ("feats_type", "frame_shift"):
            if (dump / name).is_file():
                files[f"{L.FEATURES_DIR}/{name}"] = dump / name
        confs = sorted((dump / "conf").glob("*.yaml")) if (dump / "conf").is_dir() else []
        if len(confs) == 1:
            files[f"{L.FEATURES_DIR}/conf/{confs[0].name}"] = confs[0]
    gen = _mkdir(staging / "features")
    if f"{L.FEATURES_DIR}/feats_type" not in files and s.feats_type:
        (gen / "feats_type").write_text(f"{s.feats_type}\n", encoding="utf-8")
        files[f"{L.FEATURES_DIR}/feats_type"] = gen / "feats_type"
    if f"{L.FEATURES_DIR}/frame_shift" not in files and s.frame_shift is not None:
        (gen / "frame_shift").write_text(f"{s.frame_shift}\n", encoding="utf-8")
        files[f"{L.FEATURES_DIR}/frame_shift"] = gen / "frame_shift"
    if not any(n.startswith(f"{L.FEATURES_DIR}/conf/") for n in files) and s.feats_config:
        kind = str(s.feats_config.get("frontend") or s.feats_config.get("feats_type", "feats"))
        files[f"{L.FEATURES_DIR}/conf/{kind}.yaml"] = _write_yaml(gen / f"{kind}.yaml", dict(s.feats_config))
    return files


# ------------------------------------------------------------------------------------- meta


def _meta(exp_dir: Path, model_file: str, config: Mapping[str, Any], settings: Any, aligner_dir: Path,
          aligner_info: dict[str, Any], results: str | Path | None, results_system: str,
          paths: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    import speechbert
    from speechbert.metrics.results_table import environment_info

    env = environment_info()
    metrics = exp_dir / L.METRICS_FILE
    validation = None
    if model_file == L.MODEL_FILE and metrics.is_file():
        import json

        try:
            validation = json.loads(metrics.read_text(encoding="utf-8"))
        except ValueError as e:
            raise DataError(f"invalid JSON ({e})", metrics) from None
    meta: dict[str, Any] = {
        "format": L.FORMAT_NAME,
        "format_version": L.FORMAT_VERSION,
        "written_by": {"speechbert": speechbert.__version__, "git": env["git"], "torch": env["torch"],
                       "python": env["python"]},
        "model": {"task": "span QA (end-to-end, audio words)", "file": f"{L.MODEL_DIR}/{L.MODEL_FILE}",
                  "source": str(exp_dir / model_file), "validation": validation},
        "inputs": {k: getattr(settings, k) for k in ("feats_type", "feat_dim", "frame_shift", "frame_pooling",
                                                     "max_word_frames", "max_seq_len", "max_question_len",
                                                     "window_units", "window_stride")},
        "aligner": {"dir": L.ALIGNER_DIR, "source": str(aligner_dir), **aligner_info},
        "training": {k: config.get(k) for k in _TRAINING_DATA_OPTIONS if k in config},
        "paths": {k: {"recorded": v[0], "archive": v[1]} for k, v in paths.items() if v[0] is not None},
        "results": None,
    }
    if results is not None:
        meta["results"] = {"file": L.RESULTS_FILE, "source": str(results), "system": results_system,
                           "rows": results_rows(Path(results), results_system)}
    return meta


def results_rows(path: Path, system: str) -> dict[str, dict[str, str]]:
    """``{data set: {column: cell}}`` of the rows of ``system`` in the main tables of a
    ``RESULTS.md`` (``show_results``: a ``## Data set: <name>`` heading, then a table)."""
    rows: dict[str, dict[str, str]] = {}
    data_set, header = None, None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^##\s+Data set:\s*(\S+)", line)
        if m:
            data_set, header = m.group(1), None
            continue
        if line.startswith("## "):
            data_set, header = None, None
        if data_set is None or not line.startswith("|"):
            if header is not None and not line.startswith("|"):
                header = None if line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif cells and cells[0] == system and data_set not in rows and len(cells) == len(header):
            rows[data_set] = dict(zip(header[1:], cells[1:]))
    return rows


# ---------------------------------------------------------------------------------- writing


def _write_archive(out: Path, files: Mapping[str, Path], meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Write the members in name order, then ``README.md`` and ``meta.yaml`` (with every member's
    SHA-256, computed from the bytes written); returns the member table."""
    members: dict[str, dict[str, Any]] = {}
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
        for name in sorted(files):
            members[name] = _add_file(zf, name, files[name])
        card = model_card(meta, members).encode("utf-8")
        members[L.CARD_FILE] = _add_bytes(zf, L.CARD_FILE, card)
        meta["members"] = {n: members[n] for n in sorted(members)}
        text = ("# speechbert packed model (doc/model_pack.md); members lists the SHA-256 of every other file\n"
                + yaml.safe_dump(meta, sort_keys=False, default_flow_style=False, allow_unicode=True))
        _add_bytes(zf, L.META_FILE, text.encode("utf-8"))
    return members


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_STORED if name.endswith(_STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
    return info


def _add_file(zf: zipfile.ZipFile, name: str, path: Path) -> dict[str, Any]:
    h, size = hashlib.sha256(), 0
    try:
        with open(path, "rb") as src, zf.open(_zip_info(name), "w", force_zip64=True) as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                h.update(block)
                size += len(block)
                dst.write(block)
    except FileNotFoundError:
        raise DataError("cannot pack: no such file", path) from None
    return {"sha256": h.hexdigest(), "bytes": size}


def _add_bytes(zf: zipfile.ZipFile, name: str, data: bytes) -> dict[str, Any]:
    zf.writestr(_zip_info(name), data)
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise DataError(f"cannot parse ({e})", path) from None
    if not isinstance(data, dict):
        raise DataError("expected a mapping", path)
    return data


def _write_yaml(path: Path, data: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(data), sort_keys=True, default_flow_style=False, allow_unicode=True),
                    encoding="utf-8")
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path

