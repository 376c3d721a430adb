"""Read a packed model: verify the archive, extract it and lay out an experiment directory.

The checks come before anything is loaded: ``meta.yaml`` must name this format and a version
this code reads (else the message names the archive's format and speechbert versions and which
versions read it); every member must be listed in ``meta.yaml`` with its SHA-256 and every
listed member must be there with those bytes (else the message names the member).

The extracted archive is then turned into what the decoding code already reads, so answering
from a packed model takes the same path as answering from ``exp/``: ``<dest>/run/`` holds the
model's ``config.yaml`` and ``inputs.yaml`` with the archive-relative paths made absolute (the
recorded checksums unchanged, checked again by :class:`~speechbert.tasks.input_pipeline.InputPipeline`)
and the model file; ``<dest>/bert/model.safetensors`` holds the model's encoder in Hugging Face
names for the model builder (:mod:`speechbert.pack.bert_export`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from speechbert.errors import ConfigError, DataError
from speechbert.io.atomic import atomic_open
from speechbert.pack import layout as L

logger = logging.getLogger(__name__)

#: The experiment directory laid out from the archive, under the unpack directory.
RUN_DIR = "run"


@dataclass
class UnpackedModel:
    """A verified, extracted packed model."""

    archive: Path
    root: Path
    meta: dict[str, Any]

    @property
    def model_dir(self) -> Path:
        """The experiment directory to decode with (``config.yaml``, ``inputs.yaml``, model file)."""
        return self.root / RUN_DIR

    @property
    def aligner_dir(self) -> Path:
        """The packed CTC aligner's directory."""
        return self.root / L.ALIGNER_DIR


def read_pack_meta(archive: str | Path) -> dict[str, Any]:
    """The checked ``meta.yaml`` of an archive.

    Raises:
        ConfigError: for a missing file.
        DataError: naming the archive when it is not a zip file, has no ``meta.yaml``, is not a
            speechbert model pack, or has a format version this code does not read.
    """
    archive = Path(archive)
    with _open_zip(archive) as zf:
        return _checked_meta(archive, zf)


def unpack_model(archive: str | Path, dest: str | Path) -> UnpackedModel:
    """Verify ``archive`` and extract it into the (empty or new) directory ``dest``.

    Raises:
        DataError: as :func:`read_pack_meta`, and naming the member for a member that is
            missing, not listed in ``meta.yaml``, unsafe to extract, damaged or with other bytes
            than ``meta.yaml`` records.
        ConfigError: when ``dest`` is not empty.
    """
    # Absolute: run/ refers to the members by absolute paths (and a symbolic link).
    archive, dest = Path(archive), Path(dest).resolve()
    if dest.exists() and any(dest.iterdir()):
        raise ConfigError(f"{dest}: the unpack directory must be empty")
    dest.mkdir(parents=True, exist_ok=True)
    with _open_zip(archive) as zf:
        meta = _checked_meta(archive, zf)
        listed = meta["members"]
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        for name in names:
            _check_member_name(archive, name)
        present = set(names) - {L.META_FILE}
        missing = sorted(set(listed) - present)
        if missing:
            raise DataError(f"missing member {missing[0]} (listed in {L.META_FILE}): incomplete archive", archive)
        extra = sorted(present - set(listed))
        if extra:
            raise DataError(f"member {extra[0]} is not listed in {L.META_FILE}: not written by pack_model, or altered",
                            archive)
        required = [n for n in L.REQUIRED_MEMBERS if n not in listed]
        if required:
            raise DataError(f"missing member {required[0]}: every pack format {L.FORMAT_VERSION} archive has it",
                            archive)
        for name in sorted(present):
            _extract(archive, zf, name, dest, listed[name])
        (dest / L.META_FILE).write_bytes(zf.read(L.META_FILE))
    unpacked = UnpackedModel(archive, dest, meta)
    _lay_out_run_dir(unpacked)
    logger.info("verified and unpacked %s (pack format %s, speechbert %s) into %s", archive,
                meta["format_version"], meta.get("written_by", {}).get("speechbert"), dest)
    return unpacked


# ------------------------------------------------------------------------------------ checks


def _open_zip(archive: Path) -> zipfile.ZipFile:
    if not archive.is_file():
        raise ConfigError(f"{archive}: no such model pack")
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(f"not a zip archive, or damaged/truncated ({e})", archive) from None


