"""pretrain: the stage-6 command line, initialised from a joint-embedding run."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
import sqa_fixture as fx  # noqa: E402

from speechbert.bin.joint_embed_train import main as joint_embed_main  # noqa: E402
from speechbert.bin.pretrain import main  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("pt_cli")
    fx.make_split(root, "train", 6, seed=3)
    fx.make_split(root, "dev", 3, seed=4)
    torch.set_num_threads(1)
    argv = fx.corpus_args(root) + ["--output_dir", str(root / "exp/joint_embed"), "--awe_hidden_size", "16",
                                   "--awe_decoder_hidden_size", "16", "--max_epoch", "1", "--batch_size", "4",
                                   "--num_workers", "0", "--tensorboard", "false"]
    assert joint_embed_main(argv) == 0
    return root


def test_help_lists_the_task_options():
    out = subprocess.run([sys.executable, "-m", "speechbert.bin.pretrain", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for opt in ("--init_audio_encoder", "--audio_mask_prob", "--text_mask_prob", "--audio_target",
                "--pretrain_inputs", "--bert_layers"):
        assert opt in out


def test_run_from_yaml_config_inherits_the_audio_encoder(corpus, tmp_path):
    torch.set_num_threads(1)
    conf = tmp_path / "pretrain.yaml"
    conf.write_text("bert_layers: 1\npretrain_inputs: [paired, audio, text]\naudio_target: all\nmax_seq_len: 64\n"
                    "freeze_param: [encoder.bert.embeddings.word_embeddings]\n"
                    "max_epoch: 1\nbatch_size: 4\nnum_workers: 0\ntensorboard: false\n"
                    "best_criterion: [valid.acc_audio_mlm:max]\n")
    out = tmp_path / "exp"
    argv = ["--config", str(conf), "--output_dir", str(out), "--init_audio_encoder",
            str(corpus / "exp/joint_embed/model.avg.pt")] + fx.corpus_args(corpus)
    assert main(argv) == 0
    config = yaml.safe_load((out / "config.yaml").read_text())
    # the audio encoder's sizes come from the joint-embedding run
    assert config["awe_conf"]["hidden_size"] == 16 and config["feat_dim"] == 20
    state = torch.load(out / "model.avg.pt", weights_only=True)
    je = torch.load(corpus / "exp/joint_embed/model.avg.pt", weights_only=True)
    assert state["encoder.audio_encoder.proj.weight"].shape == je["audio_encoder.proj.weight"].shape
    # the frozen reconstruction decoder is carried over unchanged from the joint embedding
    assert torch.equal(state["encoder.audio_encoder.out.weight"], je["audio_encoder.out.weight"])
    assert any(k.startswith("mlm_head.") for k in state) and "encoder.bert.layers.0.qkv.weight" in state
    assert "encoder.bert.layers.1.qkv.weight" not in state
    record = fx.read_metrics(out)[-1]
    assert 0.0 <= record["valid.acc_audio_mlm"] <= 1.0 and 0.0 <= record["valid.acc_text_mlm"] <= 1.0


def test_missing_init_model_is_one_readable_error(corpus, tmp_path, capsys):
    argv = fx.corpus_args(corpus) + ["--output_dir", str(tmp_path / "exp"), "--bert_layers", "1",
                                     "--init_audio_encoder", str(tmp_path / "none/model.avg.pt"),
                                     "--max_epoch", "1", "--batch_size", "4"]
    assert main(argv) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "error:" in last and "none/model.avg.pt" in last
