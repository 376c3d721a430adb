"""The audio word encoder registry and its built-in encoders: rnn, mean_pool, units."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from speechbert.errors import ConfigError, DataError
from speechbert.nets import AUDIO_WORD_ENCODERS, AbsAudioWordEncoder, AudioWordEncoder, BertConfig, BertEncoder
from speechbert.nets.mixed_encoder import MixedEncoder


def test_the_built_in_encoders_are_registered_in_order():
    assert AUDIO_WORD_ENCODERS.names()[:3] == ["rnn", "mean_pool", "units"]
    assert AUDIO_WORD_ENCODERS.kind == "awe"


def test_rnn_from_the_registry_is_the_rnn_autoencoder_with_its_decoder():
    enc = AUDIO_WORD_ENCODERS.build("rnn", {"hidden_size": 8, "decoder_hidden_size": 6}, input_dim=5, output_size=12)
    assert isinstance(enc, AudioWordEncoder) and enc.has_decoder and enc.input_kind == "features"
    assert (enc.config.hidden_size, enc.config.decoder_hidden_size, enc.config.input_dim) == (8, 6, 5)
    out = enc(torch.randn(3, 4, 5), torch.tensor([4, 2, 1]))
    assert out.vectors.shape == (3, 12) and out.reconstruction.shape == (3, 4, 5)
    # the reconstruction decoder's parameters, which pre-training freezes (`condition` feeds only
    # the decoder too: trainable, it got no gradient, which DDP refuses)
    assert enc.pretraining_only_parameters() == [
        "init_state.weight", "init_state.bias", "condition.weight", "condition.bias", "decoder.weight_ih_l0",
        "decoder.weight_hh_l0", "decoder.bias_ih_l0", "decoder.bias_hh_l0", "out.weight", "out.bias"]


def test_a_bad_rnn_option_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match="awe_conf.*unknown option 'hidden'.*hidden_size"):
        AUDIO_WORD_ENCODERS.make_conf("rnn", {"hidden": 8})
    with pytest.raises(ConfigError, match="rnn_type"):
        AUDIO_WORD_ENCODERS.make_conf("rnn", {"rnn_type": "transformer"})
    with pytest.raises(ConfigError, match="hidden_size"):
        AUDIO_WORD_ENCODERS.make_conf("rnn", {"hidden_size": 0})


def test_mean_pool_is_the_mean_of_the_projected_frames_and_ignores_padding():
    torch.manual_seed(0)
    enc = AUDIO_WORD_ENCODERS.build("mean_pool", {"hidden_size": 4}, input_dim=3, output_size=2).eval()
    assert not enc.has_decoder and enc.pretraining_only_parameters() == []
    feats = torch.randn(2, 5, 3)
    lens = torch.tensor([5, 2])
    vec = enc.encode(feats, lens)
    p = enc.pool
    by_hand = p.out(torch.nn.functional.gelu(p.frame_proj(feats[1, :2])).mean(0))
    assert torch.allclose(vec[1], by_hand, atol=1e-6)
    padded = feats.clone()
    padded[1, 2:] = 1e3  # padding after the segment changes nothing
    assert torch.equal(enc.encode(padded, lens), vec)
    out = enc(feats, lens)
    assert out.reconstruction is None and torch.equal(out.vectors, vec)


def test_mean_pool_without_projection_pools_the_raw_frames():
    enc = AUDIO_WORD_ENCODERS.build("mean_pool", {"hidden_size": 0}, input_dim=2, output_size=2)
    with torch.no_grad():
        enc.pool.out.weight.copy_(torch.eye(2))
        enc.pool.out.bias.zero_()
    feats = torch.tensor([[[1.0, 2.0], [3.0, 6.0], [100.0, 100.0]]])
    assert enc.encode(feats, torch.tensor([2])).tolist() == [[2.0, 4.0]]


def test_units_embeds_the_ids_and_averages_them():
    enc = AUDIO_WORD_ENCODERS.build("units", {"num_units": 5, "embed_size": 3, "hidden_size": 0},
                                    input_dim=1, output_size=3)
    assert enc.input_kind == "units" and not enc.has_decoder and enc.num_units == 5
    with torch.no_grad():
        enc.embed.weight.copy_(torch.arange(15, dtype=torch.float).view(5, 3))
        enc.pool.out.weight.copy_(torch.eye(3))
        enc.pool.out.bias.zero_()
    feats = torch.tensor([[[1.0], [3.0], [0.0]], [[4.0], [0.0], [0.0]]])  # unit ids as floats, zero padded
    vec = enc.encode(feats, torch.tensor([2, 1]))
    # mean of rows 1 and 3 of the table, and row 4
    assert vec.tolist() == [[6.0, 7.0, 8.0], [12.0, 13.0, 14.0]]


@pytest.mark.parametrize("value", [2.5, 5.0, -1.0])
def test_units_refuses_frames_that_are_no_unit_id(value):
    enc = AUDIO_WORD_ENCODERS.build("units", {"num_units": 5}, input_dim=1, output_size=4)
    feats = torch.tensor([[[1.0], [value]]])
    with pytest.raises(DataError, match=r"frame 1 of word segment 0 .*not a unit id in \[0, 5\)"):
        enc.encode(feats, torch.tensor([2]))
    enc.encode(feats, torch.tensor([1]))  # the same value as padding is fine


def test_units_needs_one_dimension_and_a_unit_count():
    with pytest.raises(ConfigError, match="one unit id per frame, but the features have 80 dims"):
        AUDIO_WORD_ENCODERS.build("units", {"num_units": 5}, input_dim=80, output_size=4)
    with pytest.raises(ConfigError, match="num_units must be >= 1"):
        AUDIO_WORD_ENCODERS.build("units", {}, input_dim=1, output_size=4)


class _ToyEncoder(AbsAudioWordEncoder):
    """A toy encoder with a 'decoder' under a name no prefix list would know."""

    def __init__(self) -> None:
        super().__init__()
        self.input_dim, self.output_size = 2, 8
        self.enc = nn.Linear(2, 8)
        self.rebuild = nn.Linear(8, 2)

    def encode(self, feats, lengths):
        return self.enc(feats[:, 0])

    def pretraining_only_parameters(self):
        return ["rebuild.weight", "rebuild.bias"]


def test_mixed_encoder_freezes_what_the_encoder_names_and_nothing_else():
    bert = BertEncoder(BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=16))
    toy = _ToyEncoder()
    MixedEncoder(bert, toy)
    assert {n: p.requires_grad for n, p in toy.named_parameters()} == {
        "enc.weight": True, "enc.bias": True, "rebuild.weight": False, "rebuild.bias": False}
    rnn = AUDIO_WORD_ENCODERS.build("rnn", {"hidden_size": 4, "decoder_hidden_size": 4}, input_dim=2, output_size=8)
    MixedEncoder(bert, rnn)
    frozen = sorted(n for n, p in rnn.named_parameters() if not p.requires_grad)
    assert frozen == sorted(rnn.pretraining_only_parameters())
    assert rnn.proj.weight.requires_grad
