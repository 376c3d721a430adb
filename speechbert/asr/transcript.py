"""ASR output of a data set: normalized hypotheses, their word times, and the files they go to.

``<out_dir>/text``: ``<utt> <words>`` (Kaldi table, normalized with
``speechbert.text.normalize``). An utterance with no recognised word has no line (a Kaldi
table needs a value); scoring treats an absent utterance as an empty hypothesis (all
deletions), which is what it is.

``<out_dir>/word.ctm``: the words of ``text`` with utterance-relative times (doc/design.md
CTM), same words in the same order. An utterance whose words could not be timed has text but
no CTM lines; readers then spread its words evenly over the utterance.

``<out_dir>/wer.txt``: one line, the corpus WER against the reference ``text``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open
from speechbert.io.ctm import CtmEntry, read_ctm, validate_ctm, write_ctm
from speechbert.io.kaldi_table import read_table, write_table
from speechbert.metrics.wer import WerStats, corpus_wer
from speechbert.text.normalize import normalize_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimedWord:
    """One recognised word with utterance-relative times (seconds) and a confidence."""

    word: str
    start: float
    end: float
    conf: float = 1.0


def normalize_timed_words(words: Iterable[TimedWord]) -> list[TimedWord]:
    """Normalize recognised words the way reference transcripts are, keeping their times.

    A word that normalizes to nothing (a lone apostrophe) is dropped; one that splits into
    several words shares its time span evenly among them.
    """
    out: list[TimedWord] = []
    for w in words:
        parts = normalize_text(w.word).split()
        if not parts:
            continue
        step = (w.end - w.start) / len(parts)
        for k, part in enumerate(parts):
            out.append(TimedWord(part, w.start + k * step, w.start + (k + 1) * step, w.conf))
    return out


@dataclass
class Transcript:
    """Recognition result of a set of utterances.

    ``hyps[utt]`` is the normalized hypothesis ('' for no word); ``ctm[utt]`` its timed words
    (absent when the words could not be timed); ``skipped`` lists the utterances that were not
    recognised at all, by reason.
    """

    hyps: dict[str, str] = field(default_factory=dict)
    ctm: dict[str, list[CtmEntry]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def add(self, utt: str, words: Sequence[TimedWord] | None, untimed: Sequence[str] = ()) -> None:
        """Record ``utt``: timed ``words``, or (``words is None``) the ``untimed`` words only."""
        if words is None:
            self.hyps[utt] = " ".join(untimed)
            return
        self.hyps[utt] = " ".join(w.word for w in words)
        if words:
            self.ctm[utt] = [CtmEntry(utt, round(w.start, 3), round(max(w.end - w.start, 0.0), 3), w.word,
                                      round(w.conf, 3)) for w in words]

    def skip(self, utt: str, reason: str, message: str) -> None:
        """Count ``utt`` as not recognised (``reason`` is a short tag)."""
        self.skipped.setdefault(reason, []).append(utt)
        logger.warning("%s: not recognised (%s): %s", utt, reason, message)

    @property
    def num_empty(self) -> int:
        return sum(1 for h in self.hyps.values() if not h)

    @property
    def num_untimed(self) -> int:
        return sum(1 for u, h in self.hyps.items() if h and u not in self.ctm)

    def summary(self) -> str:
        """One line for the log."""
        parts = [f"{len(self.hyps)} utterances recognised", f"{self.num_empty} with no word",
                 f"{self.num_untimed} with untimed words"]
        if self.skipped:
            parts.append("not recognised: " + ", ".join(f"{len(v)} {k}" for k, v in sorted(self.skipped.items())))
        return "; ".join(parts)


def wer_line(stats: WerStats, no_words: int) -> str:
    """The one line of ``wer.txt``."""
    return (f"WER {stats.wer:.2f}% ({stats.errors} errors / {stats.ref_words} words, "
            f"{stats.utterances} utterances, {no_words} without recognised words)")


def write_transcript(out_dir: str | Path, transcript: Transcript,
                     refs: Mapping[str, str] | None = None, keys: Sequence[str] | None = None) -> WerStats | None:
    """Write ``text``, ``word.ctm`` and (with ``refs``) ``wer.txt`` under ``out_dir``.

    The WER is over ``keys`` (default: every reference utterance); an utterance without a
    hypothesis counts as all deletions.
    """
    out = Path(out_dir)
    write_table(out / "text", {u: h for u, h in transcript.hyps.items() if h})
    write_ctm(out / "word.ctm", transcript.ctm)
    if refs is None:
        return None
    keys = list(refs) if keys is None else list(keys)
    stats = corpus_wer(refs, transcript.hyps, keys=keys)
    no_words = sum(1 for k in keys if not transcript.hyps.get(k))
    line = wer_line(stats, no_words)
    with atomic_open(out / "wer.txt") as f:
        f.write(line + "\n")
    logger.info("%s: %s", out, line)
    return stats


def read_transcript(asr_dir: str | Path) -> Transcript:
    """Read ``<asr_dir>/text`` and ``<asr_dir>/word.ctm`` back (the CTM checked against the text).

    Raises:
        DataError: for a missing or malformed file, or CTM words that are not the text's.
    """
    asr_dir = Path(asr_dir)
    text = read_table(asr_dir / "text", allow_empty_value=True)
    ctm_path = asr_dir / "word.ctm"
    ctm: dict[str, list[CtmEntry]] = {}
    if ctm_path.is_file():
        ctm = validate_ctm(read_ctm(ctm_path), text, ctm_path)
    else:
        logger.warning("%s is missing: the ASR words get evenly spread times", ctm_path)
    return Transcript(hyps=dict(text), ctm=ctm)


def merge_transcripts(job_dirs: Sequence[str | Path]) -> Transcript:
    """The union of the transcripts of several jobs (an utterance may appear in one job only)."""
    merged = Transcript()
    for d in job_dirs:
        part = read_transcript(d)
        dup = set(part.hyps) & set(merged.hyps)
        if dup:
            raise DataError(f"utterance {sorted(dup)[0]!r} is in more than one job's transcript", Path(d) / "text")
        merged.hyps.update(part.hyps)
        merged.ctm.update(part.ctm)
    return merged
