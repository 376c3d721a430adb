"""The generic trainer on the toy task: resume after a kill, errors, DDP, files of the exp dir."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from train_test_utils import BASE_ARGS, assert_same_state, load_model, run_toy, subprocess_env
from toy_task import ToyTask

from speechbert.train.trainer import EXIT_AFTER_STEP_ENV, lr_factor

UPDATES_PER_EPOCH = 8  # 40 toy examples, --batch_bins 30


def _ok(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _train(out, *args):
    """Run the toy task in this process (same options as ``run_toy``); return its exit status."""
    return ToyTask.main(["--output_dir", str(out), *BASE_ARGS, *args])


@pytest.mark.parametrize("extra,kill_after", [
    (["--save_interval_steps", "3"], 13),                       # mid-epoch 2, checkpoint at update 12
    (["--save_interval_steps", "2", "--accum_grad", "3"], 5),   # accumulation groups, epoch ends mid-group
])
def test_killed_run_resumes_to_the_same_parameters(tmp_path, extra, kill_after):
    args = ["--max_epoch", "3", "--toy_dropout", "0.2", *extra]
    ref = tmp_path / "ref"
    assert _train(ref, *args) == 0  # in this process: the same computation, no interpreter start-up

    out = tmp_path / "killed"
    killed = run_toy(out, *args, "--num_workers", "1",
                     env=subprocess_env(**{EXIT_AFTER_STEP_ENV: str(kill_after)}))
    assert killed.returncode == 137, killed.stderr[-2000:]
    before = torch.load(out / "checkpoint.pt", weights_only=True)
    assert before["step"] < kill_after  # the kill lost work that must be redone
    assert 0 < before["batch"]  # a mid-epoch position
    resumed = _ok(run_toy(out, *args, "--num_workers", "1"))
    assert f"resumed from {out / 'checkpoint.pt'}: epoch {before['epoch']}, batch {before['batch']}" in resumed.stderr

    assert_same_state(load_model(ref / "checkpoint.pt"), load_model(out / "checkpoint.pt"))
    for name in ["snapshot.ep.3", "model.avg.pt", "valid.loss.best"]:
        assert_same_state(load_model(ref / name), load_model(out / name))
    assert (ref / "metrics.jsonl").read_text() == (out / "metrics.jsonl").read_text()
    ref_opt = torch.load(ref / "checkpoint.pt", weights_only=True)["optimizer"]["state"]
    out_opt = torch.load(out / "checkpoint.pt", weights_only=True)["optimizer"]["state"]
    for k in ref_opt:
        assert torch.equal(ref_opt[k]["exp_avg_sq"], out_opt[k]["exp_avg_sq"])


def test_same_seed_same_parameters_and_exp_dir_files(tmp_path, capsys):
    assert _train(tmp_path / "a", "--max_epoch", "2", "--seed", "3", "--tensorboard", "true",
                  "--keep_nbest", "1", "--nbest_average", "1", "--bf16", "true") == 0
    err = capsys.readouterr().err
    assert "--bf16 true is ignored on CPU" in err
    assert "BATCHES ARE GLOBAL: 40 examples in 8 length-bucketed batches" in err
    assert _train(tmp_path / "b", "--max_epoch", "2", "--seed", "3") == 0
    assert _train(tmp_path / "c", "--max_epoch", "2", "--seed", "4") == 0
    a, b, c = (load_model(tmp_path / x / "checkpoint.pt") for x in "abc")
    assert_same_state(a, b)
    assert not torch.equal(a["hidden.weight"], c["hidden.weight"])

    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == ["checkpoint.prev.pt", "checkpoint.pt", "config.yaml", "metrics.jsonl", "model.avg.metrics.json",
                     "model.avg.pt", "plots", "snapshot.ep.2", "tensorboard", "valid.loss.best"], files
    assert any((tmp_path / "a" / "tensorboard").iterdir())
    config = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    assert config["seed"] == 3 and config["output_dir"] == str(tmp_path / "a") and config["toy_dim"] == 4
    assert "config" not in config
    records = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["step"]) for r in records] == [(1, 8), (2, 16)]
    best_epoch = min(records, key=lambda r: r["valid.loss"])["epoch"]
    # keep_nbest 1 keeps the best epoch's snapshot (plus the newest); average of 1 == best
    assert_same_state(load_model(tmp_path / "a" / "model.avg.pt"), load_model(tmp_path / "a" / "valid.loss.best"))
    assert best_epoch == 2
    # the averaged model (here = the best epoch's) is validated again: same metric keys and values
    avg = json.loads((tmp_path / "a" / "model.avg.metrics.json").read_text())
    best = records[best_epoch - 1]
    assert avg["model"] == "model.avg.pt" and avg["step"] == 16
    assert {k for k in avg if k.startswith("valid.")} == {k for k in best if k.startswith("valid.")}
    for k in (k for k in best if k.startswith("valid.")):
        assert avg[k] == pytest.approx(best[k], rel=1e-9), k


def test_extend_a_finished_run(tmp_path, capsys):
    out = tmp_path / "exp"
    assert _train(out, "--max_epoch", "2") == 0
    before = (out / "checkpoint.pt").read_bytes()
    assert _train(out, "--max_epoch", "2") == 0
    assert "already finished" in capsys.readouterr().err
    assert (out / "checkpoint.pt").read_bytes() == before
    assert _train(out, "--max_epoch", "3") == 0
    err = capsys.readouterr().err
    assert "options changed since the last run" in err and "max_epoch: 2 -> 3" in err
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert (state["epoch"], state["step"]) == (4, 3 * UPDATES_PER_EPOCH)
    assert (out / "snapshot.ep.3").exists()


def test_max_steps_and_valid_interval(tmp_path):
    out = tmp_path / "exp"
    assert _train(out, "--max_epoch", "5", "--max_steps", "11", "--valid_interval_steps", "3") == 0
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["step"], r["end_of_epoch"]) for r in records] == [
        (1, 3, False), (1, 6, False), (1, 8, True), (2, 9, False), (2, 11, True)]
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert (state["epoch"], state["batch"], state["step"]) == (2, 3, 11)


def test_nan_loss_names_step_and_batch_ids(tmp_path, capsys):
    assert _train(tmp_path / "exp", "--toy_nan_id", "toy11-007") == 1
    err = capsys.readouterr().err
    assert "non-finite loss" in err and "toy11-007" in err
    assert "at update " in err and "(epoch 1, batch " in err


def test_unknown_config_key_is_named(tmp_path, capsys):
    config = tmp_path / "train.yaml"
    config.write_text("max_epoch: 1\nbatch_binz: 10\n")
    assert ToyTask.main(["--config", str(config), "--output_dir", str(tmp_path / "x")]) == 1
    assert "unknown option 'batch_binz'" in capsys.readouterr().err
    config.write_text("toy_dim: 3\nmax_epoch: 1\nbatch_bins: 30\nnum_workers: 0\n")
    assert ToyTask.main(["--config", str(config), "--tag", "t1", "--output_dir", str(tmp_path / "y")]) == 0


def test_unknown_best_criterion_lists_metrics(tmp_path, capsys):
    assert _train(tmp_path / "exp", "--max_epoch", "1", "--best_criterion", "valid.acc:max") == 1
    err = capsys.readouterr().err
    assert "valid.acc:max: no such metric" in err and "valid.mae" in err


def test_task_metrics_best_and_nbest_average(tmp_path):
    out = tmp_path / "exp"
    assert _train(out, "--max_epoch", "4", "--toy_f1", "0.5", "--best_criterion", "valid.f1:max",
                  "valid.loss:min", "--keep_nbest", "2", "--nbest_average", "2") == 0
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    ranked = sorted(records, key=lambda r: (-r["valid.f1"], -r["epoch"]))
    best2 = sorted(r["epoch"] for r in ranked[:2])
    by_loss = sorted(records, key=lambda r: (r["valid.loss"], -r["epoch"]))
    kept = sorted(int(p.name.rsplit(".", 1)[1]) for p in out.glob("snapshot.ep.*"))
    assert kept == sorted(set(best2) | {r["epoch"] for r in by_loss[:2]} | {4})
    expected = {k: (load_model(out / f"snapshot.ep.{best2[0]}")[k].double() +
                    load_model(out / f"snapshot.ep.{best2[1]}")[k].double()) / 2
                for k in load_model(out / "model.avg.pt")}
    for k, v in load_model(out / "model.avg.pt").items():
        assert torch.allclose(v.double(), expected[k], atol=1e-7)
    assert_same_state(load_model(out / "valid.f1.best"), load_model(out / f"snapshot.ep.{ranked[0]['epoch']}"))
    assert (out / "valid.loss.best").exists()


def test_without_validation_set_average_is_last_n(tmp_path):
    out = tmp_path / "exp"
    assert _train(out, "--max_epoch", "3", "--toy_num_valid", "0", "--keep_nbest", "2", "--nbest_average", "2") == 0
    assert sorted(p.name for p in out.glob("snapshot.ep.*")) == ["snapshot.ep.2", "snapshot.ep.3"]
    assert not list(out.glob("*.best"))
    a, b, avg = (load_model(out / f) for f in ("snapshot.ep.2", "snapshot.ep.3", "model.avg.pt"))
    for k in avg:
        assert torch.allclose(avg[k].double(), (a[k].double() + b[k].double()) / 2, atol=1e-7)


def test_init_param_and_freeze_param(tmp_path, capsys):
    first = tmp_path / "first"
    assert _train(first, "--max_epoch", "1", "--seed", "1") == 0
    second = tmp_path / "second"
    assert _train(second, "--max_epoch", "1", "--seed", "2", "--init_param", f"{first}/model.avg.pt:hidden:hidden",
                  "--freeze_param", "hidden") == 0
    src, dst = load_model(first / "model.avg.pt"), load_model(second / "checkpoint.pt")
    assert torch.equal(src["hidden.weight"], dst["hidden.weight"])  # loaded, then frozen
    assert not torch.equal(src["out.weight"], dst["out.weight"])
    assert _train(tmp_path / "bad", "--init_param", f"{first}/model.avg.pt:hidden:nothere") == 1
    assert "the model has no parameter 'nothere.weight'" in capsys.readouterr().err
    assert _train(tmp_path / "bad2", "--freeze_param", "encoder") == 1
    assert "--freeze_param encoder: no parameter has this prefix" in capsys.readouterr().err


def test_resume_false_starts_over(tmp_path, capsys):
    out = tmp_path / "exp"
    assert _train(out, "--max_epoch", "2") == 0
    assert _train(out, "--max_epoch", "1", "--resume", "false") == 0
    err = capsys.readouterr().err
    assert "--resume false: ignoring" in err and "removing snapshot.ep.1 snapshot.ep.2" in err
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == UPDATES_PER_EPOCH
    assert not (out / "snapshot.ep.2").exists()


def test_ddp_two_processes_match_one_process(tmp_path):
    # --batch_bins 28: every batch has >= 2 examples, so both runs have the same global batches
    # (with fewer examples than processes, a batch would be merged into its neighbour).
    args = ["--max_epoch", "2", "--toy_dropout", "0.0", "--save_interval_steps", "5", "--batch_bins", "28"]
    assert _train(tmp_path / "one", *args) == 0
    two = _ok(run_toy(tmp_path / "two", *args, nproc=2))
    assert "8 length-bucketed batches per epoch" in two.stderr and "takes 1/2 of every batch" in two.stderr
    assert ":0/2]" in two.stderr
    assert "rank 1 of 2" not in two.stderr and " INFO: epoch" not in "".join(
        line for line in two.stderr.splitlines(True) if ":1/2]" in line)  # rank 1: warnings only
    a, b = load_model(tmp_path / "one" / "checkpoint.pt"), load_model(tmp_path / "two" / "checkpoint.pt")
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6)
    one_m = [json.loads(x) for x in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    two_m = [json.loads(x) for x in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in one_m] == [r["step"] for r in two_m]
    assert two_m[-1]["valid.loss"] == pytest.approx(one_m[-1]["valid.loss"], abs=1e-6)


def test_lr_schedule():
    assert [lr_factor(s, 10, 2, "linear") for s in range(10)] == pytest.approx(
        [0.5, 1.0, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125])
    assert [lr_factor(s, 10, 0, "constant") for s in (0, 9)] == [1.0, 1.0]


def test_temporary_files_of_a_killed_run_are_removed_at_start(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".checkpoint.pt.x8f2k1.tmp").write_bytes(b"\0" * 1000)  # a write killed half way
    (out / ".snapshot.ep.1.abc.tmp").write_bytes(b"")
    (out / "notes.txt").write_text("mine\n")
    (out / "plots").mkdir()
    (out / "plots" / ".loss.png.q1w2e3.tmp").write_bytes(b"\x89PNG")  # killed while drawing the curves
    assert _train(out, "--max_epoch", "1") == 0
    assert not list(out.glob(".*.tmp")) and (out / "notes.txt").read_text() == "mine\n"
    assert not list((out / "plots").glob(".*.tmp")) and (out / "plots" / "loss.png").is_file()
