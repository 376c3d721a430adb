"""Bringing an alignment made elsewhere (MFA, Kaldi, the synthesizer) into the project's CTM."""

from __future__ import annotations

import math
from pathlib import Path

from speechbert.errors import DataError
from speechbert.io.ctm import CtmEntry, read_ctm, validate_ctm
from speechbert.io.kaldi_table import read_table


def read_utt2dur(data_dir: str | Path) -> dict[str, float] | None:
    """``utt2dur`` of a data dir as floats, or ``None`` when the file is absent."""
    path = Path(data_dir) / "utt2dur"
    if not path.is_file():
        return None
    out = {}
    for utt, value in read_table(path).items():
        try:
            dur = float(value)
        except ValueError:
            raise DataError(f"duration {value!r} is not a number", path, key=utt) from None
        if not math.isfinite(dur) or dur <= 0:
            raise DataError(f"duration {value!r} must be positive", path, key=utt)
        out[utt] = dur
    return out


def import_ctm(ctm_path: str | Path, data_dir: str | Path) -> dict[str, list[CtmEntry]]:
    """Read and validate an external word CTM against ``data_dir``.

    Silence entries are dropped, words are replaced by the exact words of ``text`` (the CTM may
    differ in case), and a missing confidence becomes 1.0.

    Raises:
        DataError: unknown utterances, negative or overlapping times, times past ``utt2dur``,
            or words that are not the utterance's ``text`` (see ``validate_ctm``).
    """
    text = read_table(Path(data_dir) / "text", allow_empty_value=True)
    ctm = validate_ctm(read_ctm(ctm_path), text, ctm_path, utt2dur=read_utt2dur(data_dir))
    out: dict[str, list[CtmEntry]] = {}
    for utt, entries in ctm.items():
        words = text[utt].split()
        out[utt] = [CtmEntry(utt, e.start, e.dur, w, 1.0 if e.conf is None else e.conf)
                    for e, w in zip(entries, words)]
    return out
