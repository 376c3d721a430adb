"""Tests for python -m speechbert.bin.prepare_spoken_squad (the importer itself is tested in
test/speechbert/corpora)."""

from __future__ import annotations

import json

from speechbert.bin.prepare_spoken_squad import main
from speechbert.bin.synthesize_squad import main as synthesize
from speechbert.io.sqa_data import load_sqa_set

MANNING = "Dr. Peyton Manning's team won."
DOC = {"version": "1.1", "data": [{"title": "T", "paragraphs": [
    *({"context": f"Town {name} has {n} bridges. It is old.",
       "qas": [{"id": f"q{n}", "question": f"How many bridges does {name} have?",
                "answers": [{"answer_start": 6 + len(name) + 5, "text": str(n)}]}]}
      for name, n in (("Alba", 3), ("Brill", 7))),
    # the release splits at ". ": "Dr." is a wav of its own; "Rome" is not in the passage, so the
    # synthesizer drops that question (and lists it)
    {"context": MANNING, "qas": [
        {"id": "m1", "question": "Whose team won?", "answers": [{"answer_start": 4, "text": "Peyton Manning"}]},
        {"id": "x1", "question": "Where?", "answers": [{"answer_start": 0, "text": "Rome"}]}]}]}]}


def test_cli(tmp_path, capsys):
    src = tmp_path / "train-v1.1.json"
    src.write_text(json.dumps(DOC))
    for split in ("train", "test"):
        assert synthesize(["--squad_json", str(src), "--out_dir", str(tmp_path / "rel"), "--split", split]) == 0
    assert sorted(p.name for p in (tmp_path / "rel" / "wav" / "train").glob("0_2_*.wav")) == ["0_2_0.wav", "0_2_1.wav"]
    data = tmp_path / "data"
    common = ["--spoken_squad_root", str(tmp_path / "rel"), "--data_dir", str(data), "--dev_size", "1"]
    # the dropped question is one of the 4 of train: 25% lost
    assert main(common) == 1
    assert "train lost 1 of 4 questions (25.0% > 5.0%: synthesis_question_without_answer: 1" in capsys.readouterr().err
    assert main(common + ["--max_loss_ratio", "0.3"]) == 0
    assert sorted(p.name for p in data.iterdir()) == ["dev", "test", "train"]
    train = load_sqa_set(data / "train")
    assert train.questions[0]["answers"] == [{"text": "three", "char_start": 14}]
    dev = load_sqa_set(data / "dev")
    assert dev.text == {"train-0000-0002-000": "dr", "train-0000-0002-001": "peyton manning's team won"}
    assert dev.questions[0]["answers"] == [{"text": "peyton manning's", "char_start": 3}]
    log = (data / "train" / "prep.log").read_text()
    assert "source questions lost: 1 (25.00%, limit 30.00%)" in log
    assert "  synthesis_question_without_answer: 1; 1\n    e.g. x1 (paragraph 0_2, dropped_train.tsv:2)" in log
    assert "sentence split: period_space (recorded in spoken_train-v1.1.json)" in log
    # another splitter than the corpus was made with: the paragraph's counts disagree, reported
    assert main(common + ["--max_loss_ratio", "1", "--split_method", "rules"]) == 0
    log = (data / "train" / "prep.log").read_text()
    assert "sentence split: rules (--split_method)" in log
    assert "  sentence_count_mismatch: 1; 1\n    e.g. 0_2 (train topic 0, paragraph 2): 1 sentences" in log
    assert main(["--spoken_squad_root", str(tmp_path / "none"), "--data_dir", str(data)]) == 1
    assert "none: no such directory" in capsys.readouterr().err
    assert main(["--spoken_squad_root", str(tmp_path / "rel"), "--max_loss_ratio", "2"]) == 1
