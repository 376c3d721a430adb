"""Readers and writers for the SQA files of a data directory (``doc/design.md``).

``contexts`` (``<context_id> <utt_1> … <utt_n>``), ``questions.jsonl`` (one question a line),
and the helpers that turn a context into its reference passage text and words. Every reader
validates what it reads and names the file and line at fault.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open
from speechbert.io.jsonl import iter_jsonl
from speechbert.io.kaldi_table import check_key, read_table

__all__ = ["read_contexts", "write_contexts", "iter_questions", "read_questions", "write_questions",
           "validate_question", "passage_text", "passage_words", "passage_word_utts",
           "word_char_offsets", "char_span_to_word_span", "SQASet", "load_sqa_set"]

# Key order of a questions.jsonl line; fields a later stage adds come last.
QUESTION_FIELDS = ("id", "context_id", "question", "answers", "answer_word_spans", "answer_time_spans")


def read_contexts(path: str | Path) -> dict[str, list[str]]:
    """Read ``contexts``: ``{context_id: [utt, ...]}`` in file order.

    Raises:
        DataError: on the table errors of ``read_table``, an invalid utterance id, or an utterance
            listed twice (in one context or across contexts).
    """
    contexts: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    # A valid table has one entry a line, so the entry's position is its line number.
    for lineno, (cid, value) in enumerate(read_table(path).items(), start=1):
        utts = value.split()
        for utt in utts:
            why = check_key(utt)
            if why:
                raise DataError(f"context {cid!r}: {why}", path, lineno)
            if utt in owner:
                raise DataError(f"utterance {utt!r} is listed twice (contexts {owner[utt]!r} "
                                f"and {cid!r})", path, lineno)
            owner[utt] = cid
        contexts[cid] = utts
    return contexts


def write_contexts(path: str | Path, contexts: Mapping[str, Sequence[str]]) -> None:
    """Write ``contexts`` atomically, sorted by context id."""
    from speechbert.io.kaldi_table import write_table

    entries = []
    for cid, utts in contexts.items():
        if not utts:
            raise DataError(f"context {cid!r} has no utterances", path)
        entries.append((cid, " ".join(utts)))
    write_table(path, entries)


def validate_question(q: Any) -> str | None:
    """Return why ``q`` is not a valid ``questions.jsonl`` object, or ``None`` if it is valid.

    Checks types only; whether answers match their passage is checked by ``load_sqa_set``.
    """
    if not isinstance(q, dict):
        return "expected a JSON object"
    for name in ("id", "context_id", "question"):
        if not isinstance(q.get(name), str) or not q[name].strip():
            return f"field {name!r} must be a non-empty string"
    why = check_key(q["context_id"])
    if why:
        return f"context_id: {why}"
    answers = q.get("answers")
    if not isinstance(answers, list) or not answers:
        return "field 'answers' must be a non-empty list"
    for k, a in enumerate(answers):
        if not isinstance(a, dict):
            return f"answers[{k}] must be an object"
        if not isinstance(a.get("text"), str) or not a["text"].strip():
            return f"answers[{k}].text must be a non-empty string"
        start = a.get("char_start")
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            return f"answers[{k}].char_start must be a non-negative integer"
    spans = q.get("answer_word_spans")
    if spans is not None:
        if not isinstance(spans, list) or len(spans) != len(answers):
            return "field 'answer_word_spans' must be a list with one span per answer"
        for k, s in enumerate(spans):
            if (not isinstance(s, list) or len(s) != 2
                    or not all(isinstance(x, int) and not isinstance(x, bool) for x in s)
                    or s[0] < 0 or s[1] < s[0]):
                return f"answer_word_spans[{k}] must be [first, last] with 0 <= first <= last"
    times = q.get("answer_time_spans")
    if times is not None:
        if not isinstance(times, list) or len(times) != len(answers):
            return "field 'answer_time_spans' must be a list with one span (or null) per answer"
        for k, t in enumerate(times):
            if t is None:
                continue
            if (not isinstance(t, list) or len(t) != 2
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                               and math.isfinite(x) for x in t)
                    or t[0] < 0 or t[1] < t[0]):
                return f"answer_time_spans[{k}] must be null or [start, end] with 0 <= start <= end"
    return None


def iter_questions(path: str | Path) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, question)`` for each line of a ``questions.jsonl``.

    Raises:
        DataError: naming the file and line for non-UTF-8 text, invalid JSON, a missing or
            mistyped field, or a duplicate question id.
    """
    path = Path(path)
    seen: set[str] = set()
    for lineno, q in iter_jsonl(path):
        why = validate_question(q)
        if why:
            raise DataError(why, path, lineno)
        if q["id"] in seen:
            raise DataError(f"duplicate question id {q['id']!r}", path, lineno)
        seen.add(q["id"])
        yield lineno, q


