"""sqa_train: the stage-7 command line (audio end-to-end and --input_modality text)."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
import sqa_fixture as fx  # noqa: E402

from speechbert.bin.sqa_train import main  # noqa: E402
from speechbert.bin.joint_embed_train import main as joint_embed_main  # noqa: E402

SMALL = ["--max_seq_len", "24", "--max_question_len", "8", "--window_stride", "6", "--max_epoch", "1",
         "--batch_size", "8", "--num_workers", "0", "--tensorboard", "false", "--best_criterion", "valid.f1:max"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("ft_cli")
    fx.make_split(root, "train", 6, seed=3)
    fx.make_split(root, "dev", 3, seed=4)
    return root


def test_help_lists_the_task_options():
    out = subprocess.run([sys.executable, "-m", "speechbert.bin.sqa_train", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for opt in ("--init_model", "--input_modality", "--window_stride", "--window_units", "--negative_windows",
                "--max_answer_len"):
        assert opt in out


def test_text_modality_needs_no_features(corpus, tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "text_qa"
    argv = ["--bert_dir", fx.bert_dir(), "--input_modality", "text", "--bert_layers", "1",
            "--train_data", str(corpus / "data/train"), "--valid_data", str(corpus / "data/dev"),
            "--output_dir", str(out)] + SMALL
    assert main(argv) == 0
    state = torch.load(out / "model.avg.pt", weights_only=True)
    assert not any("audio_encoder" in k for k in state) and "span_head.proj.weight" in state
    record = fx.read_metrics(out)[-1]
    assert 0.0 <= record["valid.f1"] <= 100.0 and 0.0 <= record["valid.em"] <= record["valid.f1"]


def test_audio_run_from_yaml_config(corpus, tmp_path):
    torch.set_num_threads(1)
    je = tmp_path / "joint_embed"
    assert joint_embed_main(fx.corpus_args(corpus) + [
        "--output_dir", str(je), "--awe_hidden_size", "16", "--awe_decoder_hidden_size", "16", "--max_epoch", "1",
        "--batch_size", "4", "--num_workers", "0", "--tensorboard", "false"]) == 0
    conf = tmp_path / "finetune.yaml"
    conf.write_text("bert_layers: 1\nfreeze_audio_encoder: true\nnegative_windows: drop\n")
    out = tmp_path / "finetune"
    argv = ["--config", str(conf), "--output_dir", str(out), "--init_audio_encoder", str(je / "model.avg.pt")] \
        + fx.corpus_args(corpus) + SMALL
    assert main(argv) == 0
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["awe_conf"]["hidden_size"] == 16 and config["negative_windows"] == "drop"
    state = torch.load(out / "model.avg.pt", weights_only=True)
    je_state = torch.load(je / "model.avg.pt", weights_only=True)
    # frozen: the audio encoder is the joint-embedding one, unchanged
    assert torch.equal(state["encoder.audio_encoder.proj.weight"], je_state["audio_encoder.proj.weight"])
    assert "valid.f1" in fx.read_metrics(out)[-1]


def test_questions_without_word_spans_are_a_readable_error(corpus, tmp_path, capsys):
    import json

    data = tmp_path / "data"
    data.mkdir()
    for name in ("text", "contexts", "utt2dur"):
        (data / name).write_text((corpus / "data/train" / name).read_text())
    with open(data / "questions.jsonl", "w") as f:
        for line in (corpus / "data/train/questions.jsonl").read_text().splitlines():
            q = json.loads(line)
            del q["answer_word_spans"], q["answer_time_spans"]
            f.write(json.dumps(q) + "\n")
    argv = ["--bert_dir", fx.bert_dir(), "--input_modality", "text", "--bert_layers", "1",
            "--train_data", str(data), "--output_dir", str(tmp_path / "exp")] + SMALL
    assert main(argv) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "questions.jsonl" in last and "answer_word_spans" in last
