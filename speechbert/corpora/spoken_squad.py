"""Import a corpus in the Spoken SQuAD release layout into SQA data directories.

Inputs (``doc/corpora.md``):

* the spoken JSON files ``spoken_train-v1.1.json``, ``spoken_test-v1.1.json`` (and optionally
  ``spoken_test-v1.1_WER44.json`` / ``_WER54.json``): SQuAD format whose ``context`` is the
  paragraph's ASR transcript; they decide which questions exist;
* one wav per sentence, ``<TopicIndex>_<ParagraphIndex>_<SentenceIndex>.wav``, indexes following
  the reference SQuAD JSON;
* the reference SQuAD v1.1 text: ``train-v1.1.json`` (for train) and ``dev-v1.1.json`` (for
  test), from ``squad_root``, or the ``reference_<split>-v1.1.json`` copy that
  ``synthesize_squad`` leaves beside its output;
* optionally ``word_times/<split>.txt`` (synthesized corpora): oracle word times.

Outputs ``data/<set>/`` as in ``doc/design.md``; ``dev`` is the last ``dev_size`` paragraphs of
train (by paragraph, in file order). Questions are paired with the reference by id; their answers
are the reference answers relocated into the normalized reference passage. Everything that cannot
be used is counted by reason in ``data/<set>/prep.log``; the import fails only if the lost share
of questions of a source is above ``max_loss_ratio`` (then nothing is written to ``data/<set>``,
and the log is left at ``data/<set>.prep.log``).
"""

from __future__ import annotations

import collections
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from speechbert.errors import DataError
from speechbert.io.kaldi_table import write_table
from speechbert.io.sqa_data import write_contexts, write_questions
from speechbert.io.squad_json import Paragraph, iter_paragraphs, load_squad
from speechbert.synth.spoken_squad_synth import CONTEXT_SOURCE_REFERENCE, reference_json_name, spoken_json_name
from speechbert.text.normalize import normalize_text, relocate_span
from speechbert.text.sentences import SPLIT_METHODS, split_sentences
from speechbert.text.word_alignment import distribute_words

__all__ = ["SourceSpec", "ImportOptions", "PreparedParagraph", "SourceReport", "find_sources",
           "import_spoken_squad"]

logger = logging.getLogger(__name__)

_WAV_NAME = re.compile(r"^(\d+)_(\d+)_(\d+)\.wav$")
# Reference SQuAD file for each Spoken SQuAD split (Spoken SQuAD test was made from SQuAD dev).
_SQUAD_NAMES = {"train": "train-v1.1.json", "test": "dev-v1.1.json"}


@dataclass
class SourceSpec:
    """One spoken JSON to import, and where its audio and reference text are."""

    set_name: str          #: output set (train, test, test_wer44, ...); train also feeds dev
    split: str             #: source split, the context-id prefix: train or test
    spoken_json: Path
    reference_json: Path
    wav_dir: Path
    word_times: Path | None = None


@dataclass
class ImportOptions:
    dev_size: int = 0                #: paragraphs of train held out as dev
    max_loss_ratio: float = 0.05     #: largest tolerated share of lost questions per source
    split_method: str = "rules"      #: sentence splitter; the other one is tried on a mismatch
    dev_set: str = "dev"


@dataclass
class PreparedParagraph:
    context_id: str
    utts: list[str]
    sentences: list[str]             #: normalized reference sentences
    wavs: list[Path]
    durations: list[float]
    questions: list[dict]
    asr: list[list[str]] | None = None
    ctm: list[str] = field(default_factory=list)


