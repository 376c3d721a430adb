"""Split decoding: the job shares lie on single-job batch bounds and tile the questions; the merge
refuses unfinished, overlapping or foreign parts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from speechbert.decode.jobs import job_share, merge_job_parts
from speechbert.errors import DataError


@dataclass
class _Window:
    question: int


class _Windows:
    """The part of an SQADataset that job_share reads: windows in order, each naming its question."""

    def __init__(self, windows_per_question: list[int]) -> None:
        self.examples = [_Window(q) for q, n in enumerate(windows_per_question) for _ in range(n)]
        self.lengths = [1] * len(self.examples)
        self.questions = [{"id": f"q{q}"} for q in range(len(windows_per_question))]

    def __len__(self) -> int:
        return len(self.examples)


def test_shares_tile_the_questions_and_run_whole_single_job_batches():
    # windows 0-2 q0, 3 q1, 4-5 q2, 6-9 q3, 10 q4; batches of 4: [0-3] [4-7] [8-10]
    ds = _Windows([3, 1, 2, 4, 1])
    shares = [job_share(ds, 2, j, 4) for j in (1, 2)]
    # job 1: batches 0-1, so the questions starting in windows 0-7: q0..q3; q3 ends in batch 2
    assert shares[0].questions == (0, 1, 2, 3) and (shares[0].first_example, shares[0].end_example) == (0, 11)
    # job 2: batch 2 (windows 8-10): only q4 starts there; it runs batch 2 whole (windows 8-10)
    assert shares[1].questions == (4,) and (shares[1].first_example, shares[1].end_example) == (8, 11)
    assert all(s.total == 5 for s in shares)
    for s in shares:
        assert s.first_example % 4 == 0  # the batches a single job forms, never a shifted one
    view = shares[1].examples_view(ds)
    assert [w.question for w in view.examples] == [3, 3, 4] and len(ds) == 11
    # more jobs than batches: the extra jobs own nothing
    many = [job_share(ds, 5, j, 4) for j in range(1, 6)]
    assert [q for s in many for q in s.questions] == [0, 1, 2, 3, 4]
    assert sum(1 for s in many if not s.questions) == 2
    assert job_share(ds, 1, 1, 4).examples_view(ds) is ds


def _write_job(split: Path, nj: int, job: int, first: int | None, ids: list[str], lines: list[str],
               total: int) -> None:
    split.mkdir(parents=True, exist_ok=True)
    (split / f"predictions.{job}.jsonl").write_text("".join(line + "\n" for line in lines))
    (split / f"job.{job}.json").write_text(json.dumps(
        {"nj": nj, "job": job, "batch_size": 4, "total": total, "first": first, "ids": ids, "answered": len(lines)}))


def _pred(qid: str, score: float) -> str:
    return json.dumps({"id": qid, "context_id": "c", "word_span": [0, 0], "score": score, "nbest": []})


def test_merge_keeps_the_bytes_in_job_order(tmp_path):
    split = tmp_path / "split3"
    # job 2 owns q2, q3 but q3 got no prediction (an unreadable passage: as a single job writes)
    _write_job(split, 3, 1, 0, ["q0", "q1"], [_pred("q0", 0.1 + 0.2), _pred("q1", 1e-7)], 5)
    _write_job(split, 3, 2, 2, ["q2", "q3"], [_pred("q2", -2.5)], 5)
    _write_job(split, 3, 3, 4, ["q4"], [_pred("q4", 3.0)], 5)
    out = tmp_path / "predictions.jsonl"
    assert merge_job_parts(split, 3, out) == 4
    assert out.read_text() == "".join((split / f"predictions.{k}.jsonl").read_text() for k in (1, 2, 3))
    assert "0.30000000000000004" in out.read_text()  # not re-serialized


@pytest.mark.parametrize("break_it, says", [
    (lambda s: (s / "predictions.2.jsonl").unlink(), "decoding job 2 of 3 did not finish: no predictions.2.jsonl"),
    (lambda s: (s / "job.3.json").unlink(), "decoding job 3 of 3 did not finish: no job.3.json"),
    (lambda s: _write_job(s, 3, 2, 3, ["q3"], [_pred("q3", 1.0)], 5), "job 2 starts at question 3, but jobs 1-1 end at 2"),
    (lambda s: _write_job(s, 3, 3, None, [], [], 5), "the 3 jobs own 4 of the set's 5 questions"),
    (lambda s: _write_job(s, 3, 2, 2, ["q2", "q3"], [_pred("q1", 1.0)], 5), "'q1' is not one job 2 decodes"),
    (lambda s: _write_job(s, 3, 2, 2, ["q2", "q3"], [_pred("q3", 1.0), _pred("q2", 1.0)], 5), "out of order"),
    (lambda s: _write_job(s, 2, 2, 2, ["q2", "q3"], [], 5), "the record of job 2 of 2, expected job 2 of 3"),
    (lambda s: (s / "predictions.1.jsonl").write_text(_pred("q0", 1.0) + "\n"), "job 1 wrote 2 predictions"),
])
def test_merge_refuses_unfinished_or_inconsistent_parts(tmp_path, break_it, says):
    split = tmp_path / "split3"
    _write_job(split, 3, 1, 0, ["q0", "q1"], [_pred("q0", 1.0), _pred("q1", 1.0)], 5)
    _write_job(split, 3, 2, 2, ["q2", "q3"], [_pred("q2", 1.0), _pred("q3", 1.0)], 5)
    _write_job(split, 3, 3, 4, ["q4"], [_pred("q4", 1.0)], 5)
    break_it(split)
    out = tmp_path / "predictions.jsonl"
    with pytest.raises(DataError) as e:
        merge_job_parts(split, 3, out)
    assert says in str(e.value)
    assert not out.exists()

