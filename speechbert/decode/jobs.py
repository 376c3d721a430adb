"""Decoding split into ``--nj`` jobs whose merged ``predictions.jsonl`` has the bytes of one job.

A window's logits depend, in their last bits, on the batch it is computed in (the batch is
padded to its longest window, and the matrix kernels block differently for another shape): a
question decoded in another batch gets scores that differ by ~1e-6, enough to reorder an
n-best list. So jobs do not split the questions and batch them afresh. Every job builds the
whole decoding set (cheap: no model runs), cuts its windows into the batches a single job would
form (``batch_size`` windows in set order) and takes a contiguous share of those batches
(:func:`speechbert.align.align_dir.job_slice`, as ``split_scp.pl``). It answers the questions
whose first window lies in its share, and runs every batch holding a window of them: a question
whose windows straddle the share's end is finished with the neighbour's first batch, which is
then computed twice (at most one batch per job boundary). Each window is thus computed in the
batch, and gets the bits, of a single job.

Each job writes its part of ``predictions.jsonl`` and a job record (``job.<k>.json``) saying
which questions it owns; :func:`merge_job_parts` checks that every job finished and that the
owned questions tile the set (none lost, none twice), then concatenates the parts in job order,
which is the single job's question order.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from speechbert.align.align_dir import job_slice
from speechbert.errors import ConfigError, DataError
from speechbert.io.atomic import atomic_open
from speechbert.io.jsonl import iter_jsonl
from speechbert.tasks.sqa_dataset import SQADataset

#: the job record of job ``k`` beside its part ``predictions.<k>.jsonl`` in a split directory
PART_NAME = "predictions.{job}.jsonl"
RECORD_NAME = "job.{job}.json"


@dataclass(frozen=True)
class JobShare:
    """What one job of a split decoding owns and runs.

    ``questions``: indexes into ``dataset.questions`` of the questions it answers (contiguous);
    ``first_example`` / ``end_example``: the window range it runs, on single-job batch bounds.
    ``total``: how many questions of the set have a window (what all jobs together answer).
    """

    nj: int
    job: int
    batch_size: int
    questions: tuple[int, ...]
    first_example: int
    end_example: int
    total: int

    def examples_view(self, dataset: SQADataset) -> SQADataset:
        """``dataset`` reduced to this share's windows (the questions, passages and vocabulary shared)."""
        if self.first_example == 0 and self.end_example == len(dataset):
            return dataset
        view = copy.copy(dataset)
        view.examples = dataset.examples[self.first_example:self.end_example]
        view.lengths = dataset.lengths[self.first_example:self.end_example]
        return view


def job_share(dataset: SQADataset, nj: int, job: int, batch_size: int) -> JobShare:
    """The share of job ``job`` (1-based) of ``nj`` of ``dataset``'s windows, batched by ``batch_size``.

    Raises:
        ConfigError: for ``job`` outside ``1..nj`` or a ``batch_size`` below 1.
    """
    if batch_size < 1:
        raise ConfigError(f"--batch_size must be at least 1, got {batch_size}")
    first_window: dict[int, int] = {}
    last_window: dict[int, int] = {}
    for i, ex in enumerate(dataset.examples):
        first_window.setdefault(ex.question, i)
        last_window[ex.question] = i
    num_batches = -(-len(dataset) // batch_size)
    batches = job_slice(list(range(num_batches)), nj, job)
    mine: tuple[int, ...] = ()
    first = end = 0
    if batches:
        lo, hi = batches[0] * batch_size, (batches[-1] + 1) * batch_size
        mine = tuple(q for q, i in first_window.items() if lo <= i < hi)
    if mine:
        first = first_window[mine[0]] // batch_size * batch_size
        end = min(len(dataset), (last_window[mine[-1]] // batch_size + 1) * batch_size)
    return JobShare(nj, job, batch_size, mine, first, end, len(first_window))


def write_job_record(path: str | Path, share: JobShare, dataset: SQADataset, answered: int) -> None:
    """Write the record :func:`merge_job_parts` checks: the share's question ids, in order."""
    record = {"nj": share.nj, "job": share.job, "batch_size": share.batch_size, "total": share.total,
              "first": share.questions[0] if share.questions else None,
              "ids": [dataset.questions[q]["id"] for q in share.questions], "answered": answered}
    with atomic_open(path) as f:
        f.write(json.dumps(record) + "\n")


def _read_record(path: Path, nj: int, job: int) -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"unreadable job record: {e}", path) from None
    if not isinstance(record, dict) or not isinstance(record.get("ids"), list):
        raise DataError("not a job record (expected a JSON object with 'ids')", path)
    if record.get("nj") != nj or record.get("job") != job:
        raise DataError(f"the record of job {record.get('job')} of {record.get('nj')}, expected job {job} of {nj} "
                        "(a part of an earlier split?)", path)
    return record


def merge_job_parts(split_dir: str | Path, nj: int, out: str | Path) -> int:
    """Check the ``nj`` parts in ``split_dir`` and write their predictions to ``out`` atomically.

    Returns the number of predictions written.

    Raises:
        DataError: naming the job and file when a job's part or record is missing (the job did
            not finish), when the jobs' questions do not tile the set (a question lost or
            owned twice), or when a part holds a question its job does not own.
    """
    split_dir = Path(split_dir)
    if nj < 1:
        raise ConfigError(f"--nj must be at least 1, got {nj}")
    lines: list[str] = []
    owned = 0
    total = batch_size = None
    for job in range(1, nj + 1):
        part, rec_path = split_dir / PART_NAME.format(job=job), split_dir / RECORD_NAME.format(job=job)
        for path in (part, rec_path):
            if not path.is_file():
                raise DataError(f"decoding job {job} of {nj} did not finish: no {path.name} (see its log, "
                                f"decode.{job}.log)", path)
        record = _read_record(rec_path, nj, job)
        if total is None:
            total, batch_size = record.get("total"), record.get("batch_size")
        elif (record.get("total"), record.get("batch_size")) != (total, batch_size):
            raise DataError(f"job {job} decoded another set or batch size ({record.get('total')} questions, batch "
                            f"{record.get('batch_size')}) than job 1 ({total}, batch {batch_size})", rec_path)
        ids = record["ids"]
        if ids and record.get("first") != owned:
            raise DataError(f"job {job} starts at question {record.get('first')}, but jobs 1-{job - 1} end at "
                            f"{owned}: questions would be lost or decoded twice", rec_path)
        owned += len(ids)
        part_lines = _part_lines(part, ids, job)
        if len(part_lines) != record.get("answered"):
            raise DataError(f"job {job} wrote {record.get('answered')} predictions, its part holds "
                            f"{len(part_lines)}", part)
        lines.extend(part_lines)
    if owned != total:
        raise DataError(f"the {nj} jobs own {owned} of the set's {total} questions", split_dir)
    with atomic_open(out) as f:
        f.writelines(lines)
    return len(lines)


def _part_lines(part: Path, ids: Sequence[str], job: int) -> list[str]:
    """The lines of one job's part, checked against the ids it owns (in their order, once each)."""
    expected = {qid: k for k, qid in enumerate(ids)}
    last = -1
    for lineno, rec in iter_jsonl(part):
        qid = rec.get("id") if isinstance(rec, dict) else None
        if qid not in expected:
            raise DataError(f"question {qid!r} is not one job {job} decodes", part, lineno)
        if expected[qid] <= last:
            raise DataError(f"question {qid!r} is out of order or repeated", part, lineno)
        last = expected[qid]
    # The part's bytes are kept as written (a re-serialized record could change a float's text).
    return part.read_text(encoding="utf-8").splitlines(keepends=True)
