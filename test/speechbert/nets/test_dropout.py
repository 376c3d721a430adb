"""The cheap CPU dropout: drop rate, unbiased scale, rounding of p, seeding, eval and p=0 identity."""

import pytest
import torch

from speechbert.nets.dropout import Dropout, _threshold, dropout, dropout_add, keep_mask


def test_drop_rate_and_expectation():
    torch.manual_seed(0)
    keep, scale = keep_mask((1000, 1000), 0.1, torch.device("cpu"))
    assert keep.dtype == torch.bool
    # 1e6 draws: the standard error of the kept fraction is 3e-4
    assert abs(keep.float().mean().item() - 0.9) < 1.5e-3
    y = dropout(torch.ones(1000, 1000), 0.1, training=True)
    assert abs(y.mean().item() - 1.0) < 2e-3
    values = torch.unique(y).tolist()
    assert len(values) == 2 and values[0] == 0.0 and values[1] == pytest.approx(scale, rel=1e-6)


def test_p_is_rounded_to_sixteen_bits_and_the_scale_follows():
    threshold, scale = _threshold(0.1)
    dropped = threshold + 2**15
    assert dropped == 6554 and scale == pytest.approx(1 / (1 - 6554 / 65536), rel=1e-12)
    assert _threshold(0.0) == (-(2**15), 1.0)
    assert _threshold(0.999999)[0] == 2**15 - 1  # something is always kept


def test_every_lane_of_the_random_words_is_used_alike():
    """Four elements share one int64 draw: each of the four positions drops at the same rate."""
    torch.manual_seed(1)
    keep, _ = keep_mask((400_000, 4), 0.25, torch.device("cpu"))
    rates = 1 - keep.float().mean(0)
    assert (rates - 0.25).abs().max() < 4e-3


def test_seeded_eval_and_zero_p():
    x = torch.randn(37, 11)
    torch.manual_seed(5)
    a = dropout(x, 0.3, True)
    torch.manual_seed(5)
    b = dropout(x, 0.3, True)
    assert torch.equal(a, b)
    assert dropout(x, 0.3, False) is x and dropout(x, 0.0, True) is x
    r = torch.randn(37, 11)
    assert torch.equal(dropout_add(r, x, 0.3, False), r + x)
    torch.manual_seed(5)
    c = dropout_add(r, x, 0.3, True)
    assert torch.allclose(c, r + a, atol=1e-6)  # same mask from the same seed
    m = Dropout(0.3).eval()
    assert m(x) is x
    with pytest.raises(ValueError):
        Dropout(1.0)


def test_gradient_is_the_mask():
    x = torch.randn(64, 8, requires_grad=True)
    torch.manual_seed(2)
    y = dropout(x, 0.5, True)
    y.sum().backward()
    assert torch.equal(x.grad != 0, y != 0)
    assert torch.allclose(x.grad[x.grad != 0], torch.full_like(x.grad[x.grad != 0], 2.0))
