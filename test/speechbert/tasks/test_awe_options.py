"""The audio word encoder options of the tasks: ``awe``/``awe_conf``, the older flat options,
inheritance from the initialising experiment, the reconstruction weight, and unit inputs."""

from __future__ import annotations

import argparse

import pytest
import sqa_fixture as fx
import torch
import yaml

from speechbert.errors import ConfigError
from speechbert.nets import AudioWordEncoder, AudioWordEncoderConfig
from speechbert.nets.pooling_word_encoder import MeanPoolWordEncoder
from speechbert.nets.unit_word_encoder import UnitWordEncoder
from speechbert.tasks.common import inherit_model_options, upgrade_legacy_awe_options
from speechbert.tasks.joint_embedding import JointEmbeddingTask
from speechbert.tasks.pretrain import PretrainTask


def je_args(tmp_path, *extra: str) -> argparse.Namespace:
    return JointEmbeddingTask.get_parser().parse_args(
        ["--bert_dir", fx.bert_dir(), "--train_data", str(tmp_path / "none"), "--output_dir", str(tmp_path / "o"),
         *extra])


# ------------------------------------------------------------------------- older flat options


def test_flat_options_become_awe_rnn_and_its_conf():
    out = upgrade_legacy_awe_options({"awe_hidden_size": 64, "awe_layers": 2, "awe_dropout": None, "lr": 0.1})
    assert out == {"awe": "rnn", "awe_conf": {"hidden_size": 64, "num_layers": 2}, "lr": 0.1}
    assert upgrade_legacy_awe_options({"lr": 0.1}) == {"lr": 0.1}
    # agreeing with awe_conf (as text, how the trainer may write it) is fine
    both = upgrade_legacy_awe_options({"awe": "rnn", "awe_conf": "{hidden_size: 64}", "awe_hidden_size": 64})
    assert both["awe_conf"] == {"hidden_size": 64}


def test_flat_options_contradicting_the_new_ones_are_config_errors():
    with pytest.raises(ConfigError, match="cfg.yaml: awe_hidden_size are options of awe 'rnn', but awe is 'mean_pool'"):
        upgrade_legacy_awe_options({"awe": "mean_pool", "awe_hidden_size": 64}, "cfg.yaml")
    with pytest.raises(ConfigError, match="awe_conf.hidden_size=32 but the older option for it says 64"):
        upgrade_legacy_awe_options({"awe_conf": {"hidden_size": 32}, "awe_hidden_size": 64})


def test_flat_command_line_options_still_build_the_rnn(tmp_path):
    args = je_args(tmp_path, "--feat_dim", "5", "--awe_hidden_size", "16", "--awe_decoder_hidden_size", "12")
    model = JointEmbeddingTask.build_model(args)
    enc = model.audio_encoder
    assert isinstance(enc, AudioWordEncoder) and (enc.config.hidden_size, enc.config.decoder_hidden_size) == (16, 12)
    # the resolved options are the new ones only, every option written out
    assert args.awe == "rnn" and args.awe_conf == {
        "hidden_size": 16, "num_layers": 1, "bidirectional": True, "rnn_type": "gru", "decoder_hidden_size": 12,
        "decoder_layers": 1, "decoder_input_size": 64, "dropout": 0.0}
    assert not hasattr(args, "awe_hidden_size") and args.reconstruction_weight == 1.0


