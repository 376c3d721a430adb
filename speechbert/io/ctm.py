"""Word CTM files: ``<utt> <channel> <start> <dur> <word> [<conf>]``, utterance-relative seconds.

The project writes ``<utt> 1 <start> <dur> <word> <conf>`` with 3 decimals, sorted by utterance
(``LC_ALL=C``) then start. Readers accept CTMs from other tools (MFA, Kaldi, ...): 5 or 6
fields, and ``validate_ctm`` checks one against a data directory's ``text``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open
from speechbert.io.kaldi_table import c_sort_key, check_key
from speechbert.io.text_lines import iter_utf8_lines

# Entries other tools write for silence or noise; they are not words of the transcript.
NON_WORDS = frozenset({"<eps>", "sil", "<sil>", "!sil", "sp", "<sp>", "[sil]"})

# Times are written with 3 decimals: anything closer than this is rounding, not an overlap.
TIME_TOLERANCE = 0.0015


@dataclass(frozen=True)
class CtmEntry:
    """One word of a CTM."""

    utt: str
    start: float
    dur: float
    word: str
    conf: float | None = None
    channel: str = "1"
    line: int | None = None  # where it was read from, for error messages

    @property
    def end(self) -> float:
        return self.start + self.dur


def read_ctm(path: str | Path) -> dict[str, list[CtmEntry]]:
    """Read a CTM into ``{utt: [entries sorted by start]}``, utterances in file order.

    Raises:
        DataError: naming the file and line for a missing file, text that is not UTF-8, a
            malformed line, a number that does not parse, a negative or non-finite start or
            duration, or a bad utterance id.
    """
    path = Path(path)
    out: dict[str, list[CtmEntry]] = {}
    for lineno, raw in iter_utf8_lines(path):
        fields = raw.split()
        if not fields or fields[0].startswith(";;"):
            continue  # blank lines and NIST comments
        if len(fields) not in (5, 6):
            raise DataError(f"expected 5 or 6 fields '<utt> <channel> <start> <dur> <word> [<conf>]', "
                            f"got {len(fields)}", path, lineno)
        utt, channel, s_start, s_dur, word = fields[:5]
        why = check_key(utt)
        if why:
            raise DataError(why, path, lineno)
        try:
            start, dur = float(s_start), float(s_dur)
            conf = float(fields[5]) if len(fields) == 6 else None
        except ValueError:
            raise DataError(f"start, duration and confidence must be numbers: {raw.strip()!r}",
                            path, lineno) from None
        if not (math.isfinite(start) and math.isfinite(dur)):
            raise DataError(f"non-finite time in {raw.strip()!r}", path, lineno)
        if start < 0:
            raise DataError(f"negative start time {start}", path, lineno, key=utt)
        if dur < 0:
            raise DataError(f"negative duration {dur}", path, lineno, key=utt)
        out.setdefault(utt, []).append(CtmEntry(utt, start, dur, word, conf, channel, lineno))
    for entries in out.values():
        entries.sort(key=lambda e: (e.start, e.line or 0))
    return out


def format_ctm_line(e: CtmEntry) -> str:
    """One CTM line in the project's format (3 decimals, confidence if known)."""
    conf = "" if e.conf is None else f" {e.conf:.3f}"
    return f"{e.utt} {e.channel} {e.start:.3f} {e.dur:.3f} {e.word}{conf}\n"


def write_ctm(path: str | Path, ctm: Mapping[str, Iterable[CtmEntry]]) -> int:
    """Write ``{utt: entries}`` sorted by utterance then start, atomically. Returns the line count."""
    n = 0
    with atomic_open(path) as f:
        for utt in sorted(ctm, key=c_sort_key):
            for e in sorted(ctm[utt], key=lambda e: e.start):
                f.write(format_ctm_line(e))
                n += 1
    return n


def _word_key(word: str) -> str:
    return word.lower()


def _drop_non_words(entries: Sequence[CtmEntry], ref: Sequence[str]) -> list[CtmEntry]:
    """The entries without silence/noise entries, keeping one that is a word of the text there.

    A recogniser that spells words letter by letter can produce a real word ``sp`` or ``sil``:
    walking the text, an entry that matches the next text word is kept even if it looks like a
    silence token; other silence tokens are dropped.
    """
    out, j = [], 0
    for e in entries:
        key = _word_key(e.word)
        if j < len(ref) and key == _word_key(ref[j]):
            out.append(e)
            j += 1
        elif key not in NON_WORDS:
            out.append(e)  # a mismatch: reported by the caller with its line
            j += 1
    return out


def validate_ctm(ctm: Mapping[str, list[CtmEntry]], text: Mapping[str, str], path: str | Path,
                 utt2dur: Mapping[str, float] | None = None,
                 time_tolerance: float = 0.05) -> dict[str, list[CtmEntry]]:
    """Check a CTM against a data directory and return it without silence entries.

    Every utterance must be in ``text``; within an utterance words may not overlap, and
    (with ``utt2dur``) may not end more than ``time_tolerance`` s after the audio; the words,
    in time order, must be the words of ``text`` (case-insensitive). Utterances of ``text``
    that are absent from the CTM are allowed (they count as not aligned).

    Raises:
        DataError: naming the CTM file, line and utterance of the first problem.
    """
    clean: dict[str, list[CtmEntry]] = {}
    for utt, entries in ctm.items():
        if utt not in text:
            raise DataError(f"utterance {utt!r} is not in the data directory's text",
                            path, entries[0].line, key=utt)
        words = _drop_non_words(entries, text[utt].split())
        for prev, cur in zip(words, words[1:]):
            if cur.start < prev.end - TIME_TOLERANCE:
                raise DataError(f"word {cur.word!r} starts at {cur.start:.3f} s, before the previous "
                                f"word {prev.word!r} ends ({prev.end:.3f} s): overlapping times",
                                path, cur.line, key=utt)
        if utt2dur is not None and utt in utt2dur and words:
            last = max(words, key=lambda e: e.end)
            if last.end > utt2dur[utt] + time_tolerance:
                raise DataError(f"word {last.word!r} ends at {last.end:.3f} s, after the end of the "
                                f"audio ({utt2dur[utt]:.3f} s)", path, last.line, key=utt)
        ref = text[utt].split()
        hyp = [e.word for e in words]
        if [_word_key(w) for w in hyp] != [_word_key(w) for w in ref]:
            k = next((i for i, (a, b) in enumerate(zip(hyp, ref)) if _word_key(a) != _word_key(b)),
                     min(len(hyp), len(ref)))
            got = hyp[k] if k < len(hyp) else "<end>"
            want = ref[k] if k < len(ref) else "<end>"
            line = words[k].line if k < len(words) else (words[-1].line if words else None)
            raise DataError(f"CTM words do not match text: {len(hyp)} words vs {len(ref)} in text; "
                            f"word {k} is {got!r}, text has {want!r}", path, line, key=utt)
        clean[utt] = words
    return clean
