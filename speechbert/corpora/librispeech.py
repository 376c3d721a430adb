"""Import LibriSpeech-layout corpora as data directories of speech with transcripts (no questions).

Extra pre-training data: the SpeechBERT paper pre-trains on read speech (LibriSpeech) besides the
Spoken SQuAD audio (``doc/librispeech.md``). Input layout, per subset (``train-clean-100``, ...)::

    <root>/<subset>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac
    <root>/<subset>/<spk>/<chapter>/<spk>-<chapter>.trans.txt    lines "<spk>-<chapter>-<utt> TRANSCRIPT"

``<spk>``, ``<chapter>`` and ``<utt>`` are decimal numbers. Output ``<out_dir>/`` (``doc/design.md``):
``wav.scp`` (absolute flac paths), ``text`` (``normalize_text`` of the transcript), ``utt2spk``,
``spk2utt``, ``utt2dur`` (from the flac headers), ``contexts`` (one passage per chapter, its
utterances in numeric order), an empty ``questions.jsonl`` (so ``load_sqa_set`` and the other
passage readers accept the directory) and ``prep.log``. :func:`import_librispeech` writes one
subset into one directory; :func:`import_librispeech_subsets` writes
``<data_dir>/<set_name_for(subset)>`` for several, checking them all before writing any.

Identifiers (:func:`utt_id`): ``<prefix>-<spk:04d>-<chapter:06d>-<utt:04d>``, e.g. LibriSpeech's
``19-198-0001`` → ``ls-0019-000198-0001``. Zero padding makes ``LC_ALL=C`` order equal numeric
order (raw ids would sort ``103`` before ``19``); the widths cover LibriSpeech's ids, a wider number
is written in full (the speaker-prefix order below still holds). Context id = speaker id =
``<prefix>-<spk:04d>-<chapter:06d>`` (one chapter is one passage read by one reader, as Kaldi's
LibriSpeech recipe takes ``<spk>-<chapter>`` as its speaker): a prefix of its utterance ids, and
``-`` sorts before every digit, so utt2spk sorted by utterance is sorted by speaker too. Ids are
unique because LibriSpeech's are (speakers are disjoint across subsets, so subsets can be combined);
two source names that differ only in leading zeros would map to one id and are an error. The
``ls`` prefix keeps the ids apart from other corpora's when sets are combined for pre-training.

What cannot be used is counted by reason in ``prep.log`` with examples (file and line):

* ``missing_audio``: a transcript line whose flac does not exist;
* ``missing_transcript``: a flac without a transcript line (or whose chapter has no
  ``.trans.txt``);
* ``empty_transcript``: a transcript line without words, or whose words normalize to nothing;
* ``unreadable_audio``, ``empty_audio``: a flac libsndfile cannot read, or with no samples;
* ``unexpected_audio_name``: a flac in a chapter directory whose name is not
  ``<spk>-<chapter>-<utt>.flac`` of that speaker and chapter.

The import fails when the lost share of a subset's utterances (transcript lines and flac files,
counted once each) is above ``max_loss_ratio``; nothing is then written to ``<out_dir>`` and the
log is left at ``<out_dir>.prep.log``. Unreadable transcripts (not UTF-8, a line that is not
``<spk>-<chapter>-<utt> <words>`` of its own chapter, a repeated id), a missing subset directory
and a subset without any usable utterance are errors that name the file (and line).
"""

from __future__ import annotations

import collections
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from speechbert.corpora.loss_counts import LossCounts
from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open
from speechbert.io.kaldi_table import write_table
from speechbert.io.text_lines import iter_utf8_lines
from speechbert.io.sqa_data import write_contexts, write_questions
from speechbert.progress import Progress
from speechbert.text.normalize import normalize_text

__all__ = ["DEFAULT_ID_PREFIX", "DEFAULT_MAX_LOSS_RATIO", "LOSS_REASONS", "Utterance", "SubsetReport",
           "set_name_for", "utt_id", "context_id", "prepare_subset", "import_librispeech",
           "import_librispeech_subsets"]

logger = logging.getLogger(__name__)

