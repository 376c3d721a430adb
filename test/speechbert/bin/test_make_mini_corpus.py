"""Tests for python -m speechbert.bin.make_mini_corpus."""

from __future__ import annotations

import json

from speechbert.bin.make_mini_corpus import main


def test_writes_squad_layout(tmp_path, capsys):
    assert main(["--out_dir", str(tmp_path), "--size", "0.1", "--seed", "2"]) == 0
    train = json.loads((tmp_path / "train-v1.1.json").read_text())
    test = json.loads((tmp_path / "dev-v1.1.json").read_text())
    n_train = sum(len(a["paragraphs"]) for a in train["data"])
    assert n_train == 20 + 10  # train passages, then the dev passages
    assert sum(len(a["paragraphs"]) for a in test["data"]) == 21
    assert (tmp_path / "dev_paragraphs").read_text() == "10\n"
    assert [a["title"] for a in train["data"]] == ["mini_train_0", "mini_train_1", "mini_dev_0"]
    assert main(["--out_dir", str(tmp_path), "--size", "0"]) == 1
    assert "--size must be positive" in capsys.readouterr().err
