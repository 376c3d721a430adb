"""joint_embed_train: the stage-5 command line (YAML config, outputs, readable errors)."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
import sqa_fixture as fx  # noqa: E402

from speechbert.bin.joint_embed_train import main  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("je_cli")
    fx.make_split(root, "train", 6, seed=3)
    fx.make_split(root, "dev", 3, seed=4)
    return root


def test_help_lists_the_task_options():
    out = subprocess.run([sys.executable, "-m", "speechbert.bin.joint_embed_train", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for opt in ("--bert_dir", "--train_ctm", "--target_pieces", "--distance", "--semantic_weight", "--nn_candidates"):
        assert opt in out


def test_run_from_yaml_config(corpus, tmp_path):
    torch.set_num_threads(1)
    conf = tmp_path / "joint_embed.yaml"
    conf.write_text("awe_hidden_size: 16\nawe_decoder_hidden_size: 16\ndistance: cosine\ntarget_pieces: first\n"
                    "max_epoch: 1\nbatch_size: 4\nnum_workers: 0\ntensorboard: false\n"
                    "best_criterion: [valid.acc_nn:max]\n")
    out = tmp_path / "exp"
    argv = ["--config", str(conf), "--output_dir", str(out)] + fx.corpus_args(corpus)
    assert main(argv) == 0
    for name in ("model.avg.pt", "valid.acc_nn.best", "config.yaml", "metrics.jsonl"):
        assert (out / name).is_file()
    config = (out / "config.yaml").read_text()
    assert "feat_dim: 20" in config and "distance: cosine" in config
    state = torch.load(out / "model.avg.pt", weights_only=True)
    assert state and all(k.startswith("audio_encoder.") for k in state)
    assert "valid.acc_nn" in fx.read_metrics(out)[-1]


def test_missing_ctm_is_one_readable_error(corpus, tmp_path, capsys):
    argv = fx.corpus_args(corpus) + ["--output_dir", str(tmp_path / "exp"), "--train_ctm", str(tmp_path / "no.ctm"),
                                     "--max_epoch", "1", "--batch_size", "4"]
    assert main(argv) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "error:" in last and "no.ctm" in last and "no such file" in last


def test_unknown_config_key_is_an_error(corpus, tmp_path, capsys):
    conf = tmp_path / "bad.yaml"
    conf.write_text("semantic_wieght: 3\n")
    assert main(["--config", str(conf)] + fx.corpus_args(corpus)) == 1
    assert "semantic_wieght" in capsys.readouterr().err
