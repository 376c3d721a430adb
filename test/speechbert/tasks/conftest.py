"""Shared fixtures of the SpeechBERT task tests: the tiny structured corpus and trained runs.

``sqa_fixture`` (beside this file) builds the corpus; it is put on ``sys.path`` here because
the tests run with ``--import-mode=importlib``.
"""

import contextlib
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sqa_fixture as fx  # noqa: E402


@contextlib.contextmanager
def one_thread():
    """The CI machine has 2 cores shared by everything else: torch gets one."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="session")
def sqa_corpus(tmp_path_factory) -> Path:
    """Train (40 passages) and dev (16 passages) sets of the structured corpus."""
    return fx.make_corpus(tmp_path_factory.mktemp("sqa_corpus"), n_train=40, n_valid=16)


@pytest.fixture(scope="session")
def joint_embed_exp(sqa_corpus, tmp_path_factory) -> Path:
    """A short joint-embedding run (8 epochs) on the structured corpus."""
    from speechbert.tasks.joint_embedding import JointEmbeddingTask

    out = tmp_path_factory.mktemp("exp") / "joint_embed"
    argv = fx.corpus_args(sqa_corpus) + fx.AWE_ARGS + fx.RUN_ARGS + [
        "--output_dir", str(out), "--max_epoch", "8", "--lr", "3e-3", "--semantic_weight", "30",
        "--best_criterion", "valid.acc_nn:max", "valid.loss:min"]
    with one_thread():
        assert JointEmbeddingTask.main(argv) == 0
    return out


@pytest.fixture(scope="session")
def pretrain_exp(sqa_corpus, joint_embed_exp, tmp_path_factory) -> Path:
    """A short cross-modal pre-training run (6 epochs) initialised from ``joint_embed_exp``."""
    from speechbert.tasks.pretrain import PretrainTask

    out = tmp_path_factory.mktemp("exp") / "pretrain"
    argv = fx.corpus_args(sqa_corpus) + fx.RUN_ARGS + fx.pretrain_model_args(joint_embed_exp) + [
        "--output_dir", str(out), "--max_epoch", "6", "--lr", "1e-3",
        "--best_criterion", "valid.acc_audio_mlm:max"]
    with one_thread():
        assert PretrainTask.main(argv) == 0
    return out
