"""speechbert.bin.plot_training: redraw an experiment's curves; errors name the file."""

import json

from speechbert.bin import plot_training


def test_redraws_into_the_exp_dir(tmp_path):
    exp = tmp_path / "exp" / "pretrain"
    exp.mkdir(parents=True)
    (exp / "metrics.jsonl").write_text(json.dumps({"epoch": 1, "step": 4, "end_of_epoch": True, "lr": 1e-3,
                                                   "train.loss": 2.0, "valid.loss": 1.5, "valid.acc": 0.25}) + "\n")
    assert plot_training.main(["--exp_dir", str(exp)]) == 0
    assert sorted(p.name for p in (exp / "plots").iterdir()) == [
        "loss.png", "loss.svg", "lr.png", "lr.svg", "valid_metrics.png", "valid_metrics.svg"]
    assert plot_training.main(["--exp_dir", str(exp), "--out_dir", str(tmp_path / "elsewhere")]) == 0
    assert (tmp_path / "elsewhere" / "loss.svg").is_file()


def test_missing_metrics_is_an_error(tmp_path, capsys):
    assert plot_training.main(["--exp_dir", str(tmp_path)]) == 1
    assert "metrics.jsonl: no such file" in capsys.readouterr().err
