"""Counting what a corpus importer met and what it lost, per reason (shared by every importer).

An importer notes each problem under a reason (``missing_audio``, ``empty_transcript`` ...), with
how many of its units (utterances, questions) the problem cost and an example; its log lists the
counts and examples, and the import fails when the lost share is above its limit. Only the unit
differs between importers, so this mixin holds the counting and a report dataclass names its unit.
"""

from __future__ import annotations

import collections

#: examples kept per reason for the import log
MAX_EXAMPLES = 5


class LossCounts:
    """Mixin for an importer's report dataclass, which must define the fields ``issues`` and
    ``lost`` (``collections.Counter``), ``examples`` (``dict[str, list[str]]``), and the property
    :attr:`units_in` (how many units the source held)."""

    issues: collections.Counter
    lost: collections.Counter
    examples: dict[str, list[str]]

    @property
    def units_in(self) -> int:
        raise NotImplementedError

    def note(self, reason: str, example: str, lost: int = 0, count: int = 1) -> None:
        """Count ``count`` problems under ``reason``, ``lost`` units lost through them, and keep
        ``example`` among the first few of the reason."""
        self.issues[reason] += count
        if lost:
            self.lost[reason] += lost
        ex = self.examples.setdefault(reason, [])
        if len(ex) < MAX_EXAMPLES:
            ex.append(example)

    @property
    def units_lost(self) -> int:
        """Units lost over all reasons."""
        return sum(self.lost.values())

    @property
    def loss_ratio(self) -> float:
        """The lost share of the source's units (0 for an empty source)."""
        return self.units_lost / self.units_in if self.units_in else 0.0

    def lost_by_reason(self) -> str:
        """``reason: n, ...``, most units first (for error messages)."""
        return ", ".join(f"{r}: {n}" for r, n in self.lost.most_common())
