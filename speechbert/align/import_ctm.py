"""Bringing an alignment made elsewhere (MFA, Kaldi, the synthesizer) into the project's CTM."""

from __future__ import annotations

from pathlib import Path

from speechbert.errors import DataError
from speechbert.io.ctm import CtmEntry, read_ctm, validate_ctm
from speechbert.io.kaldi_table import read_table
from speechbert.io.sqa_data import read_utt2dur


def import_ctm(ctm_path: str | Path, data_dir: str | Path) -> dict[str, list[CtmEntry]]:
    """Read and validate an external word CTM against ``data_dir``.

    Silence entries are dropped, words are replaced by the exact words of ``text`` (the CTM may
    differ in case), and a missing confidence becomes 1.0.

    Raises:
        DataError: a CTM without words, unknown utterances, negative or overlapping times,
            times past ``utt2dur``, or words that are not the utterance's ``text`` (see
            ``validate_ctm``).
    """
    text = read_table(Path(data_dir) / "text", allow_empty_value=True)
    raw = read_ctm(ctm_path)
    if not raw:
        # Nothing would be aligned, and every later stage would quietly see unaligned utterances.
        raise DataError("no words (an empty CTM, or only comments)", ctm_path)
    ctm = validate_ctm(raw, text, ctm_path, utt2dur=read_utt2dur(data_dir, required=False))
    out: dict[str, list[CtmEntry]] = {}
    for utt, entries in ctm.items():
        words = text[utt].split()
        out[utt] = [CtmEntry(utt, e.start, e.dur, w, 1.0 if e.conf is None else e.conf)
                    for e, w in zip(entries, words)]
    return out
