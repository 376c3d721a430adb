"""bench/gpu_check.sh --cpu on a tiny recipe directory built here: every part runs and the report
says so; the recipe directory is left unchanged; a wrong CPU prediction fails part (c).

The recipe directory is the structured corpus of the task tests (train and test sets: data, dump,
CTM, CMVN) with a one-epoch 1-layer fine-tuning run and its CPU decoding of the test set, i.e.
what stages 1-8 leave that the check reads, built in seconds. The finished mini recipe would be
the more faithful input but takes minutes in --cpu mode (its fine-tuning epoch and two
validations alone exceed the time of this test), so it is only a manual run (doc/training.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "test" / "speechbert" / "tasks"))
sys.path.insert(0, str(REPO / "bench" / "gpu_check"))
import parts as P  # noqa: E402
import sqa_fixture as fx  # noqa: E402

pytest.importorskip("transformers")


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    """A recipe directory with relative paths in its experiment files, as a real recipe has."""
    from speechbert.bin.sqa_decode import main as decode_main
    from speechbert.tasks.sqa_finetune import SQATask

    root = tmp_path_factory.mktemp("recipe")
    fx.make_split(root, "train", 8, seed=1)
    fx.make_split(root, "test", 3, seed=3)
    old_cwd, old_threads = os.getcwd(), torch.get_num_threads()
    os.chdir(root)
    torch.set_num_threads(1)
    try:
        assert SQATask.main(["--bert_dir", fx.bert_dir(), "--train_data", "data/train", "--train_dump", "dump/train",
                             "--train_ctm", "exp/align/train/word.ctm", "--cmvn", "dump/train/cmvn.ark",
                             "--bert_layers", "1", "--max_word_frames", "8", "--output_dir", "exp/finetune",
                             "--max_epoch", "1", "--keep_nbest", "1", "--batch_size", "2", "--lr", "3e-3",
                             "--num_workers", "0", "--tensorboard", "false", "--resume", "false",
                             # as conf/finetune.yaml of the mini recipe: no unused parameters under DDP
                             "--freeze_audio_encoder", "true",
                             "--freeze_param", "encoder.bert.embeddings.word_embeddings", *fx.AWE_ARGS]) == 0
        assert decode_main(["--model_dir", "exp/finetune", "--data", "data/test", "--dump", "dump/test",
                            "--ctm", "exp/align/test/word.ctm",
                            "--out", "exp/finetune/decode_test/predictions.jsonl"]) == 0
    finally:
        os.chdir(old_cwd)
        torch.set_num_threads(old_threads)
    for junk in ("checkpoint.pt", "checkpoint.prev.pt"):
        (root / "exp/finetune" / junk).unlink(missing_ok=True)
    return root


def run_script(recipe: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHON": sys.executable}
    return subprocess.run(["bash", str(REPO / "bench" / "gpu_check.sh"), "--cpu", "--recipe_dir", str(recipe),
                           "--out", str(out), "--cpu_max_steps", "4", *extra],
                          capture_output=True, text=True, env=env, timeout=300)


def test_cpu_run_passes_every_part_and_leaves_the_recipe_alone(recipe, tmp_path):
    before = _tree_digest(recipe)
    proc = run_script(recipe, tmp_path / "report")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "report" / "gpu_report.json").read_text())
    status = {p["key"]: p["status"] for p in report["parts"]}
    assert status == {"a": "pass", "b": "pass", "c": "pass", "d": "pass", "e": "pass"}, report
    summaries = {p["key"]: p["summary"] for p in report["parts"]}
    assert "host syncs 0" in summaries["a"]
    assert summaries["d"].startswith("4 utterances, ssl 32: relative difference 0.00e+00")  # CPU vs CPU
    assert "with the CPU's best span" in summaries["c"]
    md = (tmp_path / "report" / "gpu_report.md").read_text()
    assert md.startswith("# GPU check report") and "**PASSED**" in md
    logs = {p.name for p in (tmp_path / "report" / "logs").iterdir()}
    assert {"a_train_step.log", "b_finetune.log", "c_decode.log", "d_ssl_frontend.log", "e_ddp.log", "transformer.json",
            "gpu_predictions.jsonl"} <= logs
    assert _tree_digest(recipe) == before  # nothing written into the recipe


def test_a_changed_prediction_fails_part_c(recipe, tmp_path):
    """A CPU prediction file whose best span differs: (c) fails, the report names it, exit 1."""
    bad = tmp_path / "bad_recipe"
    (bad / "exp" / "finetune" / "decode_test").mkdir(parents=True)
    for rel in ("data", "dump", "exp/align"):
        os.symlink(recipe / rel, bad / rel)
    for name in ("config.yaml", "inputs.yaml", "model.avg.pt"):
        os.symlink(recipe / "exp/finetune" / name, bad / "exp/finetune" / name)
    lines = (recipe / P.CPU_PREDICTIONS).read_text().splitlines()
    first = json.loads(lines[0])
    first["word_span"] = [first["word_span"][0] + 1, first["word_span"][1] + 1]
    (bad / P.CPU_PREDICTIONS).write_text("\n".join([json.dumps(first)] + lines[1:]) + "\n")
    proc = run_script(bad, tmp_path / "report", "--parts", "c")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    part = json.loads((tmp_path / "report" / "gpu_report.json").read_text())["parts"][0]
    assert part["status"] == "fail" and f"{len(lines) - 1} with the CPU's best span" in part["summary"]
    assert first["id"] in "\n".join(part["details"])


def test_loss_judgement():
    assert P.judge_losses([(1, 3.0), (2, 2.9), (3, 2.5), (4, 2.4)])[0].startswith("loss 3.000 -> 2.400")
    with pytest.raises(P.PartFailed, match="not decreasing"):
        P.judge_losses([(1, 2.0), (2, 2.1), (3, 2.2), (4, 2.3)])
    with pytest.raises(P.PartFailed, match="non-finite"):
        P.judge_losses([(1, 2.0), (2, float("nan"))])
    with pytest.raises(P.PartFailed, match="progress line"):
        P.judge_losses([(1, 2.0)])
