"""Staging a recipe's inputs: which paths of an experiment file are copied, and copied once."""

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench" / "gpu_check"))
import staging  # noqa: E402


def test_relative_inputs_and_copies(tmp_path):
    recipe, work = tmp_path / "recipe", tmp_path / "work"
    for rel in ("data/train/text", "dump/train/feats.scp", "dump/train/cmvn.ark", "exp/pretrain/model.avg.pt",
                "exp/finetune/snapshot.ep.1"):
        (recipe / rel).parent.mkdir(parents=True, exist_ok=True)
        (recipe / rel).write_text(rel)
    config = recipe / "exp/finetune/config.yaml"
    config.write_text(yaml.safe_dump({
        "train_data": "data/train", "train_dump": "dump/train", "cmvn": "dump/train/cmvn.ark",
        "init_param": ["exp/pretrain/model.avg.pt:encoder:encoder"], "output_dir": "exp/finetune",
        "bert_dir": str(tmp_path), "valid_data": None, "missing": "data/dev", "up": "../recipe/data"}))
    rel = staging.relative_inputs(recipe, config)
    assert sorted(rel) == ["data/train", "dump/train", "dump/train/cmvn.ark", "exp/pretrain/model.avg.pt"]
    copied = staging.copy_into(recipe, work, rel)
    assert copied == ["data/train", "dump/train", "exp/pretrain/model.avg.pt"]  # cmvn.ark came with dump/train
    assert (work / "dump/train/cmvn.ark").read_text() == "dump/train/cmvn.ark"
    assert not (work / "exp/finetune").exists()
    assert staging.copy_into(recipe, work, ["dump/train/feats.scp", "data/train"]) == []
