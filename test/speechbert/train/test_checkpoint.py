"""checkpoint.pt: atomic writes with a previous copy, damaged files, RNG state round trip."""

from __future__ import annotations

import errno
import io
import os
import random

import numpy as np
import pytest
import torch

from speechbert.train.checkpoint import (get_rng_state, load_resume_checkpoint, previous_path, read_checkpoint,
                                         save_checkpoint, set_rng_state)
from speechbert.errors import SpeechbertError, WriteError
from speechbert.train.errors import TrainingError


def test_save_keeps_previous_and_loads_weights_only(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"step": 1, "model": {"w": torch.ones(2)}}, path)
    assert not previous_path(path).exists()
    save_checkpoint({"step": 2, "model": {"w": torch.zeros(2)}}, path)
    assert read_checkpoint(path)["step"] == 2
    assert read_checkpoint(previous_path(path))["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.prev.pt", "checkpoint.pt"]


def test_failed_save_leaves_both_files(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"step": 1}, path)
    save_checkpoint({"step": 2}, path)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        save_checkpoint({"step": 3, "bad": Unpicklable()}, path)
    assert read_checkpoint(path)["step"] == 2
    assert read_checkpoint(previous_path(path))["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.prev.pt", "checkpoint.pt"]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_checkpoint_falls_back_to_previous(tmp_path, damage):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"step": 1, "model": {"w": torch.arange(1000.0)}}, path)
    save_checkpoint({"step": 2, "model": {"w": torch.arange(1000.0)}}, path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00junk" * 50, "empty": b""}[damage])
    with pytest.raises(TrainingError, match="checkpoint.pt: cannot read checkpoint"):
        read_checkpoint(path)
    prev_bytes = previous_path(path).read_bytes()
    state = load_resume_checkpoint(path)
    assert state["step"] == 1
    assert previous_path(path).read_bytes() == prev_bytes
    assert (tmp_path / "checkpoint.pt.corrupt").exists() and not path.exists()
    # the next save must not turn the damaged file into the previous copy
    save_checkpoint({"step": 3}, path)
    assert read_checkpoint(previous_path(path))["step"] == 1


def test_damaged_without_usable_previous_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(TrainingError, match=r"checkpoint\.pt: cannot read.*no previous checkpoint"):
        load_resume_checkpoint(path)
    assert path.read_bytes() == b"not a checkpoint"
    previous_path(path).write_bytes(b"also bad")
    with pytest.raises(TrainingError, match=r"checkpoint\.prev\.pt: cannot read"):
        load_resume_checkpoint(path)
    assert path.exists() and previous_path(path).read_bytes() == b"also bad"


def test_foreign_file_is_rejected(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"w": torch.ones(1)}, path)
    with pytest.raises(TrainingError, match="not a speechbert trainer checkpoint"):
        read_checkpoint(path)
    assert load_resume_checkpoint(tmp_path / "none.pt") is None


def test_rng_state_round_trip_through_a_weights_only_file(tmp_path):
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"rng": get_rng_state()}, path)
    expected = (random.random(), np.random.rand(), torch.rand(3))
    random.seed(99)
    np.random.seed(99)
    torch.manual_seed(99)
    set_rng_state(read_checkpoint(path)["rng"])
    got = (random.random(), np.random.rand(), torch.rand(3))
    assert got[0] == expected[0] and got[1] == expected[1] and torch.equal(got[2], expected[2])


def test_the_fallback_says_where_it_resumed_from(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"step": 1}, path)
    save_checkpoint({"step": 2}, path)
    assert load_resume_checkpoint(path)["loaded_from"] == str(path)
    path.write_bytes(b"\x00junk")
    assert load_resume_checkpoint(path)["loaded_from"] == str(previous_path(path))


def test_a_pickle_of_other_objects_is_not_a_checkpoint_and_never_unpickled(tmp_path):
    import argparse

    path = tmp_path / "checkpoint.pt"
    torch.save({"args": argparse.Namespace(lr=1.0)}, path)  # a class weights_only refuses
    with pytest.raises(TrainingError) as err:
        read_checkpoint(path)
    assert "not a speechbert trainer checkpoint" in str(err.value) and "argparse.Namespace" in str(err.value)
    assert "weights_only" not in str(err.value)
    path.write_bytes(b"\x00junk" * 50)  # a damaged file: no unsafe advice either
    with pytest.raises(TrainingError, match="cannot read checkpoint") as err:
        read_checkpoint(path)
    assert "weights_only" not in str(err.value)


def test_disk_full_names_the_checkpoint_and_keeps_the_old_ones(tmp_path, monkeypatch):
    path = tmp_path / "exp" / "x" / "checkpoint.pt"
    save_checkpoint({"step": 1}, path)
    save_checkpoint({"step": 2}, path)
    real_fdopen = os.fdopen

    class FullDisk(io.FileIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def full_fdopen(fd, mode="r", *args, **kwargs):
        if "w" not in mode:
            return real_fdopen(fd, mode, *args, **kwargs)
        return io.BufferedWriter(FullDisk(fd, "w", closefd=True))

    monkeypatch.setattr(os, "fdopen", full_fdopen)
    with pytest.raises(WriteError) as info:
        save_checkpoint({"step": 3, "model": {"w": torch.ones(1000)}}, path)
    monkeypatch.undo()
    assert str(info.value) == f"cannot write {path}: No space left on device"
    assert isinstance(info.value, SpeechbertError)
    assert read_checkpoint(path)["step"] == 2
    assert read_checkpoint(previous_path(path))["step"] == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["checkpoint.prev.pt", "checkpoint.pt"]


def test_a_checkpoint_directory_that_cannot_be_made_is_named(tmp_path):
    (tmp_path / "exp").write_text("")
    with pytest.raises(WriteError, match=f"^cannot write {tmp_path}/exp/x/checkpoint.pt: "):
        save_checkpoint({"step": 1}, tmp_path / "exp" / "x" / "checkpoint.pt")
