"""Shared fixtures of the SpeechBERT task tests: the tiny structured corpus and trained runs.

``sqa_fixture`` (beside this file) builds the corpus; it is put on ``sys.path`` here because
the tests run with ``--import-mode=importlib``.
"""

import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sqa_fixture as fx  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    """The CI machine has 2 cores shared by everything else."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def sqa_corpus(tmp_path_factory) -> Path:
    """Train (40 passages) and dev (16 passages) sets of the structured corpus."""
    return fx.make_corpus(tmp_path_factory.mktemp("sqa_corpus"), n_train=40, n_valid=16)
