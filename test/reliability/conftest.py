"""Fixtures of the bad-input catalogue (``test/reliability/``, doc/reliability.md).

The modules beside this file are put on ``sys.path`` (the tests run with
``--import-mode=importlib``). Cases marked ``catalogue_long`` skip unless
``SPEECHBERT_LONG_CATALOGUE=1`` is set (``make reliability-test``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

LONG_ENV = "SPEECHBERT_LONG_CATALOGUE"


def long_catalogue_enabled() -> bool:
    return os.environ.get(LONG_ENV, "") not in ("", "0")


def pytest_collection_modifyitems(config, items):  # noqa: D103 - pytest hook
    if long_catalogue_enabled():
        return
    skip = pytest.mark.skip(reason=f"long catalogue case: set {LONG_ENV}=1 (make reliability-test)")
    for item in items:
        if "catalogue_long" in item.keywords and str(item.fspath).startswith(str(HERE)):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def qa_models(tmp_path_factory):
    """Trained end-to-end (audio) and text QA experiments and an energy aligner (long cases only).

    One-step fine-tuning runs on the structured corpus (``answer_fixture.train_qa_exp``), whose
    test split is the catalogue's ``data/test``.
    """
    import torch

    import corpus  # noqa: F401 - puts test/speechbert/tasks on sys.path

    sys.path.insert(0, str(corpus.REPO / "test" / "speechbert" / "decode"))
    import answer_fixture as af

    root = tmp_path_factory.mktemp("qa_models")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        af.make_corpus(root, n_train=6, n_test=3)
        audio = af.train_qa_exp(root, root / "exp" / "finetune")
        text = af.train_qa_exp(root, root / "exp" / "finetune_text", modality="text")
        aligner = af.make_energy_aligner(root / "exp" / "aligner", af.DIM, root / "dump" / "train" / "cmvn.ark")
    finally:
        torch.set_num_threads(old)
    return {"root": root, "finetune": audio, "finetune_text": text, "aligner": aligner}
