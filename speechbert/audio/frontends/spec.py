"""Feature configs as mappings: ``frontend: <name>`` + ``frontend_conf: {...}``, and the old flat form.

The recipes' ``conf/fbank.yaml`` reads::

    frontend: fbank
    frontend_conf:
      num_mel_bins: 80

Dumps made before frontends were registered hold flat copies (``feats_type: fbank``,
``num_mel_bins: 80``, ...), and so do models packed from them: those still load, with the options
of the old ``FeatureConfig`` (whose defaults differ in one place: an old ``feats_type: mfcc`` without
``num_mel_bins`` had 80 mel bins), so they give the same features as before.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

import yaml

from speechbert.audio.features import FeatureConfig
from speechbert.audio.frontends.base import FRONTENDS, Frontend
from speechbert.errors import ConfigError
from speechbert.registry import parse_conf_mapping

LEGACY_KEYS = tuple(f.name for f in fields(FeatureConfig))
_KALDI_ONLY_MFCC = ("num_ceps", "cepstral_lifter")


def is_legacy(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` is a flat feature config (keys of the old ``FeatureConfig``)."""
    return any(k in data for k in LEGACY_KEYS) and "frontend" not in data and "frontend_conf" not in data


def legacy_spec(data: Mapping[str, Any], where: str = "") -> tuple[str, Any]:
    """``(frontend name, its config)`` of a flat ``feats_type: ...`` mapping (other keys ignored).

    Values may be strings (the command line); ``None`` values count as not given.
    """
    values = {k: v for k, v in data.items() if k in LEGACY_KEYS and v is not None}
    kind = str(values.pop("feats_type", "fbank"))
    if kind not in ("fbank", "mfcc"):
        raise ConfigError(f"{_at(where)}feats_type must be fbank or mfcc, got {kind!r}")
    if isinstance(values.get("use_deltas"), str) and values["use_deltas"].strip().lower() in ("none", "null"):
        del values["use_deltas"]  # the old "deltas for mfcc only" default = the new defaults
    if kind == "fbank":
        for k in _KALDI_ONLY_MFCC:  # ignored by the old fbank code too
            values.pop(k, None)
    else:
        values.setdefault("num_mel_bins", FeatureConfig.num_mel_bins)  # the old default (80), not 23
    return kind, _make(kind, values, where)


def frontend_spec(data: Mapping[str, Any] | None, where: str = "") -> tuple[str, Any]:
    """``(frontend name, its validated config)`` of a feature config mapping, new or old form.

    Keys other than ``frontend``/``frontend_conf`` (or, in the old form, the old option names) are
    ignored, so a tool's whole YAML config can be passed. An empty mapping is the default fbank.

    Raises:
        ConfigError: naming ``where`` (a file) and the key, for an unknown frontend or option, a bad
            value, or a mapping that mixes both forms.
    """
    data = dict(data or {})
    if is_legacy(data):
        return legacy_spec(data, where)
    mixed = [k for k in LEGACY_KEYS if k in data]
    if mixed:
        raise ConfigError(f"{_at(where)}{mixed[0]!r} is an option of the old flat form; with 'frontend:' it "
                          "belongs under frontend_conf")
    name = str(data.get("frontend") or "fbank")
    conf = data.get("frontend_conf") or {}
    if isinstance(conf, str):
        try:
            conf = parse_conf_mapping(conf)
        except Exception as e:  # noqa: BLE001 - argparse.ArgumentTypeError: not a mapping
            raise ConfigError(f"{_at(where)}frontend_conf: {e}") from None
    if not isinstance(conf, Mapping):
        raise ConfigError(f"{_at(where)}frontend_conf must be a mapping of options, got {conf!r}")
    return name, _make(name, conf, where)


def frontend_from_dict(data: Mapping[str, Any] | None, where: str = "", **runtime: Any) -> Frontend:
    """The frontend a feature config mapping describes (``runtime``: ``device``, ``base_dir``)."""
    name, conf = frontend_spec(data, where)
    return _build(name, conf, where, runtime)


def frontend_from_yaml(path: str | Path, **runtime: Any) -> Frontend:
    """The frontend of a feature YAML file (``conf/fbank.yaml``, a dump's ``conf/*.yaml`` copy)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: cannot read the feature config ({e})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of feature options")
    # runtime base_dir: a relative SSL checkpoint in a copied config is found from the working
    # directory, else from there (the recipe directory of an experiment).
    return frontend_from_dict(data, str(path), **runtime)


def frontend_from_type_line(line: str, frame_shift: float) -> Frontend:
    """A frontend from a ``feats_type`` line (``fbank 80``, ``mfcc 39``) and the frame shift
    (seconds), every other option at the recipes' values (``conf/fbank.yaml`` / ``conf/mfcc.yaml``).

    Raises:
        ConfigError: for a line that names no Kaldi frontend (an ``ssl 768`` line does not say
            which model: the config copy is needed).
    """
    parts = line.split()
    try:
        kind, dim = parts[0], int(parts[1])
    except (IndexError, ValueError):
        raise ConfigError(f"cannot parse feats_type {line!r} (expected e.g. 'fbank 80')") from None
    shift_ms = round(frame_shift * 1000.0, 6)
    if kind == "fbank":
        return FRONTENDS.build("fbank", {"num_mel_bins": dim, "frame_shift": shift_ms})
    if kind == "mfcc":
        deltas = dim % 3 == 0 and dim // 3 <= 23
        return FRONTENDS.build("mfcc", {"num_mel_bins": 23, "num_ceps": dim // 3 if deltas else dim,
                                        "use_deltas": deltas, "frame_shift": shift_ms})
    if kind in FRONTENDS.names():
        raise ConfigError(f"feats_type {line!r} does not say how to rebuild the {kind} frontend (which model, "
                          "which layer): pass the feature config it was made with (--feats_config)")
    raise ConfigError(f"unknown feature type in feats_type {line!r}")


def _at(where: str) -> str:
    return f"{where}: " if where else ""


def _make(name: str, values: Mapping[str, Any], where: str) -> Any:
    try:
        return FRONTENDS.make_conf(name, values)
    except ConfigError as e:
        raise ConfigError(f"{_at(where)}{e}") from None


def _build(name: str, conf: Any, where: str, runtime: Mapping[str, Any]) -> Frontend:
    try:
        return FRONTENDS.build(name, conf, **runtime)
    except ConfigError as e:
        raise ConfigError(f"{_at(where)}{e}") from None