def test_an_old_experiment_config_loads_and_its_model_reloads(tmp_path):
    """config.yaml in the first version's form (flat awe_* options) -> the same model and weights."""
    from speechbert.train.model_io import load_model_from_exp

    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "config.yaml").write_text(yaml.safe_dump({
        "awe_bidirectional": False, "awe_decoder_hidden_size": 10, "awe_dropout": 0.0, "awe_hidden_size": 14,
        "awe_layers": 2, "awe_rnn_type": "lstm", "bert_dir": fx.bert_dir(), "feat_dim": 6, "frame_pooling": 1,
        "max_word_frames": 0, "reconstruction_weight": 1.0, "train_data": str(tmp_path / "none"),
        "output_dir": str(exp), "seed": 1}))
    # what the first version built from those options, and saved
    old = AudioWordEncoder(AudioWordEncoderConfig(input_dim=6, output_size=384, hidden_size=14, num_layers=2,
                                                  bidirectional=False, rnn_type="lstm", decoder_hidden_size=10))
    torch.save({f"audio_encoder.{k}": v for k, v in old.state_dict().items()}, exp / "model.avg.pt")
    model, args = load_model_from_exp(exp, JointEmbeddingTask)
    assert args.awe == "rnn" and args.awe_conf["rnn_type"] == "lstm" and args.awe_conf["num_layers"] == 2
    for k, v in old.state_dict().items():
        assert torch.equal(model.audio_encoder.state_dict()[k], v), k


def test_a_yaml_config_gives_awe_conf_as_a_mapping(tmp_path):
    conf = tmp_path / "je.yaml"
    conf.write_text("awe: mean_pool\nawe_conf:\n  hidden_size: 8\nfeat_dim: 5\n")
    args = je_args(tmp_path, "--config", str(conf))
    model = JointEmbeddingTask.build_model(args)
    assert isinstance(model.audio_encoder, MeanPoolWordEncoder)
    assert model.audio_encoder.pool.frame_proj.weight.shape == (8, 5)


# ------------------------------------------------------------------- encoders without decoder


def test_an_encoder_without_decoder_trains_on_the_semantic_loss_alone(tmp_path):
    args = je_args(tmp_path, "--feat_dim", "5", "--awe", "mean_pool", "--awe_conf", "{hidden_size: 8}",
                   "--semantic_weight", "2")
    model = JointEmbeddingTask.build_model(args)
    assert args.reconstruction_weight == 0.0 and args.awe_conf == {"hidden_size": 8, "dropout": 0.0}
    feats, lens = torch.randn(3, 4, 5), torch.tensor([4, 2, 1])
    pieces, mask = torch.tensor([[1010], [1020], [1030]]), torch.ones(3, 1, dtype=torch.bool)
    loss, stats, weight = model(feats, lens, pieces, mask)
    assert set(stats) == {"dist", "cos"} and weight == 3
    vec = model.audio_encoder.encode(feats, lens)
    want = 2 * (vec - model.embedding_table[pieces[:, 0]]).abs().mean(-1).mean()
    assert torch.allclose(loss, want)


def test_a_reconstruction_weight_without_a_decoder_is_a_config_error_naming_both(tmp_path):
    args = je_args(tmp_path, "--feat_dim", "5", "--awe", "mean_pool", "--reconstruction_weight", "1")
    with pytest.raises(ConfigError, match="--reconstruction_weight 1.0: awe 'mean_pool' has no reconstruction decoder"):
        JointEmbeddingTask.build_model(args)


# ----------------------------------------------------------------------------- inheritance


def _old_joint_embed_exp(tmp_path):
    exp = tmp_path / "je"
    exp.mkdir()
    (exp / "config.yaml").write_text("awe_hidden_size: 48\nawe_decoder_hidden_size: 40\nawe_layers: 1\n"
                                     "awe_bidirectional: true\nawe_rnn_type: gru\nawe_dropout: 0.0\nfeat_dim: 7\n")
    return exp / "model.avg.pt"


def test_options_not_given_come_key_by_key_from_the_initialising_experiment(tmp_path):
    init = _old_joint_embed_exp(tmp_path)
    args = argparse.Namespace(awe=None, awe_conf={"dropout": 0.2}, feat_dim=None, frame_pooling=None,
                              max_word_frames=None)
    inherit_model_options(args, init, names=("awe", "awe_conf", "feat_dim", "frame_pooling", "max_word_frames"))
    assert args.awe == "rnn" and args.feat_dim == 7 and args.frame_pooling == 1
    assert args.awe_conf == {"hidden_size": 48, "decoder_hidden_size": 40, "num_layers": 1, "bidirectional": True,
                             "rnn_type": "gru", "dropout": 0.2}