def _checked_meta(archive: Path, zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        raw = zf.read(L.META_FILE)
    except KeyError:
        raise DataError(f"no {L.META_FILE}: not a speechbert model pack", archive) from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise DataError(f"damaged member {L.META_FILE} ({e})", archive) from None
    try:
        meta = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as e:
        raise DataError(f"{L.META_FILE} cannot be parsed ({e})", archive) from None
    if not isinstance(meta, dict) or meta.get("format") != L.FORMAT_NAME:
        raise DataError(f"{L.META_FILE} does not say format: {L.FORMAT_NAME}: not a speechbert model pack", archive)
    version = meta.get("format_version")
    writer = (meta.get("written_by") or {}).get("speechbert", "unknown")
    readable = ", ".join(str(v) for v in L.READABLE_FORMATS)
    if not isinstance(version, int) or isinstance(version, bool):
        raise DataError(f"{L.META_FILE}: format_version must be an integer, got {version!r}", archive)
    if version not in L.READABLE_FORMATS:
        import speechbert

        if version > max(L.READABLE_FORMATS):
            hint = f"install speechbert {writer} or newer (which wrote it) to read it"
        else:
            hint = f"repack it from its experiment directory with this speechbert, or use speechbert {writer}"
        raise DataError(f"pack format {version} (written by speechbert {writer}); this speechbert "
                        f"{speechbert.__version__} reads pack format {readable}: {hint}", archive)
    members = meta.get("members")
    if not isinstance(members, dict) or not all(isinstance(v, dict) and "sha256" in v for v in members.values()):
        raise DataError(f"{L.META_FILE}: 'members' must map every file to its sha256", archive)
    return meta


def _check_member_name(archive: Path, name: str) -> None:
    """Refuse names that would land outside the unpack directory."""
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or "\\" in name or not p.parts:
        raise DataError(f"member {name!r} has an unsafe path", archive)


def _extract(archive: Path, zf: zipfile.ZipFile, name: str, dest: Path, want: dict[str, Any]) -> None:
    target = dest.joinpath(*PurePosixPath(name).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    h, size = hashlib.sha256(), 0
    try:
        with zf.open(name) as src, open(target, "wb") as out:
            for block in iter(lambda: src.read(1 << 20), b""):
                h.update(block)
                size += len(block)
                out.write(block)
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise DataError(f"damaged member {name} ({e})", archive) from None
    if h.hexdigest() != want["sha256"] or ("bytes" in want and size != want["bytes"]):
        raise DataError(f"member {name}: SHA-256 {h.hexdigest()[:12]}… differs from {L.META_FILE}'s "
                        f"{str(want['sha256'])[:12]}… (damaged or altered archive)", archive)


# ------------------------------------------------------------------------------ run directory


def _lay_out_run_dir(unpacked: UnpackedModel) -> None:
    """``run/``: the model's config and input record with absolute paths into the unpack directory,
    and the model file; ``bert/model.safetensors`` for the model builder."""
    from speechbert.pack.bert_export import write_hf_weights
    from speechbert.tasks.input_pipeline import read_input_settings, write_input_settings
    from speechbert.train.average import load_state_dict

    root = unpacked.root
    model_dir = root / L.MODEL_DIR
    settings = read_input_settings(model_dir)  # refuses a newer input record with its own message

    def inside(value: str | None, what: str) -> str | None:
        if value is None:
            return None
        p = PurePosixPath(value)
        if p.is_absolute() or ".." in p.parts or not (root / value).exists():
            raise DataError(f"{L.INPUTS_FILE} names {what} {value!r}, which is not a member of the archive",
                            unpacked.archive)
        return str(root / value)

    run = root / RUN_DIR
    run.mkdir()
    write_input_settings(run, dataclasses.replace(
        settings, cmvn=inside(settings.cmvn, "the CMVN"), vocab=inside(settings.vocab, "the vocabulary"),
        train_dump=inside(settings.train_dump, "the feature facts")))
    config = yaml.safe_load((model_dir / L.CONFIG_FILE).read_text(encoding="utf-8")) or {}
    for key in ("bert_dir", "train_dump", "cmvn"):
        if config.get(key):
            config[key] = inside(str(config[key]), key)
    with atomic_open(run / L.CONFIG_FILE) as f:
        yaml.safe_dump(config, f, sort_keys=True, default_flow_style=False, allow_unicode=True)
    model_file = model_dir / L.MODEL_FILE
    try:
        os.symlink(model_file, run / L.MODEL_FILE)
    except OSError:  # a file system without symbolic links
        shutil.copyfile(model_file, run / L.MODEL_FILE)
    write_hf_weights(load_state_dict(model_file), root / L.BERT_DIR, source=model_file)