def read_questions(path: str | Path) -> list[dict]:
    """Read a whole ``questions.jsonl`` (validated as in ``iter_questions``)."""
    return [q for _, q in iter_questions(path)]


def write_questions(path: str | Path, questions: Iterable[Mapping[str, Any]]) -> None:
    """Write questions one JSON object a line, atomically, in the given order.

    Known fields come first in the order of ``QUESTION_FIELDS``; extra fields follow.

    Raises:
        DataError: if a question is invalid or an id repeats (nothing is written).
    """
    lines = []
    seen: set[str] = set()
    for n, q in enumerate(questions, start=1):
        q = dict(q)
        why = validate_question(q)
        if why:
            raise DataError(f"question {n}: {why}", path, key=str(q.get("id")) if isinstance(q, dict) else None)
        if q["id"] in seen:
            raise DataError(f"duplicate question id {q['id']!r}", path)
        seen.add(q["id"])
        ordered = {k: q[k] for k in QUESTION_FIELDS if k in q}
        ordered.update((k, v) for k, v in q.items() if k not in ordered)
        lines.append(json.dumps(ordered, ensure_ascii=False) + "\n")
    with atomic_open(path) as f:
        f.writelines(lines)


def passage_text(context_utts: Sequence[str], text_table: Mapping[str, str]) -> str:
    """The reference passage: the context's sentences joined by single spaces.

    Raises:
        DataError: if an utterance of the context has no entry in ``text_table``.
    """
    parts = []
    for utt in context_utts:
        if utt not in text_table:
            raise DataError(f"utterance {utt!r} of a context has no text", key=utt)
        parts.append(" ".join(text_table[utt].split()))
    return " ".join(p for p in parts if p)


def passage_words(context_utts: Sequence[str], text_table: Mapping[str, str]) -> list[str]:
    """The passage words, numbered from 0 across the whole passage."""
    return passage_text(context_utts, text_table).split()


def passage_word_utts(context_utts: Sequence[str], text_table: Mapping[str, str]) -> list[tuple[str, int]]:
    """For each passage word, ``(utterance id, index of the word inside that utterance)``."""
    out: list[tuple[str, int]] = []
    for utt in context_utts:
        if utt not in text_table:
            raise DataError(f"utterance {utt!r} of a context has no text", key=utt)
        out.extend((utt, i) for i in range(len(text_table[utt].split())))
    return out


