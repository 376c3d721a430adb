"""Answer word spans and passage-time spans from a word CTM (``doc/design.md``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from speechbert.io.ctm import CtmEntry
from speechbert.io.sqa_data import SQASet, char_span_to_word_span, passage_word_utts
from speechbert.errors import DataError


@dataclass
class SpanResult:
    """Questions with spans added, and the answers left without a time span."""

    questions: list[dict] = field(default_factory=list)
    answers: int = 0
    unaligned: list[tuple[str, int, str]] = field(default_factory=list)  # (question id, k, why)


def add_answer_spans(sqa: SQASet, ctm: Mapping[str, Sequence[CtmEntry]]) -> SpanResult:
    """Add ``answer_word_spans`` and ``answer_time_spans`` to every question of ``sqa``.

    ``ctm`` must hold, for each aligned utterance, one entry per word of its ``text`` in order
    (``validate_ctm`` checks this). An answer whose first or last word is in an utterance
    absent from ``ctm`` gets a ``null`` time span and is listed in ``SpanResult.unaligned``.

    Raises:
        DataError: if an answer's character span does not cover whole passage words.
    """
    res = SpanResult()
    word_utts: dict[str, list[tuple[str, int]]] = {}
    offsets: dict[str, dict[str, float]] = {}
    for q in sqa.questions:
        cid = q["context_id"]
        if cid not in word_utts:
            utts = sqa.contexts[cid]
            word_utts[cid] = passage_word_utts(utts, sqa.text)
            offsets[cid] = dict(zip(utts, sqa.utt_offsets(cid)))
        passage = sqa.passage_text(cid)
        word_spans, time_spans = [], []
        for k, a in enumerate(q["answers"]):
            res.answers += 1
            try:
                first, last = char_span_to_word_span(passage, a["char_start"], len(a["text"]))
            except ValueError as e:
                raise DataError(f"question {q['id']!r}, answer {k}: {e}",
                                sqa.data_dir / "questions.jsonl", key=q["id"]) from None
            word_spans.append([first, last])
            (u1, i1), (u2, i2) = word_utts[cid][first], word_utts[cid][last]
            missing = [u for u in (u1, u2) if u not in ctm]
            if missing:
                time_spans.append(None)
                res.unaligned.append((q["id"], k, f"utterance {missing[0]} is not aligned"))
                continue
            start = offsets[cid][u1] + ctm[u1][i1].start
            end = offsets[cid][u2] + ctm[u2][i2].end
            time_spans.append([round(start, 3), round(max(end, start), 3)])
        res.questions.append({**q, "answer_word_spans": word_spans, "answer_time_spans": time_spans})
    return res
