"""Checks of a split ASR run (``asr_transcribe --nj N --job k``) before its job outputs are merged.

Job ``k`` of ``N`` recognises :func:`speechbert.align.align_dir.job_slice` ``(utts, N, k)`` of the
reference utterances and writes ``text``, ``word.ctm`` and, last, ``wer.txt`` (each atomically),
so a job directory without ``wer.txt`` belongs to a job that did not finish. ``wer.txt`` also
records how many utterances the job scored: with the text's utterances inside the job's slice,
that shows no utterance was lost or recognised by two jobs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from speechbert.align.align_dir import job_slice
from speechbert.errors import DataError
from speechbert.io.kaldi_table import read_table

_UTTERANCES = re.compile(r", (\d+) utterances,")


def check_job_dirs(job_dirs: Sequence[str | Path], utts: Sequence[str]) -> None:
    """Check that job directory ``k`` (1-based, in order) holds the finished output of job ``k`` of
    ``len(job_dirs)`` over ``utts`` (the reference utterances in ``text`` order).

    Raises:
        DataError: naming the job and file: a missing ``wer.txt`` (the job did not finish), a
            count of scored utterances other than the job's slice, or an utterance of another job.
    """
    nj = len(job_dirs)
    for k, d in enumerate(job_dirs, start=1):
        d = Path(d)
        mine = job_slice(list(utts), nj, k)
        wer = d / "wer.txt"
        if not wer.is_file():
            raise DataError(f"ASR job {k} of {nj} did not finish (no wer.txt; see its log asr.{k}.log)", wer)
        m = _UTTERANCES.search(wer.read_text(encoding="utf-8"))
        if m is None or int(m.group(1)) != len(mine):
            raise DataError(f"ASR job {k} of {nj} should have scored {len(mine)} utterances: "
                            f"{wer.read_text(encoding='utf-8').strip()!r} (a job of another split?)", wer)
        own = set(mine)
        for utt in read_table(d / "text", allow_empty_value=True):
            if utt not in own:
                raise DataError(f"utterance {utt!r} is not one ASR job {k} of {nj} recognises", d / "text", key=utt)