def test_another_encoder_than_the_initialising_ones_takes_none_of_its_options(tmp_path):
    init = _old_joint_embed_exp(tmp_path)
    args = argparse.Namespace(awe="mean_pool", awe_conf=None)
    inherit_model_options(args, init, names=("awe", "awe_conf"))
    assert args.awe == "mean_pool" and args.awe_conf == {}


def test_pretraining_inherits_a_non_default_encoder(tmp_path):
    exp = tmp_path / "je"
    exp.mkdir()
    (exp / "config.yaml").write_text(yaml.safe_dump({"awe": "mean_pool", "awe_conf": {"hidden_size": 12,
                                                                                        "dropout": 0.0},
                                                     "feat_dim": 5}))
    args = PretrainTask.get_parser().parse_args(
        ["--bert_dir", fx.bert_dir(), "--train_data", str(tmp_path / "none"), "--output_dir", str(tmp_path / "o"),
         "--bert_layers", "1", "--init_audio_encoder", str(exp / "model.avg.pt")])
    model = PretrainTask.build_model(args)
    awe = model.encoder.audio_encoder
    assert isinstance(awe, MeanPoolWordEncoder) and awe.pool.frame_proj.weight.shape == (12, 5)
    assert all(p.requires_grad for p in awe.parameters())  # nothing is pre-training-only


# ------------------------------------------------------------------------------ unit inputs


def _dump(tmp_path, feats_type: str):
    dump = tmp_path / "dump"
    dump.mkdir(exist_ok=True)
    (dump / "feats_type").write_text(feats_type + "\n")
    return str(dump)


def test_units_take_their_count_from_the_dump_and_read_one_dimension(tmp_path):
    args = je_args(tmp_path, "--train_dump", _dump(tmp_path, "units 7"), "--awe", "units")
    model = JointEmbeddingTask.build_model(args)
    enc = model.audio_encoder
    assert isinstance(enc, UnitWordEncoder) and enc.num_units == 7 and enc.input_dim == 1
    assert args.feat_dim == 1 and args.awe_conf["num_units"] == 7 and args.reconstruction_weight == 0.0


@pytest.mark.parametrize("extra, message", [
    (["--cmvn", "cmvn.ark"], "--cmvn cmvn.ark: awe 'units' reads discrete unit ids, which CMVN must not normalise"),
    (["--frame_pooling", "3"], "--frame_pooling 3: awe 'units' reads unit ids, which cannot be averaged"),
    (["--awe_conf", "{num_units: 5}"], "awe_conf.num_units=5 but --train_dump .* has 7 units"),
])
def test_units_refuse_cmvn_frame_pooling_and_too_few_units(tmp_path, extra, message):
    args = je_args(tmp_path, "--train_dump", _dump(tmp_path, "units 7"), "--awe", "units", *extra)
    with pytest.raises(ConfigError, match=message):
        JointEmbeddingTask.build_model(args)


def test_unit_ids_and_features_are_not_mixed_up(tmp_path):
    args = je_args(tmp_path, "--train_dump", _dump(tmp_path, "units 7"))
    with pytest.raises(ConfigError, match="holds unit ids \\('units 7'\\), but awe 'rnn' reads real-valued features"):
        JointEmbeddingTask.build_model(args)
    args = je_args(tmp_path, "--train_dump", _dump(tmp_path, "fbank 5"), "--awe", "units",
                   "--awe_conf", "{num_units: 4}", "--feat_dim", "1")
    with pytest.raises(ConfigError, match="awe 'units' reads unit ids, but --train_dump .* holds features"):
        JointEmbeddingTask.build_model(args)
