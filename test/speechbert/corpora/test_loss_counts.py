"""The loss counting every corpus importer's report shares."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from speechbert.corpora.librispeech import SubsetReport
from speechbert.corpora.loss_counts import MAX_EXAMPLES, LossCounts
from speechbert.corpora.spoken_squad import SourceReport


@dataclass
class _Report(LossCounts):
    n: int = 0
    issues: collections.Counter = field(default_factory=collections.Counter)
    lost: collections.Counter = field(default_factory=collections.Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def units_in(self) -> int:
        return self.n


def test_counts_losses_and_examples_per_reason() -> None:
    r = _Report(n=40)
    for i in range(7):
        r.note("missing_audio", f"utt{i}", lost=2)
    r.note("answer_widened", "q1")                 # a problem that loses nothing
    r.note("empty_question", "q2", lost=1, count=3)
    assert r.issues == {"missing_audio": 7, "answer_widened": 1, "empty_question": 3}
    assert r.lost == {"missing_audio": 14, "empty_question": 1}
    assert r.examples["missing_audio"] == [f"utt{i}" for i in range(MAX_EXAMPLES)]
    assert r.units_lost == 15 and r.loss_ratio == 15 / 40
    assert r.lost_by_reason() == "missing_audio: 14, empty_question: 1"


def test_empty_source_has_no_loss_ratio() -> None:
    assert _Report(n=0).loss_ratio == 0.0


def test_both_importers_count_through_it() -> None:
    assert issubclass(SubsetReport, LossCounts) and issubclass(SourceReport, LossCounts)
    assert "note" not in vars(SubsetReport) and "note" not in vars(SourceReport)
