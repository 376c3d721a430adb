"""Score a set of SQA predictions against a data directory: per-question metrics and splits.

Per question (``doc/scoring.md`` has the full rules):

* FF1 / AOS of the predicted time span, best over the question's aligned reference spans
  (``answer_time_spans``; ``null`` entries are excluded and counted, a question with none is left
  out of the FF1/AOS average and counted);
* SQuAD EM / F1 of the predicted words against every ``answers[k].text`` (only when the
  predictions carry words);
* the pooled frame counts for the separate ``ff1_pooled``.

A question without a prediction scores 0 everywhere and is counted. Averages are over questions,
×100. With an ASR transcript, every metric is also split by whether the reference answer span
holds ASR errors and by the passage's WER bucket.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from speechbert.errors import ConfigError, DataError
from speechbert.io.jsonl import iter_jsonl
from speechbert.io.kaldi_table import read_table
from speechbert.io.sqa_data import SQASet, char_span_to_word_span
from speechbert.metrics.bootstrap import (CI_LEVEL, DEFAULT_BOOTSTRAP_SAMPLES, DEFAULT_BOOTSTRAP_SEED,
                                          mean_intervals)
from speechbert.metrics.span_overlap import PooledFrameF1, best_span_scores, frame_counts
from speechbert.metrics.squad_text import best_em_f1
from speechbert.metrics.wer import ErrorMarks, WerStats, error_marks

#: Default passage-WER bucket edges (percent): 0, (0,10], (10,20], (20,40], >40.
DEFAULT_WER_EDGES = (0.0, 10.0, 20.0, 40.0)

#: How a question with several reference answers is assigned to the ASR-error split.
ERROR_RULES = ("any", "first", "all")

#: The per-question means that get bootstrap intervals (``<metric>_ci``, ``<metric>_ci_half``);
#: the order of the columns :func:`confidence_intervals` builds.
CI_METRICS = ("ff1", "aos", "em", "f1")


@dataclass
class Prediction:
    """One line of ``predictions.jsonl`` (times in passage seconds)."""

    id: str
    context_id: str | None
    start: float | None
    end: float | None
    words: str | None
    word_span: tuple[int, int] | None = None
    score: float | None = None
    line: int | None = None


def _number_or_none(obj: dict, name: str, path: Path, lineno: int) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"field {name!r} must be a finite number or null, got {value!r}", path, lineno)
    return float(value)


def parse_prediction(obj: Any, path: Path, lineno: int) -> Prediction:
    """Validate one decoded ``predictions.jsonl`` object.

    Raises:
        DataError: naming ``path:lineno`` and the field that is wrong.
    """
    if not isinstance(obj, dict):
        raise DataError("expected a JSON object", path, lineno)
    qid = obj.get("id")
    if not isinstance(qid, str) or not qid:
        raise DataError("field 'id' must be a non-empty string", path, lineno)
    cid = obj.get("context_id")
    if cid is not None and not isinstance(cid, str):
        raise DataError("field 'context_id' must be a string", path, lineno, key=qid)
    start = _number_or_none(obj, "start", path, lineno)
    end = _number_or_none(obj, "end", path, lineno)
    if (start is None) != (end is None):
        raise DataError(f"fields 'start' and 'end' must both be numbers or both null, got {start!r} and {end!r}",
                        path, lineno, key=qid)
    if start is not None and end is not None:
        if start < 0:
            raise DataError(f"negative start time {start}", path, lineno, key=qid)
        if start > end:
            raise DataError(f"start {start} is after end {end}", path, lineno, key=qid)
    words = obj.get("words")
    if isinstance(words, list):
        if not all(isinstance(w, str) for w in words):
            raise DataError("field 'words' must be a string or a list of strings", path, lineno, key=qid)
        words = " ".join(words)
    elif words is not None and not isinstance(words, str):
        raise DataError("field 'words' must be a string or a list of strings", path, lineno, key=qid)
    span = obj.get("word_span")
    word_span = None
    if span is not None:
        if (not isinstance(span, list) or len(span) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in span)):
            raise DataError(f"field 'word_span' must be [first, last] integers, got {span!r}",
                            path, lineno, key=qid)
        if span[0] < 0 or span[0] > span[1]:
            raise DataError(f"field 'word_span' {span!r} must have 0 <= first <= last", path, lineno, key=qid)
        word_span = (span[0], span[1])
    score = _number_or_none(obj, "score", path, lineno)
    return Prediction(qid, cid, start, end, words, word_span, score, lineno)


def read_predictions(path: str | Path, questions: Mapping[str, Mapping[str, Any]],
                     passage_durations: Mapping[str, float] | None = None,
                     time_tolerance: float = 0.05) -> dict[str, Prediction]:
    """Read ``predictions.jsonl`` into ``{question id: Prediction}``.

    Args:
        path: the predictions file.
        questions: ``{question id: question}`` of the data set; a prediction must name one of
            them, and its ``context_id`` (when given) must be that question's.
        passage_durations: ``{context id: seconds}``; a predicted end later than its passage's
            end (by more than ``time_tolerance``) is an error.

    Raises:
        DataError: naming the file and line of a malformed line, an unknown question id, a
            context mismatch or a repeated id; naming the file when it holds no prediction.
    """
    path = Path(path)
    out: dict[str, Prediction] = {}
    for lineno, obj in iter_jsonl(path):
        pred = parse_prediction(obj, path, lineno)
        q = questions.get(pred.id)
        if q is None:
            raise DataError(f"prediction for unknown question id {pred.id!r} "
                            "(not in the data set's questions.jsonl)", path, lineno)
        if pred.context_id is not None and pred.context_id != q["context_id"]:
            raise DataError(f"question {pred.id!r}: context_id {pred.context_id!r} does not match "
                            f"the data set's {q['context_id']!r}", path, lineno)
        if pred.id in out:
            raise DataError(f"duplicate prediction for question {pred.id!r} "
                            f"(first on line {out[pred.id].line})", path, lineno)
        if passage_durations is not None and pred.end is not None:
            dur = passage_durations.get(q["context_id"])
            if dur is not None and pred.end > dur + time_tolerance:
                raise DataError(f"question {pred.id!r}: end time {pred.end} s is past the end of its passage "
                                f"({dur:.3f} s)", path, lineno)
        out[pred.id] = pred
    if not out:
        # A decoder that wrote nothing is broken; scoring it would report zeros with exit status 0.
        raise DataError("no predictions (the file is empty)", path)
    return out


def read_asr_text(path: str | Path, reference: Mapping[str, str]) -> dict[str, str]:
    """An ASR transcript table ``<utt> <words>`` of the utterances of ``reference`` (the set's text).

    Raises:
        DataError: naming the file and line of a table error, or of an utterance that is not in
            ``reference`` (the transcript of another set would otherwise score as all deletions).
    """
    out: dict[str, str] = {}
    for lineno, (utt, words) in enumerate(read_table(path, allow_empty_value=True).items(), start=1):  # one a line
        if utt not in reference:
            raise DataError(f"utterance {utt!r} is not in the data set's text (the ASR transcript of another "
                            "set?)", path, lineno)
        out[utt] = words
    return out


# ----------------------------------------------------------------------------------------------
# ASR errors of passages


@dataclass
class PassageAsr:
    """Where a passage's reference words were misrecognised.

    ``error[k]``: reference word ``k`` is not aligned as correct (substituted or deleted);
    ``ins_before[k]``: number of inserted ASR words between reference words ``k - 1`` and ``k``.
    """

    errors: int
    ref_words: int
    error: np.ndarray
    ins_before: np.ndarray
    _err_cum: np.ndarray = field(init=False, repr=False)
    _ins_cum: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._err_cum = np.concatenate([[0], np.cumsum(self.error, dtype=np.int64)])
        self._ins_cum = np.concatenate([[0], np.cumsum(self.ins_before, dtype=np.int64)])

    @property
    def wer(self) -> float:
        """Passage WER in percent (0 for an empty passage)."""
        return 100.0 * self.errors / self.ref_words if self.ref_words else 0.0

    def span_has_error(self, first: int, last: int) -> bool:
        """Whether reference words ``first..last`` (inclusive) hold an ASR error.

        True if one of the words is not correct, or an ASR word was inserted strictly inside
        the span (between two of its words).
        """
        if self._err_cum[last + 1] - self._err_cum[first] > 0:
            return True
        return bool(self._ins_cum[last + 1] - self._ins_cum[first + 1] > 0)


def align_passage(utt_refs: Sequence[Sequence[str]], utt_hyps: Sequence[Sequence[str] | None]) -> PassageAsr:
    """Align a passage utterance by utterance (a missing ASR utterance is all deletions).

    Insertions after an utterance's last word count as falling before the next utterance's first
    word, so the passage behaves as the concatenation of its utterances.
    """
    pairs = [(r, h) for r, h in zip(utt_refs, utt_hyps) if h is not None]
    return _assemble_passage(utt_refs, utt_hyps, iter(error_marks(pairs)))


def _assemble_passage(utt_refs: Sequence[Sequence[str]], utt_hyps: Sequence[Sequence[str] | None],
                      marks: Iterator[ErrorMarks]) -> PassageAsr:
    n = sum(len(r) for r in utt_refs)
    error = np.zeros(n, dtype=bool)
    ins_before = np.zeros(n + 1, dtype=np.int64)  # slot n: after the last word
    errors = 0
    base = 0
    for ref, hyp in zip(utt_refs, utt_hyps):
        if hyp is None:
            error[base:base + len(ref)] = True
            errors += len(ref)
        else:
            m = next(marks)
            error[base:base + len(ref)] = m.wrong
            ins_before[base:base + len(ref) + 1] += m.ins_before
            errors += m.errors
        base += len(ref)
    return PassageAsr(errors, n, error, ins_before[:n])


def passage_asr_table(sqa: SQASet, asr_text: Mapping[str, str],
                      context_ids: Iterable[str] | None = None) -> tuple[dict[str, PassageAsr], WerStats]:
    """Align every passage's reference words with its ASR words.

    Returns ``({context_id: PassageAsr}, corpus WER over the passages' utterances)``. An
    utterance absent from ``asr_text`` is scored as all deletions and counted in ``missing``.
    """
    cids = list(sqa.contexts if context_ids is None else context_ids)
    refs = {cid: [sqa.text[u].split() for u in sqa.contexts[cid]] for cid in cids}
    hyps = {cid: [asr_text[u].split() if u in asr_text else None for u in sqa.contexts[cid]] for cid in cids}
    # One batched alignment of every utterance of the set (see error_marks).
    marks = iter(error_marks([(r, h) for cid in cids for r, h in zip(refs[cid], hyps[cid]) if h is not None]))
    table: dict[str, PassageAsr] = {}
    stats = WerStats()
    for cid in cids:
        table[cid] = _assemble_passage(refs[cid], hyps[cid], marks)
        stats.errors += table[cid].errors
        stats.ref_words += table[cid].ref_words
        stats.utterances += len(refs[cid])
        stats.missing += sum(h is None for h in hyps[cid])
    return table, stats


def parse_wer_edges(spec: str | Sequence[float]) -> tuple[float, ...]:
    """Parse bucket edges such as ``"0,10,20,40"`` (percent, strictly increasing, >= 0).

    Raises:
        ConfigError: on a value that is not a number, negative, or out of order.
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    try:
        edges = tuple(float(x) for x in items if str(x).strip() != "")
    except ValueError:
        raise ConfigError(f"WER bucket edges must be comma-separated numbers, got {spec!r}") from None
    if not edges or edges[0] < 0 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ConfigError(f"WER bucket edges must be non-negative and strictly increasing, got {spec!r}")
    return edges


def _fmt_edge(x: float) -> str:
    return f"{x:g}"


def wer_bucket_names(edges: Sequence[float]) -> list[str]:
    """Bucket labels for ``edges``: ``0`` (exactly 0) or ``[0,e0]``, then ``(a,b]``…, ``>last``."""
    names = ["0" if edges[0] == 0 else f"[0,{_fmt_edge(edges[0])}]"]
    names += [f"({_fmt_edge(a)},{_fmt_edge(b)}]" for a, b in zip(edges, edges[1:])]
    names.append(f">{_fmt_edge(edges[-1])}")
    return names


def wer_bucket(wer: float, edges: Sequence[float]) -> int:
    """Index into :func:`wer_bucket_names` of a passage WER (percent)."""
    for k, edge in enumerate(edges):
        if wer <= edge + 1e-9:
            return k
    return len(edges)


# ----------------------------------------------------------------------------------------------
# Per-question scores and their aggregation


@dataclass
class QuestionScore:
    """The scores of one question; ``None`` where the question is not scored for that metric."""

    id: str
    context_id: str
    ff1: float | None
    aos: float | None
    em: float | None
    f1: float | None
    frames: tuple[int, int, int]
    has_prediction: bool
    asr_error: bool | None = None
    passage_wer: float | None = None
    wer_bucket: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record (scores ×100): one line of ``scores.jsonl``."""
        def pct(x: float | None) -> float | None:
            return None if x is None else 100.0 * x

        return {"id": self.id, "context_id": self.context_id, "ff1": pct(self.ff1), "aos": pct(self.aos),
                "em": pct(self.em), "f1": pct(self.f1), "has_prediction": self.has_prediction,
                "asr_error": self.asr_error, "passage_wer": self.passage_wer, "wer_bucket": self.wer_bucket}


def answer_word_spans(q: Mapping[str, Any], passage: str) -> list[tuple[int, int]]:
    """The question's reference word spans: ``answer_word_spans`` or, before stage 4 wrote them,
    the spans derived from ``answers[k].char_start``."""
    spans = q.get("answer_word_spans")
    if spans is not None:
        return [(int(s[0]), int(s[1])) for s in spans]
    return [char_span_to_word_span(passage, a["char_start"], len(a["text"])) for a in q["answers"]]


def score_question(q: Mapping[str, Any], pred: Prediction | None, *, text_scored: bool,
                   frame_shift: float = 0.01) -> tuple[QuestionScore, int]:
    """Score one question; returns the score and its number of ``null`` reference time spans."""
    times = q.get("answer_time_spans") or []
    refs = [t for t in times if t is not None]
    n_null = len(times) - len(refs)
    span = None if pred is None else (pred.start, pred.end)
    ff1 = aos = None
    frames = (0, 0, 0)
    if refs:
        if span is not None and span[0] is not None and span[1] is not None:
            ff1, aos = best_span_scores(span, refs)  # type: ignore[arg-type]
            frames = frame_counts(span, refs, frame_shift)  # type: ignore[arg-type]
        else:
            ff1 = aos = 0.0
            frames = frame_counts(None, refs, frame_shift)
    em = f1 = None
    if text_scored:
        if pred is None or pred.words is None:
            em = f1 = 0.0
        else:
            em, f1 = best_em_f1(pred.words, [a["text"] for a in q["answers"]])
    return QuestionScore(q["id"], q["context_id"], ff1, aos, em, f1, frames, pred is not None), n_null


def summarize(scores: Sequence[QuestionScore], frame_shift: float = 0.01, *,
              bootstrap_samples: int = DEFAULT_BOOTSTRAP_SAMPLES,
              bootstrap_seed: int = DEFAULT_BOOTSTRAP_SEED) -> dict[str, Any]:
    """Averages (×100), their bootstrap intervals and counts over a group of questions.

    ``questions`` counts the group; ``scored_time`` the questions in the FF1/AOS/ff1_pooled
    averages (those with an aligned reference), ``scored_text`` those in EM/F1. For each metric
    of :data:`CI_METRICS`, ``<metric>_ci`` is the 95 % percentile bootstrap interval
    ``[low, high]`` of the mean (the group's questions resampled with replacement,
    ``bootstrap_samples`` times, ``numpy.random.default_rng(bootstrap_seed)``) and
    ``<metric>_ci_half`` its half-width ``(high − low) / 2``; both ``None`` where the mean is
    ``None`` or ``bootstrap_samples`` is 0.
    """
    def mean(values: list[float]) -> float | None:
        return 100.0 * float(np.mean(values)) if values else None

    timed = [s for s in scores if s.ff1 is not None]
    texted = [s for s in scores if s.em is not None]
    pooled = PooledFrameF1(frame_shift=frame_shift)
    for s in timed:
        pooled.add_counts(*s.frames)
    out: dict[str, Any] = {
        "questions": len(scores),
        "scored_time": len(timed),
        "scored_text": len(texted),
        "missing_predictions": sum(not s.has_prediction for s in scores),
        "ff1": mean([s.ff1 for s in timed]),  # type: ignore[misc]
        "aos": mean([s.aos for s in timed]),  # type: ignore[misc]
        "em": mean([s.em for s in texted]),  # type: ignore[misc]
        "f1": mean([s.f1 for s in texted]),  # type: ignore[misc]
        "ff1_pooled": 100.0 * pooled.f1 if timed else None,
    }
    out.update(confidence_intervals(scores, out, bootstrap_samples, bootstrap_seed))
    return out


def confidence_intervals(scores: Sequence[QuestionScore], means: Mapping[str, Any], samples: int,
                         seed: int) -> dict[str, Any]:
    """``<metric>_ci`` and ``<metric>_ci_half`` of :data:`CI_METRICS` for one group (see :func:`summarize`)."""
    out: dict[str, Any] = {}
    if samples > 0 and scores:
        nan = float("nan")
        values = np.array([[nan if s.ff1 is None else s.ff1, nan if s.aos is None else s.aos,
                            nan if s.em is None else s.em, nan if s.f1 is None else s.f1] for s in scores])
        intervals = mean_intervals(100.0 * values, samples, seed, CI_LEVEL)
    else:
        intervals = [None] * len(CI_METRICS)
    for m, iv in zip(CI_METRICS, intervals):
        mean = means.get(m)
        if iv is None or mean is None:
            out[f"{m}_ci"] = out[f"{m}_ci_half"] = None
            continue
        low, high = min(iv.low, mean), max(iv.high, mean)
        out[f"{m}_ci"] = [low, high]
        out[f"{m}_ci_half"] = (high - low) / 2.0
    return out


def score_sqa(sqa: SQASet, predictions: Mapping[str, Prediction], *,
              asr_text: Mapping[str, str] | None = None,
              wer_edges: Sequence[float] = DEFAULT_WER_EDGES,
              error_rule: str = "any",
              frame_shift: float = 0.01,
              asr_alignment: tuple[dict[str, PassageAsr], WerStats] | None = None,
              bootstrap_samples: int = DEFAULT_BOOTSTRAP_SAMPLES,
              bootstrap_seed: int = DEFAULT_BOOTSTRAP_SEED,
              ) -> tuple[dict[str, Any], list[QuestionScore]]:
    """Score ``predictions`` on the questions of ``sqa``.

    Args:
        sqa: the loaded data directory.
        predictions: ``{question id: Prediction}`` (see :func:`read_predictions`).
        asr_text: ``{utt: ASR words}``; enables the WER and the two splits.
        wer_edges: passage-WER bucket edges in percent (see :func:`parse_wer_edges`).
        error_rule: which reference answers decide the ASR-error split: ``any`` (the question
            is "with ASR error" if any reference span holds one), ``first`` (the first
            reference), ``all`` (every reference).
        frame_shift: frame length of ``ff1_pooled``, seconds.
        asr_alignment: :func:`passage_asr_table` of ``asr_text`` if the caller already has it.
        bootstrap_samples: resamples of the confidence intervals of every group (0: none).
        bootstrap_seed: their seed (each group starts a generator with it).

    Returns:
        ``(result, per-question scores)``; ``result`` holds ``overall``, ``ff1_pooled``,
        ``counts``, ``bootstrap`` (the interval settings, ``None`` without intervals), and (with
        ASR text) ``wer``, ``by_asr_error``, ``by_passage_wer``.

    Raises:
        ConfigError: on an unknown ``error_rule`` or a negative ``bootstrap_samples``.
        DataError: if the set has no questions, or a reference word span lies outside its passage.
    """
    if error_rule not in ERROR_RULES:
        raise ConfigError(f"error_rule must be one of {', '.join(ERROR_RULES)}, got {error_rule!r}")
    if bootstrap_samples < 0:
        raise ConfigError(f"bootstrap_samples must be 0 (no intervals) or positive, got {bootstrap_samples}")
    if not sqa.questions:
        # Scores of nothing would read as a table of dashes with exit status 0.
        raise DataError("no questions to score", sqa.data_dir / "questions.jsonl")
    boot = {"bootstrap_samples": bootstrap_samples, "bootstrap_seed": bootstrap_seed}
    text_scored = any(p.words is not None for p in predictions.values())
    qcontexts = list(dict.fromkeys(q["context_id"] for q in sqa.questions))
    asr_table: dict[str, PassageAsr] = {}
    wer_stats: WerStats | None = None
    if asr_alignment is not None:
        asr_table, wer_stats = asr_alignment
    elif asr_text is not None:
        # Passages without questions still count towards the corpus WER.
        asr_table, wer_stats = passage_asr_table(sqa, asr_text)
    bucket_names = wer_bucket_names(wer_edges)
    scores: list[QuestionScore] = []
    n_null = 0
    n_no_time = 0
    for q in sqa.questions:
        pred = predictions.get(q["id"])
        score, nulls = score_question(q, pred, text_scored=text_scored, frame_shift=frame_shift)
        n_null += nulls
        n_no_time += score.ff1 is None
        if wer_stats is not None:
            asr = asr_table[q["context_id"]]
            spans = answer_word_spans(q, sqa.passage_text(q["context_id"]))
            for k, (first, last) in enumerate(spans):
                if not 0 <= first <= last < asr.ref_words:
                    raise DataError(f"question {q['id']!r}: answer_word_spans[{k}] = [{first}, {last}] "
                                    f"is outside its passage of {asr.ref_words} words",
                                    sqa.data_dir / "questions.jsonl", key=q["id"])
            flags = [asr.span_has_error(first, last) for first, last in spans]
            score.asr_error = (any(flags) if error_rule == "any" else
                               flags[0] if error_rule == "first" else all(flags))
            score.passage_wer = asr.wer
            score.wer_bucket = bucket_names[wer_bucket(asr.wer, wer_edges)]
        scores.append(score)

    result: dict[str, Any] = {
        "overall": summarize(scores, frame_shift, **boot),
        "counts": {
            "questions": len(scores),
            "predictions": sum(q["id"] in predictions for q in sqa.questions),
            "missing_predictions": sum(not s.has_prediction for s in scores),
            "null_time_references": n_null,
            "questions_without_time_reference": n_no_time,
            "predictions_without_words": (sum(p.words is None for p in predictions.values())
                                          if text_scored else None),
            "contexts_with_questions": len(qcontexts),
        },
        "text_scored": text_scored,
        "frame_shift": frame_shift,
        "error_rule": error_rule,
        "bootstrap": ({"samples": bootstrap_samples, "seed": bootstrap_seed, "level": CI_LEVEL,
                       "method": "percentile", "resampled": "questions"} if bootstrap_samples > 0 else None),
    }
    pooled = PooledFrameF1(frame_shift=frame_shift)
    for s in scores:
        if s.ff1 is not None:
            pooled.add_counts(*s.frames)
    result["ff1_pooled"] = pooled.as_dict()
    if wer_stats is not None:
        result["wer"] = wer_stats.as_dict()
        result["by_asr_error"] = {
            "no_asr_error": summarize([s for s in scores if s.asr_error is False], frame_shift, **boot),
            "with_asr_error": summarize([s for s in scores if s.asr_error], frame_shift, **boot),
        }
        names = wer_bucket_names(wer_edges)
        groups: list[list[QuestionScore]] = [[] for _ in names]
        for s in scores:
            groups[wer_bucket(s.passage_wer, wer_edges)].append(s)  # type: ignore[arg-type]
        result["wer_edges"] = list(wer_edges)
        result["by_passage_wer"] = [
            {"bucket": name,
             "passages": sum(wer_bucket(asr_table[c].wer, wer_edges) == k for c in qcontexts),
             **summarize(group, frame_shift, **boot)}
            for k, (name, group) in enumerate(zip(names, groups))
        ]
    else:
        result["wer"] = None
        result["by_asr_error"] = None
        result["by_passage_wer"] = None
    return result, scores


# ----------------------------------------------------------------------------------------------
# Markdown


def _cell(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _ci_cell(s: Mapping[str, Any], metric: str) -> str:
    half = s.get(f"{metric}_ci_half")
    return _cell(s.get(metric)) + ("" if half is None or s.get(metric) is None else f" ± {half:.2f}")


def format_result_md(result: Mapping[str, Any]) -> str:
    """A readable Markdown report of a ``result.json``."""
    name = result.get("system_name") or "system"
    lines = [f"# SQA scores: {name} on {result.get('data_set', '?')}", ""]
    lines.append(f"- data: `{result.get('data', '?')}`; predictions: `{result.get('predictions', '?')}`")
    if result.get("asr_text"):
        lines.append(f"- ASR transcript: `{result['asr_text']}`")
    c = result["counts"]
    lines.append(f"- questions: {c['questions']}; predictions: {c['predictions']}; "
                 f"missing (scored 0): {c['missing_predictions']}")
    lines.append(f"- unaligned reference spans excluded: {c['null_time_references']}; "
                 f"questions without an aligned reference (not in FF1/AOS): "
                 f"{c['questions_without_time_reference']}")
    if result.get("wer"):
        w = result["wer"]
        lines.append(f"- ASR WER: {w['wer']:.2f}% ({w['errors']} errors / {w['ref_words']} words, "
                     f"{w['utterances']} utterances, {w['missing']} without ASR text)")
    lines.append("- FF1/AOS: per question, best over references, averaged over questions (×100); "
                 "span end = end of the last word. `ff1_pooled` pools 10 ms frames over the set "
                 "(SLUE-SQA-5 style) and is not comparable with FF1.")
    if result.get("bootstrap"):
        b = result["bootstrap"]
        lines.append(f"- ± is half the width of the {100 * b['level']:g} % percentile bootstrap interval "
                     f"({b['samples']} resamples of the group's questions, seed {b['seed']}); the "
                     "interval itself (`<metric>_ci`, possibly asymmetric) is in result.json.")
    if result.get("seed") is not None:
        lines.append(f"- training seed: {result['seed']}")
    lines.append("")
    header = "| group | FF1 | AOS | EM | F1 | ff1_pooled | questions | scored FF1/AOS | scored EM/F1 | missing |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    lines += [header, rule]

    def row(label: str, s: Mapping[str, Any]) -> str:
        return (f"| {label} | {_ci_cell(s, 'ff1')} | {_ci_cell(s, 'aos')} | {_ci_cell(s, 'em')} | "
                f"{_ci_cell(s, 'f1')} | "
                f"{_cell(s['ff1_pooled'])} | {s['questions']} | {s['scored_time']} | {s['scored_text']} | "
                f"{s['missing_predictions']} |")

    lines.append(row("overall", result["overall"]))
    if result.get("by_asr_error"):
        lines.append(row("no ASR error in answer", result["by_asr_error"]["no_asr_error"]))
        lines.append(row("ASR error in answer", result["by_asr_error"]["with_asr_error"]))
    if result.get("by_passage_wer"):
        for b in result["by_passage_wer"]:
            lines.append(row(f"passage WER {b['bucket']} ({b['passages']} passages)", b))
    lines.append("")
    return "\n".join(lines)
