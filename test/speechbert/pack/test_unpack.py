"""The packed-model reader: a verified archive becomes an experiment directory the decoders read;
damaged, incomplete, altered and too-new archives are refused with the member or versions named."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
import yaml

from speechbert.errors import ConfigError, DataError
from speechbert.pack.unpack import read_pack_meta, unpack_model
from speechbert.tasks.input_pipeline import InputPipeline


def rewrite(src: Path, dst: Path, edit=None, meta_edit=None, drop: str | None = None,
            add: tuple[str, bytes] | None = None) -> Path:
    """A copy of the archive ``src`` with a member changed (``edit(name, data)``), ``meta.yaml``
    changed (``meta_edit(meta)``), a member dropped or one added (each with a valid zip CRC)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename == drop:
                continue
            data = zin.read(info.filename)
            if info.filename == "meta.yaml" and meta_edit is not None:
                meta = yaml.safe_load(data)
                meta_edit(meta)
                data = yaml.safe_dump(meta).encode()
            elif edit is not None:
                data = edit(info.filename, data)
            zout.writestr(info, data)
        if add is not None:
            zout.writestr(*add)
    return dst


def test_unpacked_archive_is_an_experiment_with_the_recorded_inputs(system, tmp_path):
    u = unpack_model(system["zip"], tmp_path / "u")
    assert u.meta["format_version"] == 1 and read_pack_meta(system["zip"]) == u.meta
    pipeline = InputPipeline.from_exp(u.model_dir)
    s = pipeline.settings
    assert Path(s.cmvn) == tmp_path / "u" / "cmvn.ark" and Path(s.vocab) == tmp_path / "u" / "bert/vocab.txt"
    assert pipeline.cmvn_path() == tmp_path / "u" / "cmvn.ark"  # checksum as recorded at training
    assert pipeline.vocab_path().is_file()
    assert (u.aligner_dir / "aligner.yaml").is_file()
    assert (u.model_dir / "model.avg.pt").read_bytes() == (system["exp"] / "model.avg.pt").read_bytes()
    config = yaml.safe_load((u.model_dir / "config.yaml").read_text())
    assert Path(config["bert_dir"]) == tmp_path / "u" / "bert" and Path(config["train_dump"]).is_dir()


def test_the_rebuilt_model_has_the_trained_weights(system, tmp_path):
    import torch

    from speechbert.decode.span_qa import load_qa_model

    u = unpack_model(system["zip"], tmp_path / "u")
    model, _ = load_qa_model(u.model_dir, modality="audio")
    trained = torch.load(system["exp"] / "model.avg.pt", map_location="cpu", weights_only=True)
    state = model.state_dict()
    assert set(state) == set(trained)
    assert all(torch.equal(state[k], trained[k]) for k in trained)


def test_a_flipped_byte_is_an_error_naming_the_member(system, tmp_path):
    raw = bytearray(system["zip"].read_bytes())
    with zipfile.ZipFile(system["zip"]) as zf:
        info = zf.getinfo("aligner/aligner.pt")
    # the member's data starts after its local header (30 bytes, then its name and extra field)
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    raw[start + info.compress_size // 2] ^= 0x01
    bad = tmp_path / "flipped.zip"
    bad.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="damaged member aligner/aligner.pt"):
        unpack_model(bad, tmp_path / "u")


def test_a_member_with_other_bytes_than_meta_records_is_refused(system, tmp_path):
    def edit(name, data):
        return data.replace(b"boundary_end", b"boundary_beg") if name == "aligner/aligner.yaml" else data

    bad = rewrite(system["zip"], tmp_path / "altered.zip", edit=edit)
    with pytest.raises(DataError, match=r"member aligner/aligner.yaml: SHA-256 .* differs from meta.yaml"):
        unpack_model(bad, tmp_path / "u")


def test_a_too_new_format_names_both_versions(system, tmp_path):
    def newer(meta):
        meta["format_version"] = 2
        meta["written_by"]["speechbert"] = "9.0.0"

    bad = rewrite(system["zip"], tmp_path / "new.zip", meta_edit=newer)
    with pytest.raises(DataError) as e:
        unpack_model(bad, tmp_path / "u")
    msg = str(e.value)
    assert "pack format 2 (written by speechbert 9.0.0)" in msg and "reads pack format 1" in msg
    assert "install speechbert 9.0.0 or newer" in msg
    assert not (tmp_path / "u" / "model").exists()  # refused before extracting anything


def test_missing_and_unlisted_members_are_named(system, tmp_path):
    bad = rewrite(system["zip"], tmp_path / "missing.zip", drop="cmvn.ark")
    with pytest.raises(DataError, match="missing member cmvn.ark"):
        unpack_model(bad, tmp_path / "u1")
    bad = rewrite(system["zip"], tmp_path / "extra.zip", add=("extra.txt", b"x"))
    with pytest.raises(DataError, match="member extra.txt is not listed in meta.yaml"):
        unpack_model(bad, tmp_path / "u2")
    bad = rewrite(system["zip"], tmp_path / "slip.zip", add=("../evil.txt", b"x"))
    with pytest.raises(DataError, match="unsafe path"):
        unpack_model(bad, tmp_path / "u3")
    assert not (tmp_path / "evil.txt").exists()


def test_not_a_pack(system, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a zip archive"):
        read_pack_meta(junk)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("x.txt", "x")
    with pytest.raises(DataError, match="no meta.yaml: not a speechbert model pack"):
        read_pack_meta(other)
    with pytest.raises(ConfigError, match="no such model pack"):
        read_pack_meta(tmp_path / "none.zip")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ConfigError, match="must be empty"):
        unpack_model(system["zip"], tmp_path / "full")
