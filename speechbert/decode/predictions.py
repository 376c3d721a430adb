"""``predictions.jsonl`` records (doc/design.md), written and read with their n-best lists.

One JSON object per question::

    {"id", "context_id", "word_span": [i, j], "words", "start", "end", "score",
     "word_source": "reference" | "asr", "nbest": [{"word_span", "words", "start", "end", "score"}, ...]}

Times are passage time (seconds). ``word_span`` indexes the passage words named by
``word_source``: the reference transcript (end-to-end model: its words are the forced-aligned
reference words inside the predicted time span) or the ASR transcript (cascade, answer CLI).
Numbers that are not finite are written as ``null`` (JSON has no infinity).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open
from speechbert.io.jsonl import iter_jsonl

WORD_SOURCES = ("reference", "asr")


def _finite_or_none(x: Any) -> float | None:
    if x is None or isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return float(x)


def clean_entry(entry: dict) -> dict:
    """A copy of a span entry with non-finite numbers as ``None`` and times rounded to ms."""
    out = dict(entry)
    for name in ("start", "end"):
        if name in out:
            v = _finite_or_none(out[name])
            out[name] = None if v is None else round(v, 3)
    if "score" in out:
        out["score"] = _finite_or_none(out["score"])
    if out.get("word_span") is not None:
        out["word_span"] = [int(out["word_span"][0]), int(out["word_span"][1])]
    return out


def clean_record(record: dict) -> dict:
    """:func:`clean_entry` of a record and of every n-best entry."""
    out = clean_entry(record)
    out["nbest"] = [clean_entry(e) for e in record.get("nbest") or []]
    return out


def write_predictions(path: str | Path, records: Iterable[dict]) -> int:
    """Write records (cleaned) as JSON lines, atomically; returns how many."""
    n = 0
    with atomic_open(path) as f:
        for rec in records:
            f.write(json.dumps(clean_record(rec), allow_nan=False) + "\n")
            n += 1
    return n


def _check_entry(e: Any, path: Path, lineno: int, qid: str, what: str) -> dict:
    if not isinstance(e, dict):
        raise DataError(f"{what} must be a JSON object", path, lineno, key=qid)
    for name in ("start", "end", "score"):
        v = e.get(name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
            raise DataError(f"{what}: field {name!r} must be a finite number or null, got {v!r}",
                            path, lineno, key=qid)
    start, end = e.get("start"), e.get("end")
    if (start is None) != (end is None):
        raise DataError(f"{what}: fields 'start' and 'end' must both be numbers or both null, got {start!r} and "
                        f"{end!r}", path, lineno, key=qid)
    if start is not None and (start < 0 or start > end):
        raise DataError(f"{what}: time span [{start}, {end}] must have 0 <= start <= end", path, lineno, key=qid)
    span = e.get("word_span")
    if span is not None and (not isinstance(span, list) or len(span) != 2
                             or not all(isinstance(x, int) and not isinstance(x, bool) for x in span)
                             or span[0] < 0 or span[0] > span[1]):
        raise DataError(f"{what}: field 'word_span' must be [first, last] integers with 0 <= first <= last, "
                        f"got {span!r}", path, lineno, key=qid)
    return e


def read_prediction_records(path: str | Path) -> dict[str, dict]:
    """Read ``predictions.jsonl`` into ``{question id: record}`` keeping every field and the n-best.

    A record without an ``nbest`` list gets its best span as its only entry.

    Raises:
        DataError: naming the file and line of invalid JSON, a missing id, a bad number or span
            (a time span must have 0 <= start <= end, a word span first <= last), or a repeated
            question id; naming the file when it holds no prediction.
    """
    path = Path(path)
    out: dict[str, dict] = {}
    for lineno, rec in iter_jsonl(path):
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), str) or not rec["id"]:
            raise DataError("expected a JSON object with a non-empty string 'id'", path, lineno)
        qid = rec["id"]
        if qid in out:
            raise DataError(f"duplicate prediction for question {qid!r}", path, lineno)
        _check_entry(rec, path, lineno, qid, "prediction")
        nbest = rec.get("nbest")
        if nbest is None:
            nbest = [] if rec.get("start") is None else [
                {k: rec.get(k) for k in ("word_span", "words", "start", "end", "score")}]
        if not isinstance(nbest, list):
            raise DataError("field 'nbest' must be a list", path, lineno, key=qid)
        rec["nbest"] = [_check_entry(e, path, lineno, qid, f"nbest[{k}]") for k, e in enumerate(nbest)]
        out[qid] = rec
    if not out:
        raise DataError("no predictions (the file is empty)", path)
    return out
