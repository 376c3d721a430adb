"""Tests for python -m speechbert.bin.synthesize_squad."""

from __future__ import annotations

import json

import soundfile as sf

from speechbert.bin.synthesize_squad import main

DOC = {"version": "1.1", "data": [
    {"title": "T", "paragraphs": [
        {"context": "Paris is the capital of France. It has 2,100,000 residents.",
         "qas": [{"id": "q1", "question": "How many people live in Paris?",
                  "answers": [{"answer_start": 39, "text": "2,100,000"}]},
                 {"id": "q2", "question": "Of which country?",
                  "answers": [{"answer_start": 0, "text": "Berlin"}]}]},
        {"context": "Rome is old.", "qas": [{"id": "q3", "question": "What is old?",
                                             "answers": [{"answer_start": 0, "text": "Rome"}]}]}]}]}


def test_jobs_then_merge(tmp_path, capsys):
    src = tmp_path / "in.json"
    src.write_text(json.dumps(DOC))
    out = tmp_path / "out"
    common = ["--squad_json", str(src), "--out_dir", str(out), "--split", "train", "--nj", "2", "--seed", "5"]
    assert main(common + ["--merge", "true"]) == 1
    assert "missing synthesis job output" in capsys.readouterr().err
    assert main(common + ["--job", "1"]) == 0
    assert main(common + ["--merge", "true"]) == 1  # job 2 has not run
    assert main(common + ["--job", "2"]) == 0
    assert sorted(p.name for p in (out / "wav" / "train").iterdir()) == ["0_0_0.wav", "0_0_1.wav", "0_1_0.wav"]
    assert main(common + ["--merge", "true"]) == 0
    assert not list((out / "word_times").glob("*.part"))

    info = sf.info(str(out / "wav" / "train" / "0_0_1.wav"))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    lines = (out / "word_times" / "train.txt").read_text().splitlines()
    words = [line.split()[4] for line in lines if line.startswith("0_0_1 ")]
    assert words == "it has two million one hundred thousand residents".split()
    last = [line.split() for line in lines if line.startswith("0_0_1 ")][-1]
    assert float(last[3]) <= info.frames / info.samplerate
    assert [line.split()[0] for line in lines][-1] == "0_1_0"

    spoken = json.loads((out / "spoken_train-v1.1.json").read_text())
    par = spoken["data"][0]["paragraphs"][0]
    # the release's convention: one "." per wav
    assert par["context"] == "paris is the capital of france. it has two million one hundred thousand residents."
    assert [q["id"] for q in par["qas"]] == ["q1"]  # q2's answer is not in the passage: dropped
    a = par["qas"][0]["answers"][0]
    assert a == {"text": "two million one hundred thousand", "answer_start": par["context"].index("two million")}
    assert spoken["speechbert"]["context_source"] == "normalized_reference"
    assert spoken["speechbert"]["split_method"] == "period_space"
    # every dropped question is listed with its reason
    assert (out / "dropped_train.tsv").read_text() == ('id\tparagraph\treason\tanswers\n'
                                                       'q2\t0_0\tquestion_without_answer\t["Berlin"]\n')
    assert json.loads((out / "reference_train-v1.1.json").read_text()) == DOC


def test_bad_options(tmp_path, capsys):
    src = tmp_path / "in.json"
    src.write_text(json.dumps(DOC))
    base = ["--squad_json", str(src), "--out_dir", str(tmp_path / "o"), "--split", "train"]
    assert main(base + ["--nj", "2"]) == 1
    assert "--job is required" in capsys.readouterr().err
    assert main(base + ["--voices", "zz-none"]) == 1
    assert "no voice 'zz-none'" in capsys.readouterr().err
    assert not (tmp_path / "o" / "spoken_train-v1.1.json").exists()
    assert main(["--squad_json", str(tmp_path / "nope.json"), "--out_dir", str(tmp_path / "o"),
                 "--split", "train"]) == 1
    assert "nope.json: no such file" in capsys.readouterr().err
