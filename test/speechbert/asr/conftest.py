"""Fixtures of the ASR tests: one torch thread, a synthesized two-utterance data set with features."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

DECODE_TESTS = Path(__file__).resolve().parents[1] / "decode"
sys.path.insert(0, str(DECODE_TESTS))

from torch_threads import _one_thread  # noqa: E402,F401 - an autouse fixture


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory) -> Path:
    """Two eSpeak utterances with features and an energy aligner (``answer_fixture.make_synth_set``)."""
    import answer_fixture as af

    return af.make_synth_set(tmp_path_factory.mktemp("asr_set"))
