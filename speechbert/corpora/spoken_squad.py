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
* optionally ``word_times/<split>.txt`` (synthesized corpora): oracle word times;
* optionally ``dropped_<split>.tsv`` (synthesized corpora): the questions the synthesizer left out
  of the spoken JSON, counted here as lost.

Sentences are paired with wavs the way the release did: the reference paragraph is split with
``split_method`` (``auto``: the method the synthesizer recorded in the spoken JSON, else the
release's plain ``". "`` split), and every paragraph is checked three ways: the number of
sentences, the number of wav files and the number of ``.``-separated pieces of the spoken JSON's
context (the release's ASR contexts hold one piece per wav). ``text.asr`` is the piece of each wav
when the piece count matches, else (counted) the paragraph transcript spread over the sentences by
edit-distance alignment.

Outputs ``data/<set>/`` as in ``doc/design.md``; ``dev`` is the last ``dev_size`` paragraphs of
train (by paragraph, in file order). Questions are paired with the reference by id; their answers
are the reference answers relocated into the normalized reference passage. Everything that cannot
be used, and every disagreement, is counted by reason in ``data/<set>/prep.log``; the import fails
only if the lost share of questions of a source is above ``max_loss_ratio`` (then nothing is
written to ``data/<set>``, and the log is left at ``data/<set>.prep.log``).
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

from speechbert.corpora.loss_counts import LossCounts
from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open
from speechbert.io.kaldi_table import write_table
from speechbert.io.sqa_data import write_contexts, write_questions
from speechbert.io.squad_json import Paragraph, iter_paragraphs, load_squad
from speechbert.progress import Progress
from speechbert.synth.spoken_squad_synth import (CONTEXT_SOURCE_REFERENCE, DROPPED_HEADER, dropped_tsv_name,
                                                 reference_json_name, spoken_json_name)
from speechbert.text.normalize import normalize_text, relocate_span
from speechbert.text.sentences import RELEASE_SPLIT_METHOD, SPLIT_METHODS, dot_pieces, split_sentences
from speechbert.text.word_alignment import distribute_words

__all__ = ["SourceSpec", "ImportOptions", "PreparedParagraph", "SourceReport", "SPLIT_CHOICES", "find_sources",
           "read_dropped", "import_spoken_squad"]

#: ``ImportOptions.split_method`` values: ``auto`` or a splitter of ``speechbert.text.sentences``.
SPLIT_CHOICES = ("auto",) + SPLIT_METHODS

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
    dropped: Path | None = None    #: ``dropped_<split>.tsv`` of a synthesized corpus


#: train paragraphs held out as the dev set by default (the release has no dev set); the one
#: default of ``prepare_spoken_squad`` and ``egs/spoken_squad/sqa1/local/data.sh``
DEFAULT_DEV_SIZE = 1000


@dataclass
class ImportOptions:
    """How to import; see the module docstring."""

    dev_size: int = 0                #: paragraphs of train held out as dev (recipes: DEFAULT_DEV_SIZE)
    max_loss_ratio: float = 0.05     #: largest tolerated share of lost questions per source
    #: sentence splitter pairing sentences with wavs: ``auto`` (the one recorded in the spoken JSON
    #: by the synthesizer, else the release's ``period_space``), ``period_space`` or ``rules``
    split_method: str = "auto"
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
    asr_from_pieces: bool = False    #: ``asr`` is the spoken context's ``.`` pieces, not an alignment
    ctm: list[str] = field(default_factory=list)


@dataclass
class SourceReport(LossCounts):
    """What happened to one source: kept counts and lost counts per reason."""

    spec: SourceSpec
    questions_in: int = 0
    paragraphs_in: int = 0
    lost: collections.Counter = field(default_factory=collections.Counter)  #: questions lost per reason
    issues: collections.Counter = field(default_factory=collections.Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    paragraphs: list[PreparedParagraph] = field(default_factory=list)
    split_method: str = RELEASE_SPLIT_METHOD
    split_source: str = "the release's convention"
    dropped_before_import: int = 0    #: questions listed in ``spec.dropped``
    reference_not_spoken: int = 0     #: reference questions neither in the spoken JSON nor dropped

    @property
    def units_in(self) -> int:
        return self.questions_in

    @property
    def questions_lost(self) -> int:
        return self.units_lost


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
        times = times if times.is_file() else None
        dropped = root / dropped_tsv_name(split)
        dropped = dropped if dropped.is_file() else None
        specs.append(SourceSpec(split, split, spoken, reference, wav_dir, times, dropped))
        if split == "test" and include_noisy:
            for tag in ("WER44", "WER54"):
                noisy = root / f"spoken_test-v1.1_{tag}.json"
                if not noisy.is_file():
                    continue
                name = f"test_{tag.lower()}"
                candidates = (root / "wav" / name, root / "wav" / f"test_{tag}", root / f"{name}_wav")
                noisy_wav = next((d for d in candidates if d.is_dir()), None)
                if noisy_wav is None:
                    # The release's noisy sets differ from test in their ASR transcripts; their
                    # audio is the clean one unless a directory of their own is there.
                    logger.warning("%s: no audio directory of its own (looked for %s): %s uses the clean test "
                                   "audio of %s (and shares its features)", noisy.name,
                                   ", ".join(str(d.relative_to(root)) for d in candidates), name, wav_dir)
                    noisy_wav = wav_dir
                specs.append(SourceSpec(name, "test", noisy, reference, noisy_wav, times, dropped))
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


def read_dropped(path: str | Path) -> list[tuple[int, str, str, str, list[str]]]:
    """Read ``dropped_<split>.tsv``: ``(line, id, paragraph, reason, answers)`` per question.

    Raises:
        DataError: naming the file and line, for a wrong header, a malformed line or a repeated id.
    """
    path = Path(path)
    rows: list[tuple[int, str, str, str, list[str]]] = []
    seen: set[str] = set()
    header = False
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\n")
            except UnicodeDecodeError as e:
                raise DataError(f"not valid UTF-8 ({e.reason})", path, lineno) from None
            fields = line.split("\t")
            if lineno == 1:
                if tuple(fields) != DROPPED_HEADER:
                    raise DataError(f"expected the header {'<TAB>'.join(DROPPED_HEADER)!r}", path, lineno)
                header = True
                continue
            if len(fields) != len(DROPPED_HEADER) or not all(fields[:3]):
                raise DataError("expected '<id><TAB><paragraph><TAB><reason><TAB><answers as a JSON list>'",
                                path, lineno)
            qid, paragraph, reason, answers = fields
            try:
                texts = json.loads(answers)
            except json.JSONDecodeError:
                raise DataError("the answers are not a JSON list", path, lineno) from None
            if not isinstance(texts, list):
                raise DataError("the answers are not a JSON list", path, lineno)
            if qid in seen:
                raise DataError(f"question {qid!r} listed twice", path, lineno)
            seen.add(qid)
            rows.append((lineno, qid, paragraph, reason, [str(t) for t in texts]))
    if not header:
        raise DataError("empty file (expected at least the header line)", path)
    return rows


def _resolve_split_method(opts: ImportOptions, meta: dict, spoken_json: Path) -> tuple[str, str]:
    """``(method, where it came from)`` for one source."""
    if opts.split_method != "auto":
        return opts.split_method, "--split_method"
    recorded = meta.get("split_method") if isinstance(meta, dict) else None
    if recorded is None:
        return RELEASE_SPLIT_METHOD, "the release's convention"
    if recorded not in SPLIT_METHODS:
        raise DataError(f"unknown speechbert.split_method {recorded!r} (expected one of {SPLIT_METHODS})",
                        spoken_json)
    return recorded, f"recorded in {spoken_json.name}"


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
    report.split_method, report.split_source = _resolve_split_method(opts, meta, spec.spoken_json)
    ref_q: dict[str, tuple[Paragraph, int]] = {}
    for par in iter_paragraphs(reference):
        for k, qa in enumerate(par.qas):
            ref_q[qa.id] = (par, k)
    spoken_ids = {qa.id for spar in iter_paragraphs(spoken) for qa in spar.qas}
    dropped_ids: set[str] = set()
    if spec.dropped is not None:
        # Questions the synthesizer left out never reach the spoken JSON: count them here, so that
        # the loss ratio is over every question of the text.
        for lineno, qid, paragraph, reason, texts in read_dropped(spec.dropped):
            if qid in spoken_ids:
                raise DataError(f"question {qid!r} is listed as dropped but is in {spec.spoken_json}",
                                spec.dropped, lineno)
            dropped_ids.add(qid)
            report.questions_in += 1
            report.dropped_before_import += 1
            report.note(f"synthesis_{reason}", f"{qid} (paragraph {paragraph}, {spec.dropped.name}:{lineno}): "
                        f"answers {texts[:3]!r}", lost=1)
    report.reference_not_spoken = len(set(ref_q) - spoken_ids - dropped_ids)
    # questions of the spoken JSON grouped by reference paragraph, with that paragraph's spoken text
    wanted: dict[tuple[int, int], list[str]] = collections.defaultdict(list)
    spoken_text: dict[tuple[int, int], str] = {}
    for spar in iter_paragraphs(spoken):
        for qa in spar.qas:
            report.questions_in += 1
            if qa.id not in ref_q:
                report.note("question_not_in_reference", qa.id, lost=1)
                continue
            rpar = ref_q[qa.id][0]
            key = (rpar.topic_index, rpar.paragraph_index)
            wanted[key].append(qa.id)
            spoken_text.setdefault(key, spar.context)
    report.paragraphs_in = len(wanted)
    wavs = _index_wavs(spec.wav_dir)
    times = _read_word_times(spec.word_times) if spec.word_times else None
    progress = Progress(len(wanted), f"importing {spec.set_name} paragraphs", log=logger)
    for par in iter_paragraphs(reference):
        key = (par.topic_index, par.paragraph_index)
        if key not in wanted:
            continue
        progress.update()
        qids = set(wanted[key])
        prepared = _prepare_paragraph(spec, par, qids, wavs.get(key, {}), report, spoken_text[key], has_asr,
                                      times)
        if prepared is not None:
            report.paragraphs.append(prepared)
    progress.close()
    return report


def _prepare_paragraph(spec: SourceSpec, par: Paragraph, qids: set[str], wavs: dict[int, Path],
                       report: SourceReport, spoken_context: str, has_asr: bool,
                       times: dict[str, list[tuple[float, float, str]]] | None) -> PreparedParagraph | None:
    where = f"{par.key} ({spec.split} topic {par.topic_index}, paragraph {par.paragraph_index})"
    nq = len(qids)
    if not wavs:
        report.note("missing_audio", where, lost=nq)
        return None
    if sorted(wavs) != list(range(len(wavs))):
        gaps = sorted(set(range(max(wavs) + 1)) - set(wavs))
        report.note("missing_audio", f"{where}: sentence(s) {gaps[:5]} missing", lost=nq)
        return None
    # Three counts that must agree: they are how the release paired text with audio. No other
    # splitter is tried on a mismatch: with the same count and other boundaries every wav of the
    # paragraph would silently get another sentence's text.
    raw_sentences = split_sentences(par.context, report.split_method)
    pieces = dot_pieces(spoken_context)
    counts = (f"{len(raw_sentences)} sentences in the text ({report.split_method} split), {len(wavs)} wav "
              f"files, {len(pieces)} '.' pieces in the spoken context")
    if len(pieces) != len(wavs):
        report.note("asr_piece_count_mismatch", f"{where}: {counts}")
    if len(raw_sentences) != len(wavs):
        report.note("sentence_count_mismatch", f"{where}: {counts}", lost=nq)
        return None
    durations = []
    for s in range(len(wavs)):
        dur, why = _audio_info(wavs[s])
        if why:
            report.note(why.split(" ")[0], f"{wavs[s]}: {why}", lost=nq)
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
            report.note("empty_question", qa.id, lost=1)
            continue
        answers = []
        for a in qa.answers:
            span = relocate_span(par.context, a.answer_start, a.text, passage)
            if span is None:
                report.note("answer_not_found", f"{qa.id}: {a.text[:40]!r}")
                continue
            if span.widened:
                report.note("answer_widened_to_whole_words", f"{qa.id}: {a.text[:40]!r} -> {span.text[:40]!r}")
            if not any(b["char_start"] == span.char_start and b["text"] == span.text for b in answers):
                answers.append({"text": span.text, "char_start": span.char_start})
        if not answers:
            report.note("question_without_answer", qa.id, lost=1, count=1)
            continue
        questions.append({"id": qa.id, "context_id": cid, "question": question, "answers": answers})
    if not questions:
        return None  # its questions are already counted as lost
    prepared = PreparedParagraph(cid, utts, sentences, [wavs[s] for s in range(len(wavs))], durations, questions)
    if has_asr:
        if len(pieces) == len(wavs):
            prepared.asr = [normalize_text(p).split() for p in pieces]
            prepared.asr_from_pieces = True
        else:
            prepared.asr = distribute_words([s.split() for s in sentences], normalize_text(spoken_context).split())
            report.note("asr_spread_by_alignment", f"{where}: {len(pieces)} '.' pieces for {len(wavs)} wav files")
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
            with atomic_open(tmp / "oracle.ctm") as f:
                f.write("".join(ctm))
        with atomic_open(tmp / "prep.log") as f:
            f.write(log_text)
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
    from_pieces = sum(p.asr is not None and p.asr_from_pieces for p in paragraphs)
    spread = sum(p.asr is not None and not p.asr_from_pieces for p in paragraphs)
    lines = [
        f"set: {set_name}",
        f"source: {spec.spoken_json}",
        f"reference: {spec.reference_json}",
        f"audio: {spec.wav_dir}",
        f"oracle word times: {spec.word_times or 'none'}",
        f"sentence split: {report.split_method} ({report.split_source})",
        "questions dropped before import: " + (
            f"{report.dropped_before_import} (listed in {spec.dropped}; counted as lost)" if spec.dropped
            else "no list (no dropped_<split>.tsv, as in the release)"),
        f"reference questions not in the spoken JSON (not counted as lost): {report.reference_not_spoken}",
        f"source questions: {report.questions_in}",
        f"source paragraphs with questions: {report.paragraphs_in}",
        f"source questions lost: {report.questions_lost} ({100 * report.loss_ratio:.2f}%, "
        f"limit {100 * opts.max_loss_ratio:.2f}%)",
        f"this set: {len(paragraphs)} contexts, {sum(len(p.utts) for p in paragraphs)} utterances, "
        f"{nq} questions",
        "text.asr: " + (f"{from_pieces} contexts from the spoken context's '.' pieces, {spread} spread by "
                        "edit-distance alignment (asr_spread_by_alignment)" if from_pieces + spread else
                        "not written (the spoken contexts are the normalized reference, not ASR transcripts)"),
        "counts per reason (items; questions lost):",
    ]
    for reason in sorted(report.issues):
        lines.append(f"  {reason}: {report.issues[reason]}; {report.lost.get(reason, 0)}")
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
    if opts.split_method not in SPLIT_CHOICES:
        raise ValueError(f"unknown split_method {opts.split_method!r} (choose from {SPLIT_CHOICES})")
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
            with atomic_open(log_path) as f:
                f.write(_format_log(report, name, report.paragraphs, opts))
            reasons = report.lost_by_reason()
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
