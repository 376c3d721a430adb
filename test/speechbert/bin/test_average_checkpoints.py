"""average_checkpoints: the mean of known state dicts, best-N by metric, last-N, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from speechbert.bin.average_checkpoints import main
from speechbert.errors import DataError
from speechbert.train.average import average_state_dicts, select_snapshots


def _snapshots(tmp_path, losses):
    paths = []
    for epoch, loss in enumerate(losses, 1):
        path = tmp_path / f"snapshot.ep.{epoch}"
        torch.save({"w": torch.full((2, 3), float(epoch)), "b": torch.tensor([epoch, -epoch], dtype=torch.float16),
                    "count": torch.tensor(epoch * 10)}, path)
        paths.append(path)
    with open(tmp_path / "metrics.jsonl", "w") as f:
        for epoch, loss in enumerate(losses, 1):
            f.write(json.dumps({"epoch": epoch, "step": epoch * 5, "end_of_epoch": False, "valid.loss": 99.0}) + "\n")
            f.write(json.dumps({"epoch": epoch, "step": epoch * 10, "end_of_epoch": True, "valid.loss": loss,
                                "valid.f1": -loss}) + "\n")
    return paths


def test_average_of_two_state_dicts_is_their_mean(tmp_path):
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    torch.save({"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)}, a)
    torch.save({"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(5)}, b)
    avg = average_state_dicts([a, b])
    assert torch.equal(avg["w"], torch.tensor([2.0, 4.0]))
    assert avg["n"].item() == 5  # integer counters come from the last file


def test_cli_best_n_by_metric(tmp_path):
    paths = _snapshots(tmp_path, [0.9, 0.3, 0.5, 0.7])
    out = tmp_path / "model.avg.pt"
    assert main(["--snapshots", *map(str, paths), "--out", str(out), "--num", "2", "--metric", "valid.loss"]) == 0
    avg = torch.load(out, weights_only=True)
    assert torch.equal(avg["w"], torch.full((2, 3), 2.5))  # epochs 2 and 3
    assert avg["b"].dtype == torch.float16 and avg["b"].tolist() == [2.5, -2.5]
    assert select_snapshots(paths, 1, "valid.f1", "max") == [paths[1]]
    assert select_snapshots(paths, 3, "valid.loss", "max") == [paths[0], paths[2], paths[3]]


def test_cli_last_n_as_a_module(tmp_path):
    paths = _snapshots(tmp_path, [0.9, 0.3, 0.5, 0.7])
    out = tmp_path / "last.pt"
    proc = subprocess.run([sys.executable, "-m", "speechbert.bin.average_checkpoints", "--snapshots",
                           *map(str, reversed(paths)), "--out", str(out), "--num", "3"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert torch.equal(torch.load(out, weights_only=True)["w"], torch.full((2, 3), 3.0))  # epochs 2, 3, 4
    assert "snapshot.ep.2, snapshot.ep.3, snapshot.ep.4" in proc.stderr


def test_errors_name_the_problem(tmp_path, capsys):
    paths = _snapshots(tmp_path, [0.9, 0.3])
    with pytest.raises(DataError, match="no snapshot has a value for metric 'valid.acc'.*valid.f1, valid.loss"):
        select_snapshots(paths, 1, "valid.acc")
    torch.save({"w": torch.zeros(3), "b": torch.zeros(2), "count": torch.tensor(1)}, paths[1])
    assert main(["--snapshots", *map(str, paths), "--out", str(tmp_path / "x.pt")]) == 1
    assert "snapshot.ep.2: w: shape (3,) differs" in capsys.readouterr().err
    paths[1].write_bytes(b"junk")
    assert main(["--snapshots", *map(str, paths), "--out", str(tmp_path / "x.pt")]) == 1
    assert "snapshot.ep.2: cannot read model file" in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()
    assert main(["--snapshots", str(tmp_path / "model.pt"), "--out", str(tmp_path / "x.pt")]) == 1
    assert "not a snapshot file name" in capsys.readouterr().err


def test_an_average_written_elsewhere_takes_the_run_records_along(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    paths = _snapshots(run, [3.0, 1.0])
    (run / "config.yaml").write_text("lr: 0.1\n")
    (run / "inputs.yaml").write_text("modality: audio\nframe_pooling: 3\n")
    out = tmp_path / "packed" / "model.avg.pt"
    out.parent.mkdir()
    assert main(["--snapshots", *map(str, paths), "--out", str(out)]) == 0
    assert (out.parent / "inputs.yaml").read_text() == "modality: audio\nframe_pooling: 3\n"
    assert (out.parent / "config.yaml").read_text() == "lr: 0.1\n"
    # a directory that already describes another model is not overwritten, nor is its model file
    (run / "inputs.yaml").write_text("modality: audio\nframe_pooling: 1\n")
    before = out.read_bytes()
    torch.save({"w": torch.full((2, 3), 100.0), "b": torch.tensor([1, -1], dtype=torch.float16),
                "count": torch.tensor(10)}, paths[0])  # an average now would change the model file
    assert main(["--snapshots", *map(str, paths), "--out", str(out)]) == 1
    assert "frame_pooling: 3" in (out.parent / "inputs.yaml").read_text() and out.read_bytes() == before


def test_a_foreign_pickle_is_refused_without_unsafe_advice(tmp_path):
    import argparse

    from speechbert.train.average import load_state_dict

    path = tmp_path / "model.pt"
    torch.save({"w": argparse.Namespace(x=1)}, path)
    with pytest.raises(DataError) as err:
        load_state_dict(path)
    assert "argparse.Namespace" in str(err.value) and "weights_only" not in str(err.value)
