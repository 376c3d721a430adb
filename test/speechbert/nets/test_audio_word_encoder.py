"""AudioWordEncoder: shapes, padding invariance, gradients, overfitting a few segments."""

import pytest
import torch

from speechbert.errors import ConfigError
from speechbert.nets import AudioWordEncoder, AudioWordEncoderConfig, masked_reconstruction_loss


def _segments(n: int = 5, dim: int = 13, max_len: int = 12, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, max_len + 1, (n,), generator=gen)
    lengths[0] = max_len
    feats = torch.zeros(n, max_len, dim)
    for i, length in enumerate(lengths.tolist()):
        # Smooth trajectories (like cepstra of a word), different per segment.
        t = torch.linspace(0, 1, length)[:, None]
        freq = torch.rand(1, dim, generator=gen) * 3 + 0.5
        phase = torch.rand(1, dim, generator=gen) * 6.28
        feats[i, :length] = torch.sin(freq * 6.28 * t + phase)
    return feats, lengths


@pytest.mark.parametrize("rnn_type,bidirectional,layers", [("gru", True, 1), ("lstm", False, 2), ("lstm", True, 2)])
def test_shapes_and_padding_invariance(rnn_type, bidirectional, layers):
    cfg = AudioWordEncoderConfig(input_dim=13, output_size=24, hidden_size=16, num_layers=layers,
                                 bidirectional=bidirectional, rnn_type=rnn_type, decoder_hidden_size=20,
                                 decoder_layers=layers)
    enc = AudioWordEncoder(cfg).eval()
    feats, lengths = _segments()
    out = enc(feats, lengths)
    assert out.vectors.shape == (5, 24) and out.reconstruction.shape == feats.shape
    # Frames past each length are zero in the reconstruction.
    short = int((lengths < 12).nonzero()[0])
    assert out.reconstruction[short, lengths[short]:].abs().sum() == 0
    assert out.reconstruction[short, : lengths[short]].abs().sum() > 0
    # Garbage in the padding, and extra padding, change nothing.
    noisy = torch.cat([feats, torch.zeros(5, 7, 13)], dim=1)
    for i, length in enumerate(lengths.tolist()):
        noisy[i, length:] = torch.randn(19 - length, 13) * 5
    out2 = enc(noisy, lengths)
    assert torch.allclose(out.vectors, out2.vectors, atol=1e-5)
    assert torch.allclose(out.reconstruction, out2.reconstruction[:, :12], atol=1e-5)
    # Each segment alone gives the same vector as inside the batch.
    alone = enc.encode(feats[2:3, : lengths[2]], lengths[2:3])
    assert torch.allclose(alone, out.vectors[2:3], atol=1e-5)


def test_gradient_flows_to_all_parameters_and_inputs():
    enc = AudioWordEncoder(AudioWordEncoderConfig(input_dim=13, output_size=8, hidden_size=8, decoder_hidden_size=8))
    feats, lengths = _segments()
    feats.requires_grad_(True)
    out = enc(feats, lengths)
    (masked_reconstruction_loss(out.reconstruction, feats.detach(), lengths) + out.vectors.pow(2).mean()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters())
    assert feats.grad[1, : lengths[1]].abs().sum() > 0


def test_masked_loss_ignores_padding():
    feats, lengths = _segments()
    recon = feats.clone()
    recon[0, 0, 0] += 1.0  # one valid-frame error of 1
    for i, length in enumerate(lengths.tolist()):
        recon[i, length:] = 100.0  # padding errors must not count
    loss = masked_reconstruction_loss(recon, feats, lengths)
    assert loss.item() == pytest.approx(1.0 / (lengths.sum().item() * 13))
    assert masked_reconstruction_loss(recon, feats, lengths, kind="l1").item() == pytest.approx(
        1.0 / (lengths.sum().item() * 13))
    with pytest.raises(ConfigError):
        masked_reconstruction_loss(recon, feats, lengths, kind="l3")


def test_tiny_model_overfits_a_few_segments():
    torch.manual_seed(0)
    enc = AudioWordEncoder(AudioWordEncoderConfig(input_dim=13, output_size=16, hidden_size=32, decoder_hidden_size=32))
    feats, lengths = _segments(n=4)
    opt = torch.optim.Adam(enc.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        out = enc(feats, lengths)
        loss = masked_reconstruction_loss(out.reconstruction, feats, lengths)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = masked_reconstruction_loss(enc(feats, lengths).reconstruction, feats, lengths).item()
    assert final < first / 50, (first, final)


def test_bad_inputs_raise():
    enc = AudioWordEncoder(AudioWordEncoderConfig(input_dim=13, output_size=8, hidden_size=8, decoder_hidden_size=8))
    feats, lengths = _segments()
    with pytest.raises(ValueError, match="lengths"):
        enc(feats, lengths.clamp(max=20) + 1)
    with pytest.raises(ValueError, match="B x T x 13"):
        enc(feats[..., :5], lengths)
    with pytest.raises(ConfigError):
        AudioWordEncoderConfig(rnn_type="transformer")
