"""The default models are bit for bit those of the code before the component registries (issue 13).

``golden/default_models.json`` was written by ``golden_models.py`` BEFORE ``awe``/``span_head``
became registered components: every state-dict entry (name, shape, dtype, SHA-256 of the bytes)
of the mini recipe's joint-embedding, pre-training, fine-tuning and text-QA models and of the
full recipe's joint-embedding model under seed 1, which parameters train, the next torch random
draws after building (the generator was consumed identically) and one joint-embedding step's
loss and gradients. The recipe confs are now in the ``awe: rnn`` + ``awe_conf`` form.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import golden_models as gm  # noqa: E402

GOLDEN = json.loads((HERE / "golden" / "default_models.json").read_text(encoding="utf-8"))
# One deliberate change since the golden was written: pre-training freezes the RNN's decoder-only
# `condition` layer too (it got no gradient, which DDP refuses). Its values are untouched either way.
GOLDEN["pretrain"]["trainable"] = [n for n in GOLDEN["pretrain"]["trainable"]
                                   if not n.startswith("encoder.audio_encoder.condition.")]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """The models as the current code builds them, inheriting from old-form experiment configs."""
    return gm.describe_default_models(tmp_path_factory.mktemp("old_exps"))


@pytest.mark.parametrize("model", sorted(GOLDEN))
def test_default_model_is_bit_identical_to_the_golden(built, model):
    want, got = GOLDEN[model], built[model]
    assert [e[:3] for e in got["state"]] == [e[:3] for e in want["state"]]  # names, order, shapes, dtypes
    differ = [w[0] for w, g in zip(want["state"], got["state"]) if w[3] != g[3]]
    assert differ == []  # initial values
    assert got["trainable"] == want["trainable"]
    assert got["rng_after_build"] == want["rng_after_build"]
    if "step" in want:
        assert got["step"] == want["step"]


def test_the_golden_holds_the_models_it_describes():
    # a golden of empty models would pass any test: check it is what the recipe builds
    je = GOLDEN["joint_embedding"]["state"]
    assert je[0][:2] == ["audio_encoder.encoder.0.0.weight_ih_l0", [384, 80]]
    assert ["audio_encoder.decoder.weight_hh_l0", [384, 128]] in [e[:2] for e in je]
    assert "encoder.audio_encoder.out.weight" not in GOLDEN["pretrain"]["trainable"]  # the decoder is frozen
    assert "encoder.audio_encoder.proj.weight" in GOLDEN["pretrain"]["trainable"]
    assert "encoder.audio_encoder.condition.weight" not in GOLDEN["pretrain"]["trainable"]
    assert ["span_head.proj.weight", [2, 384]] in [e[:2] for e in GOLDEN["finetune"]["state"]]
    assert len(GOLDEN["joint_embedding_spoken_squad"]["state"]) == 28  # 2 encoder layers


def test_new_form_experiment_configs_give_the_same_models(tmp_path):
    """Pre-training and fine-tuning inherit the encoder from config.yaml files in the new form,
    written the way the trainer writes them, and build the golden models."""
    import torch

    from speechbert.tasks.joint_embedding import JointEmbeddingTask
    from speechbert.tasks.pretrain import PretrainTask
    from speechbert.tasks.sqa_finetune import SQATask
    from speechbert.train.trainer import _config_values

    common = ["--bert_dir", gm.bert_dir(), "--train_data", str(tmp_path / "none"), "--output_dir", str(tmp_path / "o")]
    je, pt = tmp_path / "je", tmp_path / "pt"
    je.mkdir()
    pt.mkdir()
    args = JointEmbeddingTask.get_parser().parse_args(
        ["--config", str(gm.CONF / "joint_embed.yaml"), "--feat_dim", "80", *common])
    JointEmbeddingTask.build_model(args)
    (je / "config.yaml").write_text(yaml.safe_dump(_config_values(args)))
    written = yaml.safe_load((je / "config.yaml").read_text())
    assert written["awe"] == "rnn" and not any(k.startswith("awe_") and k != "awe_conf" for k in written)

    args = PretrainTask.get_parser().parse_args(
        ["--config", str(gm.CONF / "pretrain.yaml"), "--init_audio_encoder", str(je / "model.avg.pt"), *common])
    torch.manual_seed(gm.SEED)
    assert gm.describe(PretrainTask.build_model(args)) == GOLDEN["pretrain"]
    assert args.awe_conf["hidden_size"] == 128 and args.awe_conf["decoder_hidden_size"] == 128
    (pt / "config.yaml").write_text(yaml.safe_dump(_config_values(args)))

    args = SQATask.get_parser().parse_args(
        ["--config", str(gm.CONF / "finetune.yaml"), "--init_model", str(pt / "model.avg.pt"), *common])
    torch.manual_seed(gm.SEED)
    assert gm.describe(SQATask.build_model(args)) == GOLDEN["finetune"]
