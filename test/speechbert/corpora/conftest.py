"""A tiny corpus in the official Spoken SQuAD layout, made by synthesize_squad."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from speechbert.synth.spoken_squad_synth import SynthOptions, merge_jobs, synthesize_job

TRAIN = {"version": "1.1", "data": [
    {"title": "Lourdes", "paragraphs": [
        {"context": "Atop the Main Building's gold dome is a golden statue of the Virgin Mary. "
                    "It is a replica of the grotto at Lourdes, France. "
                    "The Virgin Mary reputedly appeared to Saint Bernadette Soubirous in 1858.",
         "qas": [{"id": "a01", "question": "To whom did the Virgin Mary appear in 1858?",
                  "answers": [{"answer_start": 162, "text": "Saint Bernadette Soubirous"}]},
                 {"id": "a02", "question": "What sits on top of the Main Building?",
                  "answers": [{"answer_start": 38, "text": "a golden statue of the Virgin Mary"},
                              {"answer_start": 47, "text": "statue"}]}]},
        {"context": "The college has 12 dormitories. Each one has about 250 students.",
         "qas": [{"id": "a03", "question": "How many dormitories are there?",
                  "answers": [{"answer_start": 16, "text": "12"}]}]}]},
    {"title": "Bowl", "paragraphs": [
        {"context": "Super Bowl 50 was an American football game. It was played on February 7, 2016, in Santa Clara.",
         "qas": [{"id": "b01", "question": "Where was Super Bowl 50 played?",
                  "answers": [{"answer_start": 83, "text": "Santa Clara"}]},
                 {"id": "b02", "question": "When was it played?",
                  "answers": [{"answer_start": 62, "text": "February 7, 2016"}]}]}]}]}

TEST = {"version": "1.1", "data": [
    {"title": "Rivers", "paragraphs": [
        {"context": "The Rhine flows through six countries. It is 1,230 kilometres long.",
         "qas": [{"id": "c01", "question": "How long is the Rhine?",
                  "answers": [{"answer_start": 45, "text": "1,230 kilometres"}]},
                 {"id": "c02", "question": "How many countries does it cross?",
                  "answers": [{"answer_start": 24, "text": "six"}]}]}]}]}


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> Path:
    """Spoken SQuAD layout (train + test) of TRAIN/TEST, with SQuAD v1.1 names for the text."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("spoken")
    squad = root / "squad"
    squad.mkdir()
    (squad / "train-v1.1.json").write_text(json.dumps(TRAIN))
    (squad / "dev-v1.1.json").write_text(json.dumps(TEST))
    opts = SynthOptions(seed=3)
    for split, name in (("train", "train-v1.1.json"), ("test", "dev-v1.1.json")):
        synthesize_job(squad / name, root / "release", split, opts)
        merge_jobs(squad / name, root / "release", split, opts)
    return root


@pytest.fixture
def release(synthesized, tmp_path) -> Path:
    """A private copy of the synthesized corpus that a test may damage."""
    dst = tmp_path / "corpus"
    shutil.copytree(synthesized, dst)
    return dst