#: prefix of every id, so that LibriSpeech ids stay apart from other corpora's in combined sets
DEFAULT_ID_PREFIX = "ls"
#: the default of ``prepare_librispeech`` and ``local/librispeech_data.sh`` (as the Spoken SQuAD import)
DEFAULT_MAX_LOSS_RATIO = 0.05
#: reasons that lose an utterance (``prep.log``); other reasons are reported only
LOSS_REASONS = ("missing_audio", "missing_transcript", "empty_transcript", "unreadable_audio", "empty_audio",
                "unexpected_audio_name")

_NUMBER = re.compile(r"^[0-9]+$")
_UTT = re.compile(r"^([0-9]+)-([0-9]+)-([0-9]+)$")
_PREFIX = re.compile(r"^[A-Za-z0-9_]*$")
_SPK_WIDTH, _CHAPTER_WIDTH, _UTT_WIDTH = 4, 6, 4


def set_name_for(subset: str) -> str:
    """The data set name of a subset: ``train-clean-100`` → ``librispeech_train_clean_100``."""
    return "librispeech_" + subset.replace("-", "_")


def context_id(spk: int, chapter: int, prefix: str = DEFAULT_ID_PREFIX) -> str:
    """``<prefix>-<spk:04d>-<chapter:06d>``: the context (and speaker) id of a chapter."""
    head = f"{prefix}-" if prefix else ""
    return f"{head}{spk:0{_SPK_WIDTH}d}-{chapter:0{_CHAPTER_WIDTH}d}"


def utt_id(spk: int, chapter: int, utt: int, prefix: str = DEFAULT_ID_PREFIX) -> str:
    """``<prefix>-<spk:04d>-<chapter:06d>-<utt:04d>``: ``19-198-0001`` → ``ls-0019-000198-0001``."""
    return f"{context_id(spk, chapter, prefix)}-{utt:0{_UTT_WIDTH}d}"


@dataclass
class Utterance:
    utt: str            #: toolkit utterance id
    source_id: str      #: the corpus's own id, ``<spk>-<chapter>-<utt>``
    index: int          #: utterance number inside its chapter
    flac: Path
    text: str           #: normalized transcript
    duration: float
    sample_rate: int


