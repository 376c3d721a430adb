"""Trivial reference systems that put a floor under the SQA scores.

* ``first_sentence``: the whole first (non-empty) utterance of the passage;
* ``random_span``: a uniformly placed word span whose length is drawn from the training answer
  lengths (or uniformly from 1..5 words when none are given).

Word times come from the word CTM (utterance-relative) shifted to passage time by the utterance
offsets (``doc/design.md``), exactly as the reference answer spans are made. Words of an
utterance the CTM lacks get the utterance's duration spread evenly over its words (counted).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from speechbert.errors import ConfigError
from speechbert.io.ctm import CtmEntry
from speechbert.io.sqa_data import SQASet

BASELINE_KINDS = ("first_sentence", "random_span")
DEFAULT_LENGTHS = (1, 2, 3, 4, 5)


@dataclass
class PassageTimes:
    """Passage-time ``(start, end)`` of every passage word and the index of its utterance."""

    words: list[str]
    times: list[tuple[float, float]]
    utt_index: list[int]
    estimated_utts: list[str] = field(default_factory=list)


def passage_times(sqa: SQASet, cid: str, ctm: Mapping[str, Sequence[CtmEntry]]) -> PassageTimes:
    """Word times of passage ``cid`` in passage time (requires ``utt2dur``)."""
    words: list[str] = []
    times: list[tuple[float, float]] = []
    utt_index: list[int] = []
    estimated: list[str] = []
    for k, (utt, offset) in enumerate(zip(sqa.contexts[cid], sqa.utt_offsets(cid))):
        utt_words = sqa.text[utt].split()
        entries = ctm.get(utt)
        if entries is not None and len(entries) == len(utt_words):
            times += [(offset + e.start, offset + e.end) for e in entries]
        else:
            estimated.append(utt)
            step = sqa.utt2dur[utt] / max(1, len(utt_words))
            times += [(offset + i * step, offset + (i + 1) * step) for i in range(len(utt_words))]
        words += utt_words
        utt_index += [k] * len(utt_words)
    return PassageTimes(words, times, utt_index, estimated)


def training_answer_lengths(questions: Iterable[Mapping[str, Any]]) -> list[int]:
    """Answer lengths in words of every reference answer of ``questions``."""
    lengths = []
    for q in questions:
        spans = q.get("answer_word_spans")
        if spans:
            lengths += [int(last) - int(first) + 1 for first, last in spans]
        else:
            lengths += [len(a["text"].split()) for a in q["answers"]]
    return [n for n in lengths if n > 0]


def _prediction(q: Mapping[str, Any], pt: PassageTimes, first: int, last: int, score: float) -> dict[str, Any]:
    start = round(pt.times[first][0], 3)
    end = round(max(pt.times[last][1], pt.times[first][0]), 3)
    span = {"word_span": [first, last], "start": start, "end": end, "score": score}
    return {"id": q["id"], "context_id": q["context_id"], "word_span": [first, last],
            "words": " ".join(pt.words[first:last + 1]), "start": start, "end": end, "score": score,
            "nbest": [span]}


def baseline_predictions(sqa: SQASet, ctm: Mapping[str, Sequence[CtmEntry]], kind: str, *,
                         seed: int = 1, lengths: Sequence[int] | None = None) -> tuple[list[dict], set[str]]:
    """Predict every question of ``sqa`` with a trivial baseline.

    Args:
        sqa: the data set (with ``utt2dur``).
        ctm: validated word CTM ``{utt: entries}`` (silences removed).
        kind: ``first_sentence`` or ``random_span``.
        seed: seed of the ``random_span`` draws (one generator over the questions in order).
        lengths: answer lengths (words) to draw from; default 1..5.

    Returns:
        ``(predictions in questions.jsonl order, utterances whose word times were estimated)``.
        Questions on a passage without words are skipped.
    """
    if kind not in BASELINE_KINDS:
        raise ConfigError(f"baseline kind must be one of {', '.join(BASELINE_KINDS)}, got {kind!r}")
    pool = list(lengths) if lengths else list(DEFAULT_LENGTHS)
    rng = random.Random(seed)
    cache: dict[str, PassageTimes] = {}
    estimated: set[str] = set()
    out = []
    for q in sqa.questions:
        cid = q["context_id"]
        if cid not in cache:
            cache[cid] = passage_times(sqa, cid, ctm)
            estimated.update(cache[cid].estimated_utts)
        pt = cache[cid]
        n = len(pt.words)
        if n == 0:
            continue
        if kind == "first_sentence":
            first = 0
            last = max(i for i, u in enumerate(pt.utt_index) if u == pt.utt_index[0])
            out.append(_prediction(q, pt, first, last, 0.0))
        else:
            length = min(rng.choice(pool), n)
            first = rng.randrange(0, n - length + 1)
            out.append(_prediction(q, pt, first, first + length - 1, 0.0))
    return out, estimated
