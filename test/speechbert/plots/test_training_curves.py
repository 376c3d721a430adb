"""Training curves: the files exist, are valid PNG/SVG with stable bytes, and show the metrics."""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from speechbert.errors import DataError
from speechbert.plots.training_curves import plot_after_training, plot_training_curves

RECORDS = [
    {"end_of_epoch": False, "epoch": 1, "step": 3, "lr": 0.001, "train.loss": 4.0, "valid.loss": 3.5,
     "valid.f1": 10.0, "valid.acc": 0.1},
    {"end_of_epoch": True, "epoch": 1, "step": 6, "lr": 0.0008, "train.loss": 3.0, "valid.loss": 3.0,
     "valid.f1": 20.0, "valid.acc": 0.2},
    {"end_of_epoch": True, "epoch": 2, "step": 12, "lr": 0.0002, "train.loss": 2.0, "valid.loss": 2.75,
     "valid.f1": float("nan"), "valid.acc": 0.3},
]


def write_metrics(exp, records=RECORDS):
    exp.mkdir(parents=True, exist_ok=True)
    # json writes NaN as NaN, like the trainer does for a non-finite metric
    (exp / "metrics.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    return exp


def test_files_are_valid_and_show_the_metrics(tmp_path):
    exp = write_metrics(tmp_path / "finetune")
    drawn = plot_training_curves(exp)
    assert drawn["loss"] == {"train.loss": ([3.0, 6.0, 12.0], [4.0, 3.0, 2.0]),
                             "valid.loss": ([3.0, 6.0, 12.0], [3.5, 3.0, 2.75])}
    # the NaN is left out, not drawn as a gap at step 12
    assert drawn["valid_metrics"] == {"valid.acc": ([3.0, 6.0, 12.0], [0.1, 0.2, 0.3]),
                                      "valid.f1": ([3.0, 6.0], [10.0, 20.0])}
    assert drawn["lr"] == {"lr": ([3.0, 6.0, 12.0], [0.001, 0.0008, 0.0002])}
    for name in ("loss", "valid_metrics", "lr"):
        png = exp / "plots" / f"{name}.png"
        with Image.open(png) as im:
            assert im.format == "PNG" and im.size[0] >= 400
        root = ET.parse(exp / "plots" / f"{name}.svg").getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert sorted(p.name for p in (exp / "plots").iterdir()) == [
        "loss.png", "loss.svg", "lr.png", "lr.svg", "valid_metrics.png", "valid_metrics.svg"]


def test_same_metrics_same_bytes(tmp_path):
    a = plot_training_curves(write_metrics(tmp_path / "a" / "x"))
    b = plot_training_curves(write_metrics(tmp_path / "b" / "x"))
    assert a == b
    for name in ("loss.png", "loss.svg", "lr.svg"):
        assert (tmp_path / "a/x/plots" / name).read_bytes() == (tmp_path / "b/x/plots" / name).read_bytes()


def test_without_validation_or_lr_only_the_loss(tmp_path):
    exp = write_metrics(tmp_path / "x", [{"epoch": 1, "step": 5, "end_of_epoch": True, "train.loss": 1.5}])
    drawn = plot_training_curves(exp)
    assert drawn == {"loss": {"train.loss": ([5.0], [1.5])}}
    assert sorted(p.name for p in (exp / "plots").iterdir()) == ["loss.png", "loss.svg"]


def test_bad_record_names_file_and_line(tmp_path):
    exp = tmp_path / "x"
    exp.mkdir()
    (exp / "metrics.jsonl").write_text('{"step": 1, "train.loss": 1}\n{"epoch": 1}\n')
    with pytest.raises(DataError, match=r"metrics.jsonl:2: .*'step'"):
        plot_training_curves(exp)


def test_failure_after_training_is_only_a_warning(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    plot_after_training(tmp_path / "missing")  # no metrics.jsonl: must not raise
    assert any(r.levelno == logging.WARNING and "plot_training --exp_dir" in r.getMessage() for r in caplog.records)


def test_importing_the_plots_does_not_import_matplotlib():
    import subprocess
    import sys

    code = ("import sys, speechbert.plots.training_curves, speechbert.plots.alignment_plots; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
