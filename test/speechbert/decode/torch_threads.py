"""The autouse fixture that runs each answering and ASR test on one torch thread.

Imported by ``test/speechbert/decode/conftest.py`` and ``test/speechbert/asr/conftest.py`` (both
put this directory on ``sys.path``).
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """The CI machine has 2 cores shared by everything else."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