@dataclass
class SourceReport:
    """What happened to one source: kept counts and lost counts per reason."""

    spec: SourceSpec
    questions_in: int = 0
    paragraphs_in: int = 0
    lost_questions: collections.Counter = field(default_factory=collections.Counter)
    issues: collections.Counter = field(default_factory=collections.Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    paragraphs: list[PreparedParagraph] = field(default_factory=list)

    def note(self, reason: str, example: str, questions: int = 0, count: int = 1) -> None:
        if questions:
            self.lost_questions[reason] += questions
        self.issues[reason] += count
        ex = self.examples.setdefault(reason, [])
        if len(ex) < 5:
            ex.append(example)

    @property
    def questions_lost(self) -> int:
        return sum(self.lost_questions.values())

    @property
    def loss_ratio(self) -> float:
        return self.questions_lost / self.questions_in if self.questions_in else 0.0


def find_sources(spoken_root: str | Path, squad_root: str | Path | None = None,
                 include_noisy: bool = True) -> list[SourceSpec]:
    """Locate the release files under ``spoken_root`` (and the reference text).

    The wav directory of split ``x`` is the first of ``wav/x``, ``x_wav``, ``wav_x``, ``x``
    (``test`` also tries ``dev``) that exists. A noisy test set uses its own audio directory
    (``wav/test_wer44``, ...) when there is one, otherwise the clean test audio.

    Raises:
        DataError: if a required file or directory is missing.
    """
    root = Path(spoken_root).resolve()
    if not root.is_dir():
        raise DataError("no such directory (the Spoken SQuAD release)", root)
    specs = []
    for split in ("train", "test"):
        spoken = root / spoken_json_name(split)
        if not spoken.is_file():
            raise DataError(f"missing {spoken.name} in the Spoken SQuAD directory", spoken)
        reference = _reference_json(root, squad_root, split)
        wav_dir = _wav_dir(root, split)
        times = root / "word_times" / f"{split}.txt"
        specs.append(SourceSpec(split, split, spoken, reference, wav_dir, times if times.is_file() else None))
        if split == "test" and include_noisy:
            for tag in ("WER44", "WER54"):
                noisy = root / f"spoken_test-v1.1_{tag}.json"
                if not noisy.is_file():
                    continue
                name = f"test_{tag.lower()}"
                noisy_wav = next((d for d in (root / "wav" / name, root / "wav" / f"test_{tag}", root / f"{name}_wav")
                                  if d.is_dir()), wav_dir)
                specs.append(SourceSpec(name, "test", noisy, reference, noisy_wav,
                                        times if times.is_file() else None))
    return specs


def _reference_json(root: Path, squad_root: str | Path | None, split: str) -> Path:
    candidates = []
    if squad_root:
        candidates.append(Path(squad_root).resolve() / _SQUAD_NAMES[split])
    candidates.append(root / reference_json_name(split))
    for c in candidates:
        if c.is_file():
            return c
    raise DataError(f"no reference SQuAD text for {split}: looked for "
                    f"{' and '.join(str(c) for c in candidates)} (pass --squad_root)")


def _wav_dir(root: Path, split: str) -> Path:
    names = [root / "wav" / split, root / f"{split}_wav", root / f"wav_{split}", root / split]
    if split == "test":
        names += [root / "wav" / "dev", root / "dev_wav", root / "dev"]
    for d in names:
        if d.is_dir():
            return d
    raise DataError(f"no wav directory for {split}: looked for {', '.join(str(d) for d in names)}")


def _index_wavs(wav_dir: Path) -> dict[tuple[int, int], dict[int, Path]]:
    index: dict[tuple[int, int], dict[int, Path]] = collections.defaultdict(dict)
    with os.scandir(wav_dir) as it:
        for entry in it:
            m = _WAV_NAME.match(entry.name)
            if m:
                t, p, s = (int(x) for x in m.groups())
                index[(t, p)][s] = Path(entry.path).resolve()
    return index


def _read_word_times(path: Path) -> dict[str, list[tuple[float, float, str]]]:
    times: dict[str, list[tuple[float, float, str]]] = collections.defaultdict(list)
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                fields = raw.decode("utf-8").split()
            except UnicodeDecodeError as e:
                raise DataError(f"not valid UTF-8 ({e.reason})", path, lineno) from None
            if len(fields) != 5:
                raise DataError("expected '<key> <word_index> <start> <end> <word>'", path, lineno)
            key, idx, start, end, word = fields
            try:
                i, s, e = int(idx), float(start), float(end)
            except ValueError:
                raise DataError("word index, start and end must be numbers", path, lineno) from None
            if i != len(times[key]) or e < s or s < 0:
                raise DataError(f"word {i} of {key}: out of order or negative duration", path, lineno)
            times[key].append((s, e, word))
    return times


def _audio_info(path: Path) -> tuple[float | None, str | None]:
    """``(duration, None)`` or ``(None, reason)`` for a wav file."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as e:  # noqa: BLE001 - libsndfile raises several types for bad files
        return None, f"unreadable_audio ({type(e).__name__})"
    if info.frames <= 0 or info.samplerate <= 0:
        return None, "empty_audio"
    return info.frames / info.samplerate, None


def _prepare_source(spec: SourceSpec, opts: ImportOptions) -> SourceReport:
    report = SourceReport(spec)
    reference = load_squad(spec.reference_json)
    spoken = load_squad(spec.spoken_json, require_answers=False)
    meta = json.loads(spec.spoken_json.read_text(encoding="utf-8")).get("speechbert", {})
    has_asr = not (isinstance(meta, dict) and meta.get("context_source") == CONTEXT_SOURCE_REFERENCE)
    ref_q: dict[str, tuple[Paragraph, int]] = {}
    for par in iter_paragraphs(reference):
        for k, qa in enumerate(par.qas):
            ref_q[qa.id] = (par, k)
    # questions of the spoken JSON grouped by reference paragraph, with that paragraph's ASR text
    wanted: dict[tuple[int, int], list[str]] = collections.defaultdict(list)
    asr_text: dict[tuple[int, int], str] = {}
    for spar in iter_paragraphs(spoken):
        for qa in spar.qas:
            report.questions_in += 1
            if qa.id not in ref_q:
                report.note("question_not_in_reference", qa.id, questions=1)
                continue
            rpar = ref_q[qa.id][0]
            key = (rpar.topic_index, rpar.paragraph_index)
            wanted[key].append(qa.id)
            asr_text.setdefault(key, spar.context)
    report.paragraphs_in = len(wanted)
    wavs = _index_wavs(spec.wav_dir)
    times = _read_word_times(spec.word_times) if spec.word_times else None
    for par in iter_paragraphs(reference):
        key = (par.topic_index, par.paragraph_index)
        if key not in wanted:
            continue
        qids = set(wanted[key])
        prepared = _prepare_paragraph(spec, opts, par, qids, wavs.get(key, {}), report,
                                      asr_text[key] if has_asr else None, times)
        if prepared is not None:
            report.paragraphs.append(prepared)
    return report


def _prepare_paragraph(spec: SourceSpec, opts: ImportOptions, par: Paragraph, qids: set[str],
                       wavs: dict[int, Path], report: SourceReport, asr: str | None,
                       times: dict[str, list[tuple[float, float, str]]] | None) -> PreparedParagraph | None:
    where = f"{par.key} ({spec.split} topic {par.topic_index}, paragraph {par.paragraph_index})"
    nq = len(qids)
    if not wavs:
        report.note("missing_audio", where, questions=nq)
        return None
    if sorted(wavs) != list(range(len(wavs))):
        gaps = sorted(set(range(max(wavs) + 1)) - set(wavs))
        report.note("missing_audio", f"{where}: sentence(s) {gaps[:5]} missing", questions=nq)
        return None
    raw_sentences = None
    for method in [opts.split_method] + [m for m in SPLIT_METHODS if m != opts.split_method]:
        candidate = split_sentences(par.context, method)
        if len(candidate) == len(wavs):
            raw_sentences = candidate
            if method != opts.split_method:
                report.issues[f"split_with_{method}"] += 1
            break
    if raw_sentences is None:
        report.note("sentence_count_mismatch",
                    f"{where}: {len(split_sentences(par.context, opts.split_method))} sentences in the "
                    f"text, {len(wavs)} wav files", questions=nq)
        return None
    durations = []
    for s in range(len(wavs)):
        dur, why = _audio_info(wavs[s])
        if why:
            report.note(why.split(" ")[0], f"{wavs[s]}: {why}", questions=nq)
            return None
        durations.append(dur)
    sentences = [normalize_text(s) for s in raw_sentences]
    passage = " ".join(sentences)
    cid = f"{spec.split}-{par.topic_index:04d}-{par.paragraph_index:04d}"
    utts = [f"{cid}-{s:03d}" for s in range(len(sentences))]
    questions = []
    for qa in par.qas:
        if qa.id not in qids:
            continue
        question = normalize_text(qa.question)
        if not question:
            report.note("empty_question", qa.id, questions=1)
            continue
        answers = []
        for a in qa.answers:
            span = relocate_span(par.context, a.answer_start, a.text, passage)
            if span is None:
                report.note("answer_not_found", f"{qa.id}: {a.text[:40]!r}")
                continue
            if not any(b["char_start"] == span.char_start and b["text"] == span.text for b in answers):
                answers.append({"text": span.text, "char_start": span.char_start})
        if not answers:
            report.note("question_without_answer", qa.id, questions=1, count=1)
            continue
        questions.append({"id": qa.id, "context_id": cid, "question": question, "answers": answers})
    if not questions:
        return None  # its questions are already counted as lost
    prepared = PreparedParagraph(cid, utts, sentences, [wavs[s] for s in range(len(wavs))], durations, questions)
    if asr is not None:
        prepared.asr = distribute_words([s.split() for s in sentences], normalize_text(asr).split())
    if times is not None:
        for s, utt in enumerate(utts):
            entries = times.get(f"{par.key}_{s}")
            if entries is None or [w for _, _, w in entries] != sentences[s].split():
                report.note("oracle_times_mismatch", f"{par.key}_{s}")
                continue
            prepared.ctm.extend(f"{utt} 1 {st:.3f} {max(en - st, 0.0):.3f} {w} 1.00\n" for st, en, w in entries)
    return prepared


def _write_set(data_root: Path, set_name: str, paragraphs: Sequence[PreparedParagraph],
               log_text: str, with_asr: bool, with_ctm: bool) -> Path:
    """Write one data directory into a temporary directory and move it into place."""
    target = data_root / set_name
    data_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{set_name}.", dir=data_root))
    try:
        wav_scp, text, utt2spk, utt2dur, asr = {}, {}, {}, {}, {}
        contexts: dict[str, list[str]] = {}
        questions: list[dict] = []
        ctm: list[str] = []
        for par in paragraphs:
            contexts[par.context_id] = par.utts
            questions.extend(par.questions)
            ctm.extend(par.ctm)
            for k, utt in enumerate(par.utts):
                wav_scp[utt] = str(par.wavs[k])
                text[utt] = par.sentences[k]
                utt2spk[utt] = par.context_id
                utt2dur[utt] = f"{par.durations[k]:.5f}"
                if par.asr is not None and par.asr[k]:
                    asr[utt] = " ".join(par.asr[k])  # no line for an utterance with no ASR words
        write_table(tmp / "wav.scp", wav_scp)
        write_table(tmp / "text", text)
        write_table(tmp / "utt2spk", utt2spk)
        write_table(tmp / "spk2utt", {cid: " ".join(utts) for cid, utts in contexts.items()})
        write_table(tmp / "utt2dur", utt2dur)
        write_contexts(tmp / "contexts", contexts)
        write_questions(tmp / "questions.jsonl", questions)
        if with_asr:
            write_table(tmp / "text.asr", asr)
        if with_ctm:
            ctm.sort(key=lambda line: (line.split(" ", 1)[0].encode(), float(line.split()[2])))
            (tmp / "oracle.ctm").write_text("".join(ctm), encoding="utf-8")
        (tmp / "prep.log").write_text(log_text, encoding="utf-8")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{set_name}.old.", dir=data_root))
            os.replace(target, old / set_name)
            os.replace(tmp, target)
            shutil.rmtree(old)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _format_log(report: SourceReport, set_name: str, paragraphs: Sequence[PreparedParagraph],
                opts: ImportOptions) -> str:
    spec = report.spec
    nq = sum(len(p.questions) for p in paragraphs)
    lines = [
        f"set: {set_name}",
        f"source: {spec.spoken_json}",
        f"reference: {spec.reference_json}",
        f"audio: {spec.wav_dir}",
        f"oracle word times: {spec.word_times or 'none'}",
        f"source questions: {report.questions_in}",
        f"source paragraphs with questions: {report.paragraphs_in}",
        f"source questions lost: {report.questions_lost} ({100 * report.loss_ratio:.2f}%, "
        f"limit {100 * opts.max_loss_ratio:.2f}%)",
        f"this set: {len(paragraphs)} contexts, {sum(len(p.utts) for p in paragraphs)} utterances, "
        f"{nq} questions",
        "counts per reason (items; questions lost):",
    ]
    for reason in sorted(report.issues):
        lines.append(f"  {reason}: {report.issues[reason]}; {report.lost_questions.get(reason, 0)}")
        for ex in report.examples.get(reason, []):
            lines.append(f"    e.g. {ex}")
    return "\n".join(lines) + "\n"


def import_spoken_squad(specs: Iterable[SourceSpec], data_root: str | Path, opts: ImportOptions) -> dict[str, SourceReport]:
    """Prepare every source and write ``data_root/<set>`` (and dev from train).

    All sources are checked before anything is written, so a failing source leaves every data
    directory as it was.

    Raises:
        DataError: for unreadable inputs, or when a source loses more than ``max_loss_ratio`` of
            its questions (the per-reason counts are then in ``data_root/<set>.prep.log``).
    """
    if not 0 <= opts.max_loss_ratio <= 1:
        raise ValueError("max_loss_ratio must be within [0, 1]")
    data_root = Path(data_root)
    reports = {}
    for spec in specs:
        logger.info("preparing %s from %s", spec.set_name, spec.spoken_json)
        reports[spec.set_name] = _prepare_source(spec, opts)
    failed = []
    for name, report in reports.items():
        if report.loss_ratio > opts.max_loss_ratio:
            log_path = data_root / f"{name}.prep.log"
            data_root.mkdir(parents=True, exist_ok=True)
            log_path.write_text(_format_log(report, name, report.paragraphs, opts), encoding="utf-8")
            reasons = ", ".join(f"{r}: {n}" for r, n in report.lost_questions.most_common())
            failed.append(f"{name} lost {report.questions_lost} of {report.questions_in} questions "
                          f"({100 * report.loss_ratio:.1f}% > {100 * opts.max_loss_ratio:.1f}%: {reasons}; "
                          f"see {log_path})")
    if failed:
        raise DataError("; ".join(failed))
    plan = []
    for name, report in reports.items():
        paragraphs = report.paragraphs
        outputs = [(name, paragraphs)]
        if report.spec.split == "train" and name == "train" and opts.dev_size > 0:
            if opts.dev_size >= len(paragraphs):
                raise DataError(f"dev_size {opts.dev_size} leaves no training paragraphs "
                                f"({len(paragraphs)} prepared)")
            outputs = [(name, paragraphs[:-opts.dev_size]), (opts.dev_set, paragraphs[-opts.dev_size:])]
        for set_name, pars in outputs:
            if not pars:
                raise DataError(f"{set_name}: no usable paragraphs in {report.spec.spoken_json}")
            plan.append((set_name, report, pars))
    for set_name, report, pars in plan:
        with_asr = pars[0].asr is not None
        with_ctm = report.spec.word_times is not None
        _write_set(data_root, set_name, pars, _format_log(report, set_name, pars, opts), with_asr, with_ctm)
        stale = data_root / f"{set_name}.prep.log"
        if stale.exists():
            stale.unlink()
        logger.info("%s: %d contexts, %d questions; %d source questions lost", set_name, len(pars),
                    sum(len(p.questions) for p in pars), report.questions_lost)
    return reports
