"""Tests for python -m speechbert.bin.prepare_spoken_squad (the importer itself is tested in
test/speechbert/corpora)."""

from __future__ import annotations

import json

from speechbert.bin.prepare_spoken_squad import main
from speechbert.bin.synthesize_squad import main as synthesize
from speechbert.io.sqa_data import load_sqa_set

DOC = {"version": "1.1", "data": [{"title": "T", "paragraphs": [
    {"context": f"Town {name} has {n} bridges. It is old.",
     "qas": [{"id": f"q{n}", "question": f"How many bridges does {name} have?",
              "answers": [{"answer_start": 6 + len(name) + 5, "text": str(n)}]}]}
    for name, n in (("Alba", 3), ("Brill", 7))]}]}


def test_cli(tmp_path, capsys):
    src = tmp_path / "train-v1.1.json"
    src.write_text(json.dumps(DOC))
    for split in ("train", "test"):
        assert synthesize(["--squad_json", str(src), "--out_dir", str(tmp_path / "rel"), "--split", split]) == 0
    data = tmp_path / "data"
    assert main(["--spoken_squad_root", str(tmp_path / "rel"), "--data_dir", str(data), "--dev_size", "1"]) == 0
    assert sorted(p.name for p in data.iterdir()) == ["dev", "test", "train"]
    train = load_sqa_set(data / "train")
    assert train.questions[0]["answers"] == [{"text": "three", "char_start": 14}]
    assert main(["--spoken_squad_root", str(tmp_path / "none"), "--data_dir", str(data)]) == 1
    assert "none: no such directory" in capsys.readouterr().err
    assert main(["--spoken_squad_root", str(tmp_path / "rel"), "--max_loss_ratio", "2"]) == 1
