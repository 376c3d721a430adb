"""Assign every frame of a feature dump to its unit; write the unit table and a dump view of it.

The output directory is a dump dir like the feature stage's, so the existing readers take it:

- ``units`` -- Kaldi text table, ``<utt> <unit> <unit> ...``, one 0-based unit id per frame;
- ``feats.ark`` / ``feats.scp`` -- per utterance a ``(frames, 1)`` float32 matrix holding the
  unit ids (exact as floats below 2^24), the scp naming the archive by absolute path as
  ``steps/make_feats.sh`` does;
- ``utt2num_frames``, ``feats_type`` (``units <K>``), ``frame_shift`` (the source dump's, or
  the default every reader assumes when it states none);
- ``conf/units.yaml`` -- which codebook (path and sha256) and which source features made it: a
  dump dir's one ``conf/*.yaml`` is its feature config, so units of another codebook are told
  apart from these like features of another config.

One id per frame, no run-length deduplication: the unit sequence stays frame-aligned with the
source features, so word segments (frame ranges from the alignment) cut it as they cut those.

Outputs appear only when the whole dump is assigned: each file is written under a temporary
name and renamed.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

from speechbert.errors import ConfigError, DataError
from speechbert.io.atomic import atomic_open, atomic_path
from speechbert.io.dump_dir import read_frame_shift, write_feature_info
from speechbert.io.feats import ArkWriter, FeatsReader
from speechbert.io.kaldi_table import write_table
from speechbert.progress import Progress
from speechbert.units.codebook import Codebook

logger = logging.getLogger(__name__)

UNITS_CONF = "units.yaml"


@dataclass
class UnitDumpSummary:
    """What :func:`write_unit_dump` wrote."""

    num_utts: int
    num_frames: int
    unit_counts: np.ndarray  # (num_units,) frames per unit

    @property
    def units_used(self) -> int:
        """Units that at least one frame got."""
        return int((self.unit_counts > 0).sum())


def feats_type_line(num_units: int) -> str:
    """The ``feats_type`` line of a unit dump: ``units <K>``."""
    return f"units {num_units}"


def write_unit_dump(reader: FeatsReader, codebook: Codebook, out_dir: str | Path,
                    source_facts: Mapping[str, Any]) -> UnitDumpSummary:
    """Assign the frames of every utterance of ``reader`` and write the unit dump ``out_dir``.

    ``source_facts`` are the source dump's (:func:`speechbert.io.dump_dir.read_dump_facts`);
    call :meth:`Codebook.check_fits` with them first.

    Raises:
        ConfigError: if ``out_dir`` is the source dump's directory.
        DataError: naming the feats.scp and the utterance for features with NaN/Inf, of another
            dimension, or without frames; or for an empty feats.scp.
    """
    where = reader.feats_scp
    out = Path(out_dir)
    if out.resolve() == Path(where).resolve().parent:
        # it would overwrite the features it reads
        raise ConfigError(f"the unit dump {out} cannot be the dump of its source features {where}")
    if len(reader) == 0:
        raise DataError("no utterances to assign units to", where)
    ark = out / "feats.ark"
    units: list[tuple[str, str]] = []
    lengths: list[tuple[str, str]] = []
    counts = np.zeros(codebook.num_units, dtype=np.int64)
    with atomic_path(ark) as tmp_ark:
        with ArkWriter(tmp_ark, os.path.abspath(ark)) as writer:
            progress = Progress(len(reader), f"units of {out}", log=logger)
            for utt, feats in reader.items():
                if feats.shape[1] != codebook.dim:
                    raise DataError(f"feature dimension {feats.shape[1]} differs from the codebook's {codebook.dim}",
                                    where, key=utt)
                if feats.shape[0] == 0:
                    raise DataError("utterance has no frames", where, key=utt)
                if not np.isfinite(feats).all():
                    raise DataError("features contain NaN/Inf", where, key=utt)
                labels = codebook.assign(feats)
                writer.write(utt, labels.astype(np.float32)[:, None])
                units.append((utt, " ".join(map(str, labels.tolist()))))
                lengths.append((utt, str(len(labels))))
                counts += np.bincount(labels, minlength=codebook.num_units)
                progress.update()
            progress.close()
    # The archive is in place; the files that point into it and describe it follow.
    with atomic_open(out / "feats.scp") as f:
        f.writelines(writer.scp_lines)
    write_table(out / "units", units)
    write_table(out / "utt2num_frames", lengths)
    shift = source_facts.get("frame_shift")
    if not shift:
        shift = read_frame_shift(Path(where).parent)  # what every reader of the source dump assumes
        logger.warning("the source dump of %s states no frame_shift: %s gets the default %g s", where, out, shift)
    write_feature_info(out, feats_type_line(codebook.num_units), float(shift))
    with atomic_open(out / "conf" / UNITS_CONF) as f:
        yaml.safe_dump(units_config(codebook, source_facts), f, sort_keys=True, default_flow_style=False)
    return UnitDumpSummary(num_utts=len(units), num_frames=int(counts.sum()), unit_counts=counts)


def units_config(codebook: Codebook, source_facts: Mapping[str, Any]) -> dict[str, Any]:
    """The record of ``conf/units.yaml``: the codebook and the source features behind a unit dump."""
    sha = None
    if codebook.path and Path(codebook.path).is_file():
        sha = hashlib.sha256(Path(codebook.path).read_bytes()).hexdigest()
    return {"num_units": codebook.num_units, "codebook": codebook.path, "codebook_sha256": sha,
            "normalize": codebook.normalize, "source_feats_type": source_facts.get("feats_type"),
            "source_frame_shift": source_facts.get("frame_shift"),
            "source_feats_config": source_facts.get("feats_config")}
