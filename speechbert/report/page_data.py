"""Everything the error-analysis page shows, collected from a recipe's ``exp/`` and ``data/<set>/``.

Per system (a ``decode_*/result.json`` of the data set): its result (the table and bar chart),
its ``predictions.jsonl`` (the predicted time spans) and its ``scores.jsonl`` (per-question FF1,
the ASR-error split and the passage-WER bucket). Per passage: the reference and ASR words with
the errors of their word alignment, the waveform envelope and where its audio is. Per question:
the reference spans and each system's predicted span. All times are passage time (doc/design.md).
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import quote

import numpy as np

from speechbert.audio.wav_io import WavSource
from speechbert.decode.predictions import read_prediction_records
from speechbert.errors import DataError
from speechbert.io.kaldi_table import read_table
from speechbert.io.sqa_data import SQASet, load_sqa_set
from speechbert.metrics.results_table import SystemResult, collect_results, read_scores
from speechbert.metrics.wer import align_words
from speechbert.report.waveform import DEFAULT_BINS, passage_samples, peak_envelope, write_wav

logger = logging.getLogger(__name__)

#: A prediction counts as correct on the page when its FF1 reaches this (the predicted span and
#: the reference overlap by at least half, in the F1 sense).
CORRECT_FF1 = 50.0


@dataclass
class SystemColumn:
    """One system of the page: its key in the HTML (``s0``, ``s1``, ...) and what it produced."""

    key: str
    result: SystemResult
    predictions: dict[str, dict]
    scores: dict[str, dict[str, Any]]

    @property
    def label(self) -> str:
        return self.result.label


@dataclass
class Track:
    """One audio file of a passage: its URL relative to the page and where it starts (passage time)."""

    src: str
    offset: float
    duration: float


@dataclass
class MarkedWord:
    """A word and whether the alignment of the reference and ASR words marks it as an error."""

    word: str
    error: bool


@dataclass
class Passage:
    """One passage: duration, words, waveform envelope (peaks in [0, 1]) and audio tracks."""

    context_id: str
    duration: float
    ref_words: list[MarkedWord]
    asr_words: list[MarkedWord] | None
    envelope: np.ndarray
    tracks: list[Track]


@dataclass
class PredictedSpan:
    """One system's predicted span for a question (``start``/``end`` None when it gave none)."""

    start: float | None
    end: float | None
    words: str | None
    ff1: float | None

    @property
    def correct(self) -> bool:
        return self.ff1 is not None and self.ff1 >= CORRECT_FF1


@dataclass
class QuestionEntry:
    """One question with its reference spans and every system's prediction (by system key)."""

    qid: str
    context_id: str
    question: str
    answers: list[str]
    ref_spans: list[tuple[float, float]]
    asr_error: bool | None
    wer_bucket: str | None
    predictions: dict[str, PredictedSpan] = field(default_factory=dict)


@dataclass
class ReportData:
    """The page's content."""

    data_set: str
    systems: list[SystemColumn]
    passages: dict[str, Passage]
    questions: list[QuestionEntry]
    wer_buckets: list[str]
    asr_text: Path | None


def select_results(exp_dir: str | Path, data_set: str, systems: Sequence[str] | None = None) -> list[SystemResult]:
    """The ``result.json`` files of ``data_set`` under ``exp_dir``, optionally only the named systems
    (system name or row label), in :func:`collect_results` order.

    Raises:
        DataError: when none is found, or a named system has no result on this data set.
    """
    found = [r for r in collect_results(exp_dir) if r.data_set == data_set]
    if systems:
        missing = [s for s in systems if not any(s in (r.name, r.label) for r in found)]
        if missing:
            have = ", ".join(dict.fromkeys(r.label for r in found)) or "none"
            raise DataError(f"no result on data set {data_set!r} for system(s) {', '.join(missing)} "
                            f"(found: {have})", exp_dir)
        found = [r for r in found if r.name in systems or r.label in systems]
    if not found:
        raise DataError(f"no decode_*/result.json for data set {data_set!r} (run stage 8-9 first)", exp_dir)
    return found


