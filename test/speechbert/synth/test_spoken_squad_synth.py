"""Tests for speechbert.synth.spoken_squad_synth (SQuAD JSON -> Spoken SQuAD layout)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
import torch

from speechbert.synth.spoken_squad_synth import SynthOptions, merge_jobs, synthesize_job
from speechbert.synth.tts import DEFAULT_VOICES, EspeakSynthesizer, pick_voice, stable_seed

torch.set_num_threads(1)

# Short two-sentence paragraphs: every paragraph has a speaker of its own, and a second sentence
# after the first is where state carried over inside one process would show.
_CONTEXTS = ["The mill stood by the river. It was built in 1820.",
             "Anna Berg ran the school. She taught music.",
             "The bridge is painted red. It crosses the bay.",
             "The town has 40 farms. Most of them grow wheat.",
             "The guild met in spring. Its hall burned down.",
             "The ship left in May. It carried salt and wool.",
             "The choir sang at noon. People came from far away.",
             "The tower is old. Its bell rings every hour."]
SQUAD = {"version": "1.1", "data": [
    {"title": f"t{t}", "paragraphs": [
        {"context": c, "qas": [{"id": f"q{t}{p}", "question": "What?",
                                "answers": [{"answer_start": 0, "text": c.split()[0]}]}]}
        for p, c in enumerate(_CONTEXTS[4 * t:4 * t + 4])]}
    for t in range(2)]}
KEYS = [f"{t}_{p}" for t in range(2) for p in range(4)]


def _family(voice: str) -> str:
    """en-us, en-us+m, en-us+f, en+ or en-gb-x-rp+: the voice families of DEFAULT_VOICES."""
    return re.sub(r"\d+$", "", voice) if voice.startswith("en-us") else voice.split("+")[0] + "+"


FAMILIES = {_family(v) for v in DEFAULT_VOICES}


def _covering_seed() -> int:
    """The first corpus seed whose paragraph speakers (drawn as synthesize_job does) cover every family."""
    for seed in range(1, 10000):
        drawn = {_family(pick_voice(random.Random(stable_seed(seed, "train", key))).name) for key in KEYS}
        if drawn == FAMILIES:
            return seed
    raise AssertionError("no seed covers every voice family")  # pragma: no cover


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_output_does_not_depend_on_nj(tmp_path, monkeypatch):
    assert FAMILIES == {"en-us", "en-us+m", "en-us+f", "en+", "en-gb-x-rp+"}
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(SQUAD))
    opts = SynthOptions(seed=_covering_seed())
    spoken: list[str] = []
    synthesize = EspeakSynthesizer.synthesize

    def spy(self, text, voice, seed=0):  # noqa: ANN001 - records which voices really spoke
        spoken.append(voice.name)
        return synthesize(self, text, voice, seed=seed)

    monkeypatch.setattr(EspeakSynthesizer, "synthesize", spy)
    one, two = tmp_path / "nj1", tmp_path / "nj2"
    synthesize_job(squad, one, "train", opts, nj=1, job=1)
    merge_jobs(squad, one, "train", opts, nj=1)
    assert {_family(v) for v in spoken} == FAMILIES and len(spoken) == 2 * len(KEYS)
    # the second job first: each job must come out the same whatever the process spoke before
    for job in (2, 1):
        synthesize_job(squad, two, "train", opts, nj=2, job=job)
    merge_jobs(squad, two, "train", opts, nj=2)
    a, b = _tree(one), _tree(two)
    assert len([k for k in a if k.endswith(".wav")]) == 2 * len(KEYS)
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []



def test_spoken_paragraph_follows_the_release():
    from speechbert.io.squad_json import QA, Answer, Paragraph
    from speechbert.synth.spoken_squad_synth import spoken_paragraph

    context = "Who financed the line? James J. Hill did. Peyton Manning's snap went wide."
    qas = [QA("h1", "Who?", [Answer("James J. Hill", context.index("James"))]),
           QA("m1", "Whose snap?", [Answer("Peyton Manning", context.index("Peyton"))]),
           QA("x1", "Where?", [Answer("Berlin", 0), Answer("Rome", 3)])]
    spoken = spoken_paragraph(Paragraph(0, 0, context, qas))  # the release's ". " split by default
    assert spoken.sentences == ["who financed the line james j", "hill did", "peyton manning's snap went wide"]
    assert spoken.context == "who financed the line james j. hill did. peyton manning's snap went wide."
    assert [qa.id for qa in spoken.qas] == ["h1", "m1"]
    assert [a.text for qa in spoken.qas for a in qa.answers] == ["james j hill", "peyton manning's"]
    assert spoken.dropped == [("x1", "question_without_answer", ["Berlin", "Rome"])]
    # offsets move into the dotted context; an answer across a wav boundary keeps the "."
    ctx = spoken.context
    for qa, text in zip(spoken.qas, ["james j. hill", "peyton manning's"]):
        a = qa.answers[0]
        start = spoken.context_offset(a.answer_start)
        assert ctx[start:spoken.context_offset(a.answer_start + len(a.text), end=True)] == text
    assert spoken_paragraph(Paragraph(0, 0, context, qas), "rules").sentences[0] == "who financed the line"
