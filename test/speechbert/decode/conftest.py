"""Fixtures of the answering tests: one torch thread, a hand-built two-sentence data set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from torch_threads import _one_thread  # noqa: E402,F401 - an autouse fixture


@pytest.fixture
def two_sentence_data(tmp_path) -> Path:
    """``data/test``: context c1 = u1 "the cat sat" (1.5 s) + u2 "near the river" (2.0 s), one
    question, and a hand-made word CTM ``word.ctm`` next to it."""
    from hand_data import write_two_sentence_data

    return write_two_sentence_data(tmp_path / "data" / "test")