def word_char_offsets(passage: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets (end exclusive) of each whitespace-separated word."""
    offsets = []
    pos = 0
    for word in passage.split():
        start = passage.index(word, pos)
        pos = start + len(word)
        offsets.append((start, pos))
    return offsets


def char_span_to_word_span(passage: str, char_start: int, length: int) -> tuple[int, int]:
    """Inclusive ``(first, last)`` word indexes covering ``passage[char_start:char_start+length]``.

    The first word is the one containing ``char_start``, the last the one containing the span's
    last character.

    Raises:
        ValueError: if the span is empty, outside the passage, or begins or ends on whitespace.
    """
    end = char_start + length  # exclusive
    if length <= 0 or char_start < 0 or end > len(passage):
        raise ValueError(f"character span [{char_start}, {end}) is empty or outside the passage "
                         f"of {len(passage)} characters")
    if passage[char_start].isspace() or passage[end - 1].isspace():
        raise ValueError(f"character span [{char_start}, {end}) begins or ends on whitespace")
    first = last = -1
    for i, (s, e) in enumerate(word_char_offsets(passage)):
        if first < 0 and s <= char_start < e:
            first = i
        if s <= end - 1 < e:
            last = i
            break
    return first, last


@dataclass
class SQASet:
    """One loaded data directory: reference text, contexts, questions and durations."""

    data_dir: Path
    text: dict[str, str]
    contexts: dict[str, list[str]]
    questions: list[dict]
    utt2dur: dict[str, float]
    _passages: dict[str, str] = field(default_factory=dict, repr=False)

    def passage_text(self, context_id: str) -> str:
        """The reference passage text of ``context_id``."""
        if context_id not in self._passages:
            self._passages[context_id] = passage_text(self.contexts[context_id], self.text)
        return self._passages[context_id]

    def passage_words(self, context_id: str) -> list[str]:
        """The reference passage words of ``context_id``."""
        return self.passage_text(context_id).split()

    def utt_offsets(self, context_id: str) -> list[float]:
        """Passage-time start (seconds) of each utterance of ``context_id``."""
        offsets, t = [], 0.0
        for utt in self.contexts[context_id]:
            offsets.append(t)
            t += self.utt2dur[utt]
        return offsets


def read_utt2dur(data_dir: str | Path, *, required: bool = True) -> dict[str, float] | None:
    """``<data_dir>/utt2dur`` as ``{utt: seconds}``; ``None`` if it is absent and not ``required``.

    Raises:
        DataError: naming the file and line of a missing file (when required), a value that is
            not a number, or a duration that is not positive and finite.
    """
    path = Path(data_dir) / "utt2dur"
    if not required and not path.exists():
        return None
    utt2dur: dict[str, float] = {}
    for lineno, (utt, value) in enumerate(read_table(path).items(), start=1):  # one entry a line
        try:
            dur = float(value)
        except ValueError:
            raise DataError(f"duration {value!r} is not a number", path, lineno) from None
        if not math.isfinite(dur) or dur <= 0:
            raise DataError(f"duration {value!r} must be positive", path, lineno)
        utt2dur[utt] = dur
    return utt2dur


def load_sqa_set(data_dir: str | Path, *, require_utt2dur: bool = True,
                 require_questions: bool = False) -> SQASet:
    """Load and cross-check ``text``, ``contexts``, ``questions.jsonl`` and ``utt2dur``.

    Checks that every context utterance has text (and a duration), that every question's
    context exists, and that every answer equals its passage slice at ``char_start``.

    Args:
        data_dir: the data directory.
        require_utt2dur: if False, a missing ``utt2dur`` gives an empty mapping.
        require_questions: if True, a ``questions.jsonl`` without questions is an error (for
            the tools that score or answer them).

    Raises:
        DataError: naming the file and line (or key) of the first inconsistency.
    """
    data_dir = Path(data_dir)
    text = read_table(data_dir / "text", allow_empty_value=True)
    contexts_path = data_dir / "contexts"
    contexts = read_contexts(contexts_path)
    dur_path = data_dir / "utt2dur"
    utt2dur = read_utt2dur(data_dir, required=require_utt2dur) or {}
    ctx_lines = {cid: n for n, (cid, _) in enumerate(contexts.items(), start=1)}
    for cid, utts in contexts.items():
        for utt in utts:
            if utt not in text:
                raise DataError(f"context {cid!r} lists utterance {utt!r}, which has no entry in "
                                f"{data_dir / 'text'}", contexts_path, ctx_lines[cid])
            if utt2dur and utt not in utt2dur:
                raise DataError(f"context {cid!r} lists utterance {utt!r}, which has no entry in "
                                f"{dur_path}", contexts_path, ctx_lines[cid])
    sqa = SQASet(data_dir, text, contexts, [], utt2dur)
    q_path = data_dir / "questions.jsonl"
    for lineno, q in iter_questions(q_path):
        cid = q["context_id"]
        if cid not in contexts:
            raise DataError(f"question {q['id']!r}: unknown context {cid!r}", q_path, lineno)
        passage = sqa.passage_text(cid)
        for k, a in enumerate(q["answers"]):
            got = passage[a["char_start"]:a["char_start"] + len(a["text"])]
            if got != a["text"]:
                raise DataError(f"question {q['id']!r}: answers[{k}].text {a['text']!r} is not at "
                                f"char_start {a['char_start']} of its passage (found {got!r})",
                                q_path, lineno)
        sqa.questions.append(q)
    if require_questions and not sqa.questions:
        raise DataError("no questions (the file is empty)", q_path)
    return sqa
