"""A tiny recipe layout for the report tests: ``data/test`` with real wav files, an ASR
transcript with known errors and two systems' decode directories with known spans.

Passage ``c1`` is utterances ``c1-u1`` (1.0 s) and ``c1-u2`` (1.5 s), passage ``c2`` is
``c2-u1`` (2.0 s); all times below are passage time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

RATE = 16000
DURS = {"c1-u1": 1.0, "c1-u2": 1.5, "c2-u1": 2.0}
TEXT = {"c1-u1": "the red door opens", "c1-u2": "blue letters on the cover", "c2-u1": "a green lamp stood here"}
ASR = {"c1-u1": "the rad door opens", "c1-u2": "blue letters on the cover", "c2-u1": "a green lamp stood here now"}
CONTEXTS = {"c1": ["c1-u1", "c1-u2"], "c2": ["c2-u1"]}
#: The question that must come out escaped.
EVIL_QUESTION = "what does <script>alert('x')</script> & co open"
QUESTIONS = [
    {"id": "q1", "context_id": "c1", "question": EVIL_QUESTION,
     "answers": [{"text": "door", "char_start": 8}], "answer_word_spans": [[2, 2]],
     "answer_time_spans": [[0.5, 0.75]]},
    {"id": "q2", "context_id": "c1", "question": "what colour are the letters",
     "answers": [{"text": "blue", "char_start": 19}], "answer_word_spans": [[4, 4]],
     "answer_time_spans": [[1.25, 1.5]]},
    {"id": "q3", "context_id": "c2", "question": "what stood here",
     "answers": [{"text": "green lamp", "char_start": 2}], "answer_word_spans": [[1, 2]],
     "answer_time_spans": [[0.5, 1.25]]},
]
#: Predicted spans (start, end) and their FF1 per system; q3 has no cascade prediction.
PREDICTIONS = {
    "end-to-end": {"q1": (0.5, 0.75, 100.0), "q2": (0.0, 0.25, 0.0), "q3": (0.5, 1.0, 80.0)},
    "cascade-ctc": {"q1": (2.0, 2.5, 0.0), "q2": (1.25, 1.5, 100.0)},
}
ASR_ERROR = {"q1": True, "q2": False, "q3": False}
WER_BUCKET = {"q1": "(10,20]", "q2": "(10,20]", "q3": "(0,10]"}


@dataclass
class TinyRecipe:
    root: Path
    exp: Path
    data: Path
    wavs: Path


def _tone(dur: float, freq: float) -> np.ndarray:
    t = np.arange(int(round(dur * RATE))) / RATE
    wave = 0.5 * np.sin(2 * np.pi * freq * t)
    wave[: len(wave) // 4] *= 0.1  # a quiet first quarter: the envelope must show it
    return wave.astype(np.float32)


def _table(path: Path, rows: dict[str, str]) -> None:
    path.write_text("".join(f"{k} {v}\n" for k, v in sorted(rows.items())), encoding="utf-8")


def _result(name: str, ff1: float) -> dict:
    group = {"questions": 3, "scored_time": 3, "scored_text": 3, "missing_predictions": 0, "ff1": ff1,
             "aos": ff1, "em": ff1, "f1": ff1, "ff1_ci": [ff1 - 5, ff1 + 5], "ff1_ci_half": 5.0}
    return {"system_name": name, "data_set": "test", "overall": group, "counts": {"missing_predictions": 0},
            "by_asr_error": {"no_asr_error": dict(group, questions=2), "with_asr_error": dict(group, questions=1)},
            "wer": {"wer": 12.5}, "asr_text": "exp/asr_ctc/test/text",
            "by_passage_wer": [{"bucket": "(0,10]", "questions": 1}, {"bucket": "(10,20]", "questions": 2}]}


def build_tiny_recipe(root: Path) -> TinyRecipe:
    """Write the layout under ``root`` (``root/exp``, ``root/data/test``, ``root/db/wav``)."""
    data, exp, wavs = root / "data" / "test", root / "exp", root / "db" / "wav"
    for d in (data, wavs, exp / "asr_ctc" / "test"):
        d.mkdir(parents=True)
    for k, (utt, dur) in enumerate(DURS.items()):
        soundfile.write(str(wavs / f"{utt}.wav"), _tone(dur, 200 + 100 * k), RATE, subtype="PCM_16")
    _table(data / "wav.scp", {u: str(wavs / f"{u}.wav") for u in DURS})
    _table(data / "text", TEXT)
    _table(data / "utt2dur", {u: str(d) for u, d in DURS.items()})
    _table(data / "contexts", {c: " ".join(u) for c, u in CONTEXTS.items()})
    (data / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    _table(exp / "asr_ctc" / "test" / "text", ASR)
    for name, rel in (("end-to-end", "finetune/decode_test"), ("cascade-ctc", "finetune_text/decode_test_asr_ctc")):
        d = exp / rel
        d.mkdir(parents=True)
        preds = PREDICTIONS[name]
        (d / "result.json").write_text(json.dumps(_result(name, 60.0 if name == "end-to-end" else 40.0)),
                                       encoding="utf-8")
        (d / "predictions.jsonl").write_text("".join(
            json.dumps({"id": q, "context_id": next(x["context_id"] for x in QUESTIONS if x["id"] == q),
                        "word_span": [0, 0], "words": "w", "start": s, "end": e, "score": 0.0})
            + "\n" for q, (s, e, _) in preds.items()), encoding="utf-8")
        (d / "scores.jsonl").write_text("".join(
            json.dumps({"id": q["id"], "context_id": q["context_id"],
                        "ff1": preds[q["id"]][2] if q["id"] in preds else 0.0,
                        "aos": 0.0, "em": 0.0, "f1": 0.0, "has_prediction": q["id"] in preds,
                        "asr_error": ASR_ERROR[q["id"]], "wer_bucket": WER_BUCKET[q["id"]]}) + "\n"
            for q in QUESTIONS), encoding="utf-8")
    return TinyRecipe(root, exp, data, wavs)


@dataclass
class Element:
    """One start tag of a parsed page, its attributes and the text directly inside it."""

    tag: str
    attrs: dict[str, str]
    text: str = ""


class PageParser:
    """Every element of an HTML page, in document order (``html.parser``, no third-party parser)."""

    def __init__(self, page: str) -> None:
        from html.parser import HTMLParser

        self.elements: list[Element] = []
        self.scripts: list[str] = []
        stack: list[Element] = []
        outer = self
        void = {"meta", "br", "img", "input", "link", "hr", "source", "wbr"}

        class _P(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list) -> None:
                el = Element(tag, {k: (v or "") for k, v in attrs})
                outer.elements.append(el)
                if tag not in void:
                    stack.append(el)

            def handle_startendtag(self, tag: str, attrs: list) -> None:
                outer.elements.append(Element(tag, {k: (v or "") for k, v in attrs}))

            def handle_endtag(self, tag: str) -> None:
                while stack:
                    if stack.pop().tag == tag:
                        break

            def handle_data(self, data: str) -> None:
                if stack:
                    stack[-1].text += data
                    if stack[-1].tag == "script":
                        outer.scripts.append(data)

        p = _P(convert_charrefs=True)
        p.feed(page)
        p.close()

    def find(self, tag: str, **attrs: str) -> list[Element]:
        """Elements with this tag whose attributes contain the given values (``class_`` matches
        one class name)."""
        out = []
        for el in self.elements:
            if el.tag != tag:
                continue
            ok = True
            for k, v in attrs.items():
                if k == "class_":
                    ok = ok and v in el.attrs.get("class", "").split()
                else:
                    ok = ok and el.attrs.get(k.replace("_", "-")) == v
            if ok:
                out.append(el)
        return out