def _resolve(path: str | Path, exp_dir: Path) -> Path | None:
    """A path written in a result.json (relative to the recipe directory) as an existing file."""
    p = Path(path)
    for cand in ([p] if p.is_absolute() else [p, exp_dir.parent / p]):
        if cand.is_file():
            return cand
    return None


def find_asr_text(results: Sequence[SystemResult], exp_dir: Path, data_set: str) -> Path | None:
    """The ASR transcript the scores were computed with: the ``asr_text`` most results name, else
    the only ``exp/asr_*/<set>/text``; None when there is none."""
    named = Counter(str(r.result["asr_text"]) for r in results if r.result.get("asr_text"))
    for name, _ in named.most_common():
        path = _resolve(name, exp_dir)
        if path is not None:
            return path
    cands = sorted(exp_dir.glob(f"asr_*/{data_set}/text"))
    return cands[0] if len(cands) == 1 else None


def _load_system(key: str, r: SystemResult) -> SystemColumn:
    pred_path = r.path.parent / "predictions.jsonl"
    if not pred_path.is_file():
        raise DataError("no predictions.jsonl beside this result", r.path)
    scores = read_scores(r.scores_path) if r.scores_path.is_file() else {}
    if not scores:
        logger.warning("%s: no scores.jsonl; its questions are shown without FF1 and split", r.path.parent)
    return SystemColumn(key, r, read_prediction_records(pred_path), scores)


def mark_errors(ref_utts: Sequence[Sequence[str]], hyp_utts: Sequence[Sequence[str]]) -> tuple[
        list[MarkedWord], list[MarkedWord]]:
    """Reference and ASR words of a passage with the errors of their utterance-by-utterance word
    alignment marked: substituted and deleted reference words, substituted and inserted ASR words."""
    ref_out: list[MarkedWord] = []
    hyp_out: list[MarkedWord] = []
    for ref, hyp in zip(ref_utts, hyp_utts):
        ref_err = [False] * len(ref)
        hyp_err = [False] * len(hyp)
        for op, i, j in align_words(list(ref), list(hyp)):
            if op != "C":
                if i is not None:
                    ref_err[i] = True
                if j is not None:
                    hyp_err[j] = True
        ref_out += [MarkedWord(w, e) for w, e in zip(ref, ref_err)]
        hyp_out += [MarkedWord(w, e) for w, e in zip(hyp, hyp_err)]
    return ref_out, hyp_out


