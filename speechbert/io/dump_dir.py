"""The facts a feature dump directory (``dump/<set>``, made by stage 2) states about itself.

A dump dir holds ``feats.scp`` and its archives, and the files that say what they are:
``feats_type`` (``<frontend> <dim>``: ``fbank 80``, ``mfcc 39``, ``ssl 768``), ``frame_shift``
(seconds) and ``conf/<config>.yaml``, the copy of the feature config they were made with
(``frontend: <name>`` + ``frontend_conf: {...}``, or the older flat ``feats_type: fbank`` form;
``speechbert.audio.frontends.frontend_from_dict`` reads both). Every reader of those facts (the
input pipeline, the aligner's feature check, decoding from a dump) goes through this module, and
so does the one writer of ``feats_type`` and ``frame_shift``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open


def write_feature_info(dump_dir: str | Path, feats_type_line: str, frame_shift: float) -> None:
    """Write ``<dump>/feats_type`` (``fbank 80``) and ``<dump>/frame_shift`` (seconds, ``%g``)."""
    parts = feats_type_line.split()
    if len(parts) != 2 or not parts[1].isdigit():
        raise ValueError(f"a feats_type line is '<frontend> <dim>', got {feats_type_line!r}")
    with atomic_open(Path(dump_dir) / "feats_type") as f:
        f.write(feats_type_line + "\n")
    with atomic_open(Path(dump_dir) / "frame_shift") as f:
        f.write(f"{frame_shift:g}\n")


def read_frame_shift(dump_dir: str | Path, default: float = 0.01) -> float:
    """The frame shift in seconds from ``<dump>/frame_shift`` (``default`` if absent).

    Raises:
        DataError: naming the file when it does not hold one plausible number (0 < shift < 1 s).
    """
    path = Path(dump_dir) / "frame_shift"
    if not path.is_file():
        return default
    try:
        shift = float(path.read_text(encoding="utf-8").split()[0])
    except (ValueError, IndexError):
        raise DataError("expected one number (seconds)", path, 1) from None
    if not 0 < shift < 1:
        raise DataError(f"implausible frame shift {shift} (expected seconds, 0 < shift < 1)", path, 1)
    return shift


def read_dump_facts(dump_dir: str | Path) -> dict[str, Any]:
    """``feats_type``, ``feat_dim``, ``frame_shift``, ``feats_config`` and ``feats_config_file``.

    Missing files give ``None`` for their fact (older dumps); the dimension comes from the
    ``feats_type`` line (``fbank 80``; 1 for ``units K``) when it has one; ``feats_config`` is the parsed copy of
    the feature config when the dump holds exactly one.
    """
    dump = Path(dump_dir)
    ft_path = dump / "feats_type"
    feats_type = ft_path.read_text(encoding="utf-8").strip() if ft_path.is_file() else None
    feat_dim = None
    if feats_type:
        parts = feats_type.split()
        if len(parts) >= 2 and parts[1].isdigit():
            # "units K": K is the number of units; each frame is one id, a 1-dim matrix
            feat_dim = 1 if parts[0] == "units" else int(parts[1])
    shift = read_frame_shift(dump, default=0.0) if (dump / "frame_shift").is_file() else None
    config = None
    confs = sorted((dump / "conf").glob("*.yaml")) if (dump / "conf").is_dir() else []
    if len(confs) == 1:
        try:
            config = yaml.safe_load(confs[0].read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise DataError(f"cannot parse the feature config copy ({e})", confs[0]) from None
        if not isinstance(config, dict):
            raise DataError("expected a mapping of feature options", confs[0])
    return {"feats_type": feats_type, "feat_dim": feat_dim, "frame_shift": shift, "feats_config": config,
            "feats_config_file": confs[0].name if len(confs) == 1 else None}


def feature_origin(dump_dir: str | Path | None) -> str:
    """`` (made with <config>)`` for a dump dir that has its feature config copy, else ``""``.

    For error messages: it never raises, so a broken dump still gets its message.
    """
    if dump_dir is None:
        return ""
    confs = sorted(p.name for p in (Path(dump_dir) / "conf").glob("*.yaml")) \
        if (Path(dump_dir) / "conf").is_dir() else []
    return f" (made with {confs[0]})" if len(confs) == 1 else ""
