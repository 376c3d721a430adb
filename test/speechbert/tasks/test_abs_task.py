"""AbsTask: the parser it builds, main() exit codes, rebuilding a trained model from its exp dir."""

from __future__ import annotations

import argparse

import pytest
import torch
import yaml
from torch.utils.data import Dataset

from speechbert.errors import ConfigError
from speechbert.tasks.abs_task import AbsTask
from speechbert.train.model_io import load_model_from_exp
from speechbert.train.options import resolve_output_dir


class _Points(Dataset):
    def __init__(self, n: int) -> None:
        g = torch.Generator().manual_seed(n)
        self.x = torch.randn(n, 2, generator=g)
        self.y = (self.x[:, 0] > self.x[:, 1]).long()
        self.lengths = [1] * n

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        return self.x[i], self.y[i]


class _Classifier(torch.nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, classes)

    def forward(self, x, y):
        logits = self.linear(x)
        acc = (logits.argmax(-1) == y).float().mean()
        return torch.nn.functional.cross_entropy(logits, y), {"acc": acc}, torch.tensor(len(y))


class TinyTask(AbsTask):
    """Two-feature binary classification."""

    name = "tiny"

    @classmethod
    def add_task_arguments(cls, parser) -> None:
        parser.add_argument("--num_classes", type=int, default=2)
        parser.add_argument("--train_size", type=int, default=32)

    @classmethod
    def build_model(cls, args):
        return _Classifier(args.num_classes)

    @classmethod
    def build_dataset(cls, args, split):
        return _Points(args.train_size if split == "train" else 16)

    @classmethod
    def build_collate_fn(cls, args, train):
        return lambda items: {"x": torch.stack([x for x, _ in items]), "y": torch.stack([y for _, y in items])}


def test_parser_has_common_trainer_and_task_options():
    parser = TinyTask.get_parser()
    args = parser.parse_args(["--num-classes", "3", "--batch-bins", "8", "--max_epoch", "2"])
    assert (args.num_classes, args.batch_bins, args.max_epoch, args.seed) == (3, 8, 2, 1)
    assert args.best_criterion == ["valid.loss:min"] and args.resume is True and args.ngpu == 0


def test_abstract_methods_are_required():
    class Incomplete(AbsTask):
        @classmethod
        def add_task_arguments(cls, parser):
            pass

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]


def test_output_dir_from_tag_or_config():
    ns = argparse.Namespace
    assert str(resolve_output_dir(ns(output_dir=None, tag=None, config="conf/tuning/train_ft.yaml"))) == "exp/train_ft"
    assert str(resolve_output_dir(ns(output_dir=None, tag="ft2", config="conf/train.yaml"))) == "exp/ft2"
    assert str(resolve_output_dir(ns(output_dir="x/y", tag="ft2", config=None))) == "x/y"
    with pytest.raises(ConfigError, match="--output_dir, --tag or --config"):
        resolve_output_dir(ns(output_dir=None, tag=None, config=None))


def test_main_trains_and_the_model_comes_back(tmp_path, capsys):
    torch.set_num_threads(1)
    out = tmp_path / "exp"
    code = TinyTask.main(["--output_dir", str(out), "--batch_size", "8", "--num_workers", "0", "--max_epoch", "3",
                          "--lr", "0.1", "--num_classes", "3", "--tensorboard", "false",
                          "--best_criterion", "valid.acc:max", "valid.loss:min", "--nbest_average", "2"])
    assert code == 0, capsys.readouterr().err
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["num_classes"] == 3 and config["batch_size"] == 8
    model, args = load_model_from_exp(out, TinyTask)
    assert args.num_classes == 3 and not model.training
    assert torch.equal(model.linear.weight, torch.load(out / "model.avg.pt", weights_only=True)["linear.weight"])
    best, _ = TinyTask.load_from_exp(out, file="valid.acc.best")
    assert best.linear.weight.shape == (3, 2)
    with pytest.raises(Exception, match="model file does not exist"):
        load_model_from_exp(out, TinyTask, file="nothere.pt")
    (out / "wrong.pt").write_bytes(b"")
    torch.save({"linear.weight": torch.zeros(2, 2), "linear.bias": torch.zeros(2)}, out / "wrong.pt")
    with pytest.raises(Exception, match=r"wrong.pt: linear.weight: shape \(2, 2\) but the model has \(3, 2\)"):
        load_model_from_exp(out, TinyTask, file="wrong.pt")


def test_main_reports_errors_as_one_line(tmp_path, capsys):
    assert TinyTask.main(["--output_dir", str(tmp_path), "--num_workers", "0"]) == 1
    assert "give --batch_bins and/or --batch_size" in capsys.readouterr().err
    assert TinyTask.main(["--batch_size", "4"]) == 1
    assert "no experiment directory: give --output_dir, --tag or --config" in capsys.readouterr().err
    assert TinyTask.main(["--batch_size", "4", "--tag", "t", "--ngpu", "2"]) == 1
    assert "torchrun --nproc_per_node 2" in capsys.readouterr().err


def test_every_training_tool_names_itself_in_errors(capsys):
    """Not "abs_task: error: ...": the entry point's own name, in errors and in the logged command."""
    from speechbert.bin import align_train, joint_embed_train, pretrain, sqa_train

    for tool, name in ((sqa_train, "sqa_train"), (pretrain, "pretrain"), (joint_embed_train, "joint_embed_train"),
                       (align_train, "align_train")):
        try:
            rc = tool.main(["--no_such_option"])
        except SystemExit as e:
            rc = e.code
        assert rc == 2
        err = capsys.readouterr().err
        assert f"{name}: error:" in err and "abs_task" not in err, err
