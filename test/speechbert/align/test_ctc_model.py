"""Shapes, lengths and trainability of the CTC aligner model."""

from __future__ import annotations

import pytest
import torch

from speechbert.align.ctc_model import CTCModel, CTCModelConfig
from speechbert.errors import ConfigError


@pytest.mark.parametrize("kw", [{}, {"subsample": 2}, {"lstm_layers": 1}, {"transformer_layers": 1}])
def test_output_shape_and_lengths(kw):
    torch.manual_seed(0)
    m = CTCModel(CTCModelConfig(input_dim=20, vocab_size=29, channels=16, conv_layers=2, **kw)).eval()
    lengths = torch.tensor([37, 20])
    lp, out_len = m.log_probs(torch.randn(2, 37, 20), lengths)
    s = kw.get("subsample", 1)
    assert out_len.tolist() == [-(-37 // s), -(-20 // s)]
    assert lp.shape == (2, out_len.max().item(), 29)
    assert torch.allclose(lp.exp().sum(-1), torch.ones(lp.shape[:2]), atol=1e-5)


def test_padding_does_not_change_a_short_utterance_more_than_the_conv_edge():
    torch.manual_seed(0)
    m = CTCModel(CTCModelConfig(input_dim=8, vocab_size=5, channels=8, conv_layers=1, kernel_size=3)).eval()
    x = torch.randn(1, 10, 8)
    alone, _ = m.log_probs(x, torch.tensor([10]))
    padded, _ = m.log_probs(torch.cat([x, torch.zeros(1, 6, 8)], 1), torch.tensor([10]))
    assert torch.allclose(alone[0, :8], padded[0, :8], atol=1e-5)  # frames away from the edge


def test_loss_goes_down_on_a_tiny_batch():
    torch.manual_seed(0)
    m = CTCModel(CTCModelConfig(input_dim=8, vocab_size=6, channels=16, conv_layers=1, dropout=0.0))
    batch = {"feats": torch.randn(2, 30, 8), "feats_lengths": torch.tensor([30, 25]),
             "targets": torch.tensor([[1, 2, 3, 1], [1, 4, 1, 0]]), "target_lengths": torch.tensor([4, 3])}
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    first, stats, weight = m(**batch)
    assert set(stats) == {"loss_per_token"} and weight.item() == 2.0
    for _ in range(30):
        loss, _, _ = m(**batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first.item()


def test_bad_config_is_rejected():
    with pytest.raises(ConfigError, match="subsample"):
        CTCModelConfig(subsample=3)
    with pytest.raises(ConfigError, match="kernel_size"):
        CTCModelConfig(kernel_size=4)
    with pytest.raises(ConfigError, match="unknown CTC model options: width"):
        CTCModelConfig.from_dict({"width": 3})
