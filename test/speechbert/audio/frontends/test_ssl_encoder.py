"""The SSL frontend as an ``nn.Module`` inside a model: learnable layer weights, batches, frozen upstream."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ssl_fixture as sf  # noqa: E402

from speechbert.audio.frontends.ssl import build_ssl_encoder  # noqa: E402


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> tuple[Path, torch.nn.Module]:
    model = sf.tiny_model("hubert", "layer_norm")
    return sf.save_state_dict(model, tmp_path_factory.mktemp("enc") / "h.pt"), model


def conf(path: Path, **kw) -> dict:
    return {"family": "hubert", "checkpoint": str(path), "arch_conf": sf.tiny_arch("hubert"), **kw}


def test_layer_weights_are_learnable_and_start_at_the_configured_ones(checkpoint):
    path, _ = checkpoint
    enc = build_ssl_encoder(conf(path, weighted_sum=True, layer_weights=[3.0, 1.0]))
    enc.train()
    np.testing.assert_allclose(enc.layer_weights().detach().numpy(), [0.75, 0.25], rtol=1e-6)
    assert [n for n, p in enc.named_parameters() if p.requires_grad] == ["layer_logits"]
    assert not enc.model.training  # a frozen upstream stays in inference mode
    feats, _ = enc(torch.from_numpy(sf.speechlike(0.5))[None])
    feats.pow(2).mean().backward()
    assert enc.layer_logits.grad is not None and enc.layer_logits.grad.abs().sum() > 0
    unfrozen = build_ssl_encoder(conf(path, layer=1), freeze_upstream=False)
    assert all(p.requires_grad for p in unfrozen.model.parameters())


def test_a_padded_batch_gives_each_utterances_own_features(checkpoint):
    path, _ = checkpoint
    enc = build_ssl_encoder(conf(path, layer=2, subsample=2)).eval()
    a, b = sf.speechlike(0.8, seed=1), sf.speechlike(0.5, seed=2)
    batch = torch.zeros(2, len(a))
    batch[0], batch[1, :len(b)] = torch.from_numpy(a), torch.from_numpy(b)
    with torch.no_grad():
        feats, lengths = enc(batch, torch.tensor([len(a), len(b)]))
        alone_a, _ = enc(torch.from_numpy(a)[None])
        alone_b, _ = enc(torch.from_numpy(b)[None])
    assert lengths.tolist() == [alone_a.shape[1], alone_b.shape[1]] == [20, 12]  # ceil(39/2), ceil(24/2)
    np.testing.assert_allclose(feats[0, :20].numpy(), alone_a[0].numpy(), atol=1e-4)
    np.testing.assert_allclose(feats[1, :12].numpy(), alone_b[0].numpy(), atol=1e-4)
