"""doc/extending.md works as written: its python blocks run, in order, in one namespace.

The worked example registers a ``max_pool`` audio word encoder, builds the joint-embedding model
with ``--awe max_pool`` through the task's parser and trains it a few steps on a tiny batch; the
span-head block builds and runs the ``mlp`` head. The blocks hold their own asserts.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
import torch

DOC = Path(__file__).resolve().parents[2] / "doc" / "extending.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(text: str) -> list[str]:
    """The fenced ``python`` blocks of a markdown text, in order."""
    return FENCE.findall(text)


def test_the_doc_has_the_worked_example_blocks():
    blocks = python_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) == 3
    assert '@AUDIO_WORD_ENCODERS.register("max_pool", MaxPoolConf)' in blocks[0]
    assert '"--awe", "max_pool"' in blocks[1] and "loss.backward()" in blocks[1]
    assert 'SPAN_HEADS.build("mlp"' in blocks[2]


@pytest.fixture
def registries_restored():
    """Leave the registries as they were: the example's component is the doc's, not the package's."""
    from speechbert.nets.abs_audio_word_encoder import AUDIO_WORD_ENCODERS

    before = AUDIO_WORD_ENCODERS.names()
    yield
    for name in set(AUDIO_WORD_ENCODERS.names()) - set(before):
        AUDIO_WORD_ENCODERS._components.pop(name)


def test_the_python_blocks_run(registries_restored, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the example names relative paths; nothing may be written elsewhere
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # a real module: dataclasses look their module up in sys.modules
        module = types.ModuleType("doc_extending")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        namespace = module.__dict__
        for n, block in enumerate(python_blocks(DOC.read_text(encoding="utf-8"))):
            exec(compile(block, f"{DOC}:python block {n + 1}", "exec"), namespace)
    finally:
        torch.set_num_threads(old_threads)
    from speechbert.nets.abs_audio_word_encoder import AUDIO_WORD_ENCODERS

    assert "max_pool" in AUDIO_WORD_ENCODERS.names()
    # the loss the example trained really fell, and the encoder ignores padding
    losses = namespace["losses"]
    assert len(losses) == 20 and losses[-1] < losses[0]
    enc = namespace["model"].audio_encoder
    feats = torch.randn(2, 5, 20)
    padded = feats.clone()
    padded[1, 3:] = 100.0
    lens = torch.tensor([5, 3])
    assert torch.equal(enc.encode(feats, lens), enc.encode(padded, lens))
    assert list(tmp_path.iterdir()) == []
