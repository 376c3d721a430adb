"""A hand-made two-passage data directory with an ASR transcript, for the scoring tests."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

CTX_A = "test-0000-0000"
CTX_B = "test-0000-0001"

# Passage A: words 0-5 in utterance 000, words 6-12 in utterance 001.
TEXT = {
    f"{CTX_A}-000": "the cat sat on the mat",
    f"{CTX_A}-001": "it was a sunny day in paris",
    f"{CTX_B}-000": "water boils at one hundred degrees",
}
# Utterance 000: C C C D(on) S(the/in) C(mat) I(today) -> errors on words 3, 4; an insertion
# after word 5 (i.e. before word 6, across the utterance boundary).
# Utterance 001: C C D(a) C C C I(the) C -> error on word 8; an insertion before word 12.
# Passage A: 3 + 2 = 5 errors / 13 words = 38.46 % WER. Passage B: perfect.
ASR = {
    f"{CTX_A}-000": "the cat sat in mat today",
    f"{CTX_A}-001": "it was sunny day in the paris",
    f"{CTX_B}-000": "water boils at one hundred degrees",
}


def word_time(k: int) -> tuple[float, float]:
    """Passage-A word k spans [0.5 k, 0.5 k + 0.4] s (utterance 000 lasts 3.0 s)."""
    return 0.5 * k, 0.5 * k + 0.4


def span_time(first: int, last: int) -> list[float]:
    return [word_time(first)[0], word_time(last)[1]]


def _question(qid: str, cid: str, passage: str, answers: list[tuple[int, int]], times: list | None = None) -> dict:
    words = passage.split()
    starts, pos = [], 0
    for w in words:
        pos = passage.index(w, pos)
        starts.append(pos)
        pos += len(w)
    ans = [{"text": " ".join(words[f:l + 1]), "char_start": starts[f]} for f, l in answers]
    q = {"id": qid, "context_id": cid, "question": f"question {qid}", "answers": ans,
         "answer_word_spans": [[f, l] for f, l in answers]}
    q["answer_time_spans"] = times if times is not None else [span_time(f, l) for f, l in answers]
    return q


def make_questions() -> list[dict]:
    pa = f"{TEXT[CTX_A + '-000']} {TEXT[CTX_A + '-001']}"
    pb = TEXT[f"{CTX_B}-000"]
    return [
        _question("q1", CTX_A, pa, [(1, 1)]),                  # cat: clean
        _question("q2", CTX_A, pa, [(3, 5)]),                  # on the mat: substituted/deleted
        _question("q3", CTX_A, pa, [(9, 12)]),                 # sunny day in paris: insertion inside
        _question("q4", CTX_A, pa, [(5, 5)]),                  # mat: insertion only after it
        _question("q5", CTX_A, pa, [(12, 12)]),                # paris: insertion only before it
        _question("q6", CTX_A, pa, [(8, 10), (9, 10)]),        # a sunny day (error) / sunny day (clean)
        _question("q7", CTX_A, pa, [(0, 1), (1, 1)], times=[None, None]),  # unaligned: no FF1/AOS
        _question("q8", CTX_B, pb, [(3, 5)], times=[[1.5, 2.9]]),          # perfect passage
    ]


def write_data_dir(root: Path, questions: list[dict] | None = None, asr: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "text").write_text("".join(f"{u} {t}\n" for u, t in sorted(TEXT.items())), encoding="utf-8")
    (root / "contexts").write_text(f"{CTX_A} {CTX_A}-000 {CTX_A}-001\n{CTX_B} {CTX_B}-000\n", encoding="utf-8")
    (root / "utt2dur").write_text(f"{CTX_A}-000 3.0\n{CTX_A}-001 3.5\n{CTX_B}-000 3.0\n", encoding="utf-8")
    if asr:
        (root / "text.asr").write_text("".join(f"{u} {t}\n" for u, t in sorted(ASR.items())), encoding="utf-8")
    qs = make_questions() if questions is None else questions
    (root / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in qs), encoding="utf-8")
    return root


@pytest.fixture
def toy() -> SimpleNamespace:
    """The builders above (test modules cannot import conftest under --import-mode=importlib)."""
    return SimpleNamespace(CTX_A=CTX_A, CTX_B=CTX_B, TEXT=TEXT, ASR=ASR, make_questions=make_questions,
                           write_data_dir=write_data_dir, span_time=span_time)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return write_data_dir(tmp_path / "data" / "test")