@dataclass
class SubsetReport(LossCounts):
    """What happened to one subset: the usable chapters and the counts per reason."""

    subset: str
    set_name: str
    source_dir: Path
    id_prefix: str = DEFAULT_ID_PREFIX
    utterances_in: int = 0           #: transcript lines and flac files, each utterance once
    speakers: int = 0
    issues: collections.Counter = field(default_factory=collections.Counter)
    lost: collections.Counter = field(default_factory=collections.Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    chapters: dict[str, list[Utterance]] = field(default_factory=dict)   #: context id → utterances in order
    sample_rates: collections.Counter = field(default_factory=collections.Counter)
    normalized_differently: int = 0  #: transcripts whose normalized words are not the lower-cased ones

    @property
    def units_in(self) -> int:
        return self.utterances_in

    @property
    def utterances_lost(self) -> int:
        return self.units_lost

    @property
    def utterances(self) -> int:
        return sum(len(u) for u in self.chapters.values())

    @property
    def hours(self) -> float:
        return sum(u.duration for utts in self.chapters.values() for u in utts) / 3600.0


def _audio_info(path: Path) -> tuple[float | None, int, str | None]:
    """``(duration, sample rate, None)`` or ``(None, 0, reason)`` for a sound file."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as e:  # noqa: BLE001 - libsndfile raises several types for bad files
        return None, 0, f"unreadable_audio ({type(e).__name__}: {str(e).strip()[:80]})"
    if info.frames <= 0 or info.samplerate <= 0:
        return None, 0, "empty_audio"
    return info.frames / info.samplerate, int(info.samplerate), None


def _read_transcript(path: Path, spk: str, chapter: str) -> dict[str, tuple[int, str]]:
    """``{source id: (line, raw transcript)}`` of one ``<spk>-<chapter>.trans.txt``.

    Raises:
        DataError: naming the file and line for text that is not UTF-8, a line that is not
            ``<spk>-<chapter>-<utt> <words>`` of this chapter, or an id given twice.
    """
    lines: dict[str, tuple[int, str]] = {}
    for lineno, line in iter_utf8_lines(path):
        parts = line.split(maxsplit=1)
        if not parts:
            raise DataError("empty line (expected '<spk>-<chapter>-<utt> TRANSCRIPT')", path, lineno)
        sid = parts[0]
        m = _UTT.match(sid)
        if m is None:
            raise DataError(f"{sid!r} is not an utterance id '<spk>-<chapter>-<utt>' (expected "
                            f"'<spk>-<chapter>-<utt> TRANSCRIPT')", path, lineno)
        if (m.group(1), m.group(2)) != (spk, chapter):
            raise DataError(f"utterance {sid!r} is not of speaker {spk} chapter {chapter} (the directory "
                            "of this transcript)", path, lineno)
        if sid in lines:
            raise DataError(f"utterance {sid!r} is listed twice (first on line {lines[sid][0]})", path, lineno)
        lines[sid] = (lineno, parts[1].strip() if len(parts) > 1 else "")
    return lines


def _numbered_dirs(parent: Path, report: SubsetReport, what: str) -> list[tuple[int, str, Path]]:
    """The sub-directories of ``parent`` named by a number, in numeric order; others are noted."""
    found = []
    with os.scandir(parent) as it:
        for entry in it:
            if not entry.is_dir():
                continue
            if _NUMBER.match(entry.name):
                found.append((int(entry.name), entry.name, Path(entry.path)))
            else:
                report.note(f"unexpected_{what}_directory", f"{entry.path}: not a {what} number (skipped)")
    found.sort()
    return found


def _prepare_chapter(report: SubsetReport, spk: str, chapter: str, chapter_dir: Path,
                     seen: dict[str, str]) -> None:
    flacs: dict[str, Path] = {}
    with os.scandir(chapter_dir) as it:
        for entry in it:
            if not entry.name.endswith(".flac") or entry.is_dir():
                continue
            sid = entry.name[:-len(".flac")]
            m = _UTT.match(sid)
            if m is None or (m.group(1), m.group(2)) != (spk, chapter):
                report.utterances_in += 1
                report.note("unexpected_audio_name", f"{entry.path}: not '{spk}-{chapter}-<utt>.flac'", lost=1)
                continue
            path = Path(entry.path).resolve()
            if any(c.isspace() for c in str(path)):
                raise DataError("a path with whitespace cannot be a wav.scp entry (move or link the corpus)", path)
            flacs[sid] = path
    trans_path = chapter_dir / f"{spk}-{chapter}.trans.txt"
    if trans_path.is_file():
        lines = _read_transcript(trans_path, spk, chapter)
        if not lines:
            report.note("empty_transcript_file", f"{trans_path}: no lines")
    else:
        lines = {}
        if flacs:
            report.note("missing_transcript_file", f"{trans_path}: no such file ({len(flacs)} flac files)")
    report.utterances_in += len(set(lines) | set(flacs))
    cid = context_id(int(spk), int(chapter), report.id_prefix)
    utts: list[Utterance] = []
    # in utterance-number order (ties, which are id collisions, in transcript order)
    order = sorted(set(lines) | set(flacs),
                   key=lambda s: (int(s.rsplit("-", 1)[1]), lines.get(s, (1 << 62, ""))[0], s))
    for sid in order:
        if sid not in lines:
            why = f"no line in {trans_path}" if trans_path.is_file() else f"no {trans_path.name}"
            report.note("missing_transcript", f"{flacs[sid]}: {why}", lost=1)
            continue
        lineno, raw_text = lines[sid]
        where = f"{trans_path}:{lineno}"
        if sid not in flacs:
            report.note("missing_audio", f"{where}: {sid} has no {sid}.flac in {chapter_dir}", lost=1)
            continue
        text = normalize_text(raw_text)
        if not text:
            report.note("empty_transcript", f"{where}: {sid}: {raw_text[:40]!r} has no words", lost=1)
            continue
        duration, rate, why = _audio_info(flacs[sid])
        if why:
            report.note(why.split(" ")[0], f"{flacs[sid]}: {why}", lost=1)
            continue
        if text != " ".join(raw_text.lower().split()):
            report.normalized_differently += 1
        index = int(sid.rsplit("-", 1)[1])
        uid = utt_id(int(spk), int(chapter), index, report.id_prefix)
        if uid in seen:
            raise DataError(f"utterance {sid!r} and {seen[uid]!r} both map to the id {uid!r} (numbers that differ "
                            "only in leading zeros)", trans_path, lineno)
        seen[uid] = sid
        report.sample_rates[rate] += 1
        utts.append(Utterance(uid, sid, index, flacs[sid], text, duration, rate))
    if utts:
        if cid in report.chapters:
            raise DataError(f"chapter {chapter} of speaker {spk} maps to the context id {cid!r} of another "
                            "directory (numbers that differ only in leading zeros)", chapter_dir)
        report.chapters[cid] = utts


def prepare_subset(root: str | Path, subset: str, *, set_name: str | None = None,
                   id_prefix: str = DEFAULT_ID_PREFIX) -> SubsetReport:
    """Read one subset (nothing is written): its usable chapters and what was lost, by reason.

    Raises:
        DataError: for a missing subset directory, an unreadable transcript (file and line), or
            ids that collide.
    """
    if not subset or "/" in subset or subset in (".", ".."):
        raise DataError(f"subset {subset!r} must be a directory name such as train-clean-100")
    if not _PREFIX.match(id_prefix):
        raise ValueError(f"id_prefix {id_prefix!r} may only hold letters, digits and '_'")
    root = Path(root).resolve()
    source = root / subset
    if not source.is_dir():
        if not root.is_dir():
            raise DataError("no such directory (the LibriSpeech root)", root)
        have = sorted(p.name for p in root.iterdir() if p.is_dir())
        raise DataError(f"no such subset directory (subsets here: {' '.join(have) or 'none'})", source)
    report = SubsetReport(subset, set_name or set_name_for(subset), source, id_prefix)
    seen: dict[str, str] = {}
    speakers = _numbered_dirs(source, report, "speaker")
    progress = Progress(len(speakers), f"{subset}: reading speaker directories", log=logger)
    for _, spk, spk_dir in speakers:
        chapters = _numbered_dirs(spk_dir, report, "chapter")
        for _, chapter, chapter_dir in chapters:
            _prepare_chapter(report, spk, chapter, chapter_dir, seen)
        progress.update()
    progress.close()
    report.speakers = len({cid.rsplit("-", 1)[0] for cid in report.chapters})
    return report


def _format_log(report: SubsetReport, max_loss_ratio: float) -> str:
    p = f"{report.id_prefix}-" if report.id_prefix else ""
    rates = ", ".join(f"{r} Hz: {n}" for r, n in sorted(report.sample_rates.items())) or "none"
    lines = [
        f"set: {report.set_name}",
        f"source: {report.source_dir}",
        f"utterance ids: {p}<spk:04d>-<chapter:06d>-<utt:04d> from <spk>-<chapter>-<utt>; context = speaker = "
        f"{p}<spk:04d>-<chapter:06d> (one chapter)",
        f"source utterances (transcript lines and flac files): {report.utterances_in}",
        f"source utterances lost: {report.utterances_lost} ({100 * report.loss_ratio:.2f}%, "
        f"limit {100 * max_loss_ratio:.2f}%)",
        f"this set: {len(report.chapters)} contexts (chapters), {report.speakers} readers, "
        f"{report.utterances} utterances, {report.hours:.3f} hours",
        f"sample rates: {rates}",
        f"transcripts changed by normalization beyond lower case: {report.normalized_differently}",
        "counts per reason (items; utterances lost):",
    ]
    for reason in sorted(report.issues):
        lines.append(f"  {reason}: {report.issues[reason]}; {report.lost.get(reason, 0)}")
        for ex in report.examples.get(reason, []):
            lines.append(f"    e.g. {ex}")
    return "\n".join(lines) + "\n"


def _write_set(report: SubsetReport, out_dir: Path, log_text: str) -> Path:
    """Write the data directory into a temporary directory beside ``out_dir``, then move it into place."""
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    try:
        wav_scp, text, utt2spk, utt2dur = {}, {}, {}, {}
        contexts: dict[str, list[str]] = {}
        for cid, utts in report.chapters.items():
            contexts[cid] = [u.utt for u in utts]
            for u in utts:
                wav_scp[u.utt] = str(u.flac)
                text[u.utt] = u.text
                utt2spk[u.utt] = cid
                utt2dur[u.utt] = f"{u.duration:.5f}"
        write_table(tmp / "wav.scp", wav_scp)
        write_table(tmp / "text", text)
        write_table(tmp / "utt2spk", utt2spk)
        write_table(tmp / "spk2utt", {cid: " ".join(utts) for cid, utts in contexts.items()})
        write_table(tmp / "utt2dur", utt2dur)
        write_contexts(tmp / "contexts", contexts)
        write_questions(tmp / "questions.jsonl", [])
        with atomic_open(tmp / "prep.log") as f:
            f.write(log_text)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=parent))
            os.replace(out_dir, old / out_dir.name)
            os.replace(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _check_loss(report: SubsetReport, out_dir: Path, max_loss_ratio: float) -> str | None:
    """``None``, or why the subset fails (its log is then left at ``<out_dir>.prep.log``)."""
    if report.chapters and report.loss_ratio <= max_loss_ratio:
        return None
    log_path = out_dir.parent / f"{out_dir.name}.prep.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(log_path) as f:
        f.write(_format_log(report, max_loss_ratio))
    reasons = report.lost_by_reason()
    example = f"; e.g. {report.examples[report.lost.most_common(1)[0][0]][0]}" if report.lost else ""
    if not report.chapters:
        return (f"{report.source_dir}: no usable utterance ({reasons or 'no transcript or flac file found'}"
                f"{example}; see {log_path})")
    return (f"{report.set_name} lost {report.utterances_lost} of {report.utterances_in} utterances "
            f"({100 * report.loss_ratio:.1f}% > {100 * max_loss_ratio:.1f}%: {reasons}{example}; see {log_path})")


def import_librispeech(root: str | Path, subset: str, out_dir: str | Path, *,
                       max_loss_ratio: float = DEFAULT_MAX_LOSS_RATIO,
                       id_prefix: str = DEFAULT_ID_PREFIX) -> SubsetReport:
    """Import one subset of a LibriSpeech-layout corpus into the data directory ``out_dir``.

    Args:
        root: the corpus root, holding ``<subset>/<spk>/<chapter>/``.
        subset: the subset directory name, e.g. ``train-clean-100``.
        out_dir: the data directory to write, e.g. ``data/librispeech_train_clean_100`` (its
            name is the set name of ``prep.log``).
        max_loss_ratio: largest tolerated share of lost utterances.
        id_prefix: first part of every id (letters, digits, ``_``; empty for none).

    Raises:
        DataError: see the module docstring; ``out_dir`` is then left as it was.
    """
    out_dir = Path(out_dir)
    return _import(root, {subset: out_dir}, max_loss_ratio, id_prefix)[out_dir.name]


def import_librispeech_subsets(root: str | Path, subsets: Iterable[str], data_dir: str | Path, *,
                               max_loss_ratio: float = DEFAULT_MAX_LOSS_RATIO,
                               id_prefix: str = DEFAULT_ID_PREFIX) -> dict[str, SubsetReport]:
    """Import several subsets into ``data_dir/<set_name_for(subset)>``; ``{set name: report}``.

    Every subset is read and checked before anything is written, so a failing one leaves every
    data directory as it was.
    """
    data_dir = Path(data_dir)
    targets: dict[str, Path] = {}
    for s in subsets:
        if s in targets:
            raise DataError(f"subset {s!r} is given twice")
        targets[s] = data_dir / set_name_for(s)
    if len(set(targets.values())) != len(targets):
        raise DataError(f"subsets {' '.join(targets)} map to the same set name")
    if not targets:
        raise DataError("no subset given")
    return _import(root, targets, max_loss_ratio, id_prefix)


def _import(root: str | Path, targets: dict[str, Path], max_loss_ratio: float,
            id_prefix: str) -> dict[str, SubsetReport]:
    if not 0 <= max_loss_ratio <= 1:
        raise ValueError("max_loss_ratio must be within [0, 1]")
    reports: dict[str, SubsetReport] = {}
    failed = []
    for s, target in targets.items():
        logger.info("reading %s from %s", s, Path(root) / s)
        report = prepare_subset(root, s, set_name=target.name, id_prefix=id_prefix)
        reports[report.set_name] = report
        why = _check_loss(report, target, max_loss_ratio)
        if why:
            failed.append(why)
    if failed:
        raise DataError("; ".join(failed))
    for target in targets.values():
        report = reports[target.name]
        _write_set(report, target, _format_log(report, max_loss_ratio))
        stale = target.parent / f"{target.name}.prep.log"
        if stale.exists():
            stale.unlink()
        logger.info("%s: %d chapters, %d utterances (%.2f h); %d of %d source utterances lost", target,
                    len(report.chapters), report.utterances, report.hours, report.utterances_lost,
                    report.utterances_in)
    return reports