def _safe_name(context_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", context_id)


def _url(path: Path, page_dir: Path) -> str:
    """A relative URL from the page's directory to ``path`` (percent-encoded, ``/`` separators)."""
    rel = os.path.relpath(path.resolve(), page_dir.resolve())
    return quote(Path(rel).as_posix())


class _AudioPlanner:
    """Decides how the page reaches each passage's audio: the utterances' own files by relative
    path where wav.scp names plain files (no ``segments``), else a passage wav written next to
    the page (always with ``embed_audio``)."""

    def __init__(self, data_dir: Path, page_dir: Path, embed_audio: bool) -> None:
        self.page_dir = page_dir
        self.wav_scp = data_dir / "wav.scp"
        segments = data_dir / "segments"
        self.source = WavSource(self.wav_scp, segments if segments.is_file() else None)
        self.entries = read_table(self.wav_scp)
        self.has_segments = segments.is_file()
        self.embed_audio = embed_audio
        self.written = 0

    def _referable(self, utt: str) -> Path | None:
        value = self.entries.get(utt)
        if self.has_segments or value is None or value.strip().endswith("|"):
            return None
        path = Path(value.strip())
        return path if path.is_file() else None

    def tracks(self, cid: str, utts: Sequence[str], durs: Sequence[float], samples: np.ndarray,
               rate: int) -> list[Track]:
        files = [self._referable(u) for u in utts]
        if not self.embed_audio and all(f is not None for f in files):
            out, t = [], 0.0
            for f, d in zip(files, durs):
                out.append(Track(_url(f, self.page_dir), round(t, 3), round(d, 3)))  # type: ignore[arg-type]
                t += d
            return out
        wav = self.page_dir / "audio" / f"{_safe_name(cid)}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        write_wav(wav, samples, rate)
        self.written += 1
        return [Track(_url(wav, self.page_dir), 0.0, round(float(sum(durs)), 3))]


def _first(values: Sequence[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def collect_report_data(exp_dir: str | Path, data_dir: str | Path, page_path: str | Path, *,
                        systems: Sequence[str] | None = None, embed_audio: bool = False,
                        asr_text: str | Path | None = None, bins: int = DEFAULT_BINS) -> ReportData:
    """Collect the page's content for the data set ``data_dir`` (its name is the data set's).

    Args:
        exp_dir: the experiment root searched for ``decode_*/result.json``.
        data_dir: ``data/<set>`` (text, contexts, questions.jsonl, utt2dur, wav.scp[, segments]).
        page_path: where the page will be written (audio URLs are relative to its directory;
            passage wavs are written beside it with ``embed_audio``).
        systems: only these systems (names or row labels); default all of the data set.
        embed_audio: write one wav per passage next to the page instead of referencing the
            corpus audio (for sharing the page with its audio).
        asr_text: the ASR transcript shown under the reference words; default the one the
            results were scored with.
        bins: envelope points per passage.

    Raises:
        DataError: naming the file at fault (missing results, bad predictions or scores, audio
            that cannot be read, a question whose context is unknown).
    """
    exp_dir, data_dir, page_dir = Path(exp_dir), Path(data_dir), Path(page_path).parent
    sqa: SQASet = load_sqa_set(data_dir, require_questions=True)
    data_set = data_dir.name
    results = select_results(exp_dir, data_set, systems)
    columns = [_load_system(f"s{k}", r) for k, r in enumerate(results)]
    asr_path = Path(asr_text) if asr_text is not None else find_asr_text(results, exp_dir, data_set)
    if asr_path is not None and not asr_path.is_file():
        raise DataError("no such ASR transcript (--asr_text)", asr_path)
    asr = read_table(asr_path, allow_empty_value=True) if asr_path is not None else None

    questions: list[QuestionEntry] = []
    for q in sqa.questions:
        qid = q["id"]
        entry = QuestionEntry(
            qid, q["context_id"], q["question"], [a["text"] for a in q["answers"]],
            [(float(s[0]), float(s[1])) for s in q.get("answer_time_spans") or [] if s is not None],
            _first([c.scores.get(qid, {}).get("asr_error") for c in columns]),
            _first([c.scores.get(qid, {}).get("wer_bucket") for c in columns]))
        for c in columns:
            rec = c.predictions.get(qid) or {}
            entry.predictions[c.key] = PredictedSpan(rec.get("start"), rec.get("end"), rec.get("words"),
                                                     c.scores.get(qid, {}).get("ff1"))
        questions.append(entry)

    planner = _AudioPlanner(data_dir, page_dir, embed_audio)
    passages: dict[str, Passage] = {}
    for cid in dict.fromkeys(q.context_id for q in questions):
        utts = sqa.contexts[cid]
        durs = [sqa.utt2dur[u] for u in utts]
        samples, rate = passage_samples(planner.source, utts, durs)
        ref_utts = [sqa.text[u].split() for u in utts]
        if asr is not None:
            ref_words, asr_words = mark_errors(ref_utts, [asr.get(u, "").split() for u in utts])
        else:
            ref_words, asr_words = [MarkedWord(w, False) for ws in ref_utts for w in ws], None
        passages[cid] = Passage(cid, float(sum(durs)), ref_words, asr_words, peak_envelope(samples, bins),
                                planner.tracks(cid, utts, durs, samples, rate))
    if planner.written:
        logger.info("wrote %d passage wav(s) to %s", planner.written, page_dir / "audio")
    buckets = list(dict.fromkeys(b["bucket"] for r in results for b in r.result.get("by_passage_wer") or []
                                 if isinstance(b, dict) and "bucket" in b))
    buckets += [b for b in dict.fromkeys(q.wer_bucket for q in questions) if b is not None and b not in buckets]
    return ReportData(data_set, columns, passages, questions, buckets, asr_path)
