"""test/integration/compare_runs.py on tiny made-up recipe directories."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent


def _load_tool():
    spec = importlib.util.spec_from_file_location("compare_runs", HERE / "integration" / "compare_runs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("compare_runs", module)
    spec.loader.exec_module(module)
    return module


cr = _load_tool()

RESULTS = """# RESULTS

## Environments

- date: `{date}`
- python: `3.11.7 (CPython)`

| system | FF1 all |
|---|---:|
| end-to-end | {ff1} |
"""


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


def make_run(root: Path, *, weight: torch.Tensor | None = None, date: str = "2026-12-01 10:00:00 +0000",
             ff1: str = "43.43", save_name: str = "model.avg.pt") -> Path:
    """A recipe dir with a little of every kind of file the comparison treats specially."""
    d = root / "egs" / "mini" / "sqa1"
    _write(d / "data/train/text", "utt1 hello world\n")
    _write(d / "db/squad/train-v1.1.json", '{"data": []}\n')
    # feats.scp names its archives by absolute path: the run dirs differ there.
    _write(d / "dump/fbank/train/feats.scp", f"utt1 {d.absolute()}/dump/fbank/train/feats.1.ark:6\n")
    _write(d / "dump/fbank/train/feats.1.ark", b"utt1 \x00BFM \x04\x01\x00\x00\x00")
    _write(d / "dump/fbank/train/log/make_feats.1.log", f"# started at {root.name}\n")
    exp = d / "exp/ctc_aligner"
    exp.mkdir(parents=True, exist_ok=True)
    w = torch.arange(6, dtype=torch.float32).reshape(2, 3) if weight is None else weight
    # Saved under another name and renamed (as the atomic writers do): the zip records differ.
    torch.save({"w": w, "b": torch.zeros(3)}, exp / save_name)
    if save_name != "model.avg.pt":
        (exp / save_name).rename(exp / "model.avg.pt")
    torch.save({"format": "x", "model": {"w": w}, "epoch": 2, "history": [{"loss": 0.5}]}, exp / "checkpoint.pt")
    _write(exp / "config.yaml", f"lr: 0.001\noutput_dir: exp/ctc_aligner\nbert_dir: {root.absolute()}/bert\nseed: 1\n")
    _write(exp / "train.log", f"took {len(root.name)} s\n")
    _write(exp / "tensorboard/events.out.tfevents.123.host", root.name)
    _write(d / "exp/finetune/decode_test/result.json", '{"ff1": 1.0}\n')
    _write(d / "RESULTS.md", RESULTS.format(date=date, ff1=ff1))
    return d


def run(a: Path, b: Path, *extra: str, capsys) -> tuple[int, list[str]]:
    code = cr.main([str(a), str(b), *extra])
    return code, capsys.readouterr().out.splitlines()


def line(lines: list[str], stage: int) -> str:
    return next(x for x in lines if x.startswith(f"stage {stage}:"))


def test_equal_runs_are_identical(tmp_path, capsys):
    a = make_run(tmp_path / "runA")
    b = make_run(tmp_path / "runB_other_name", date="2026-12-02 23:59:59 +0100", save_name="tmp.zz")
    assert (a / "exp/ctc_aligner/model.avg.pt").read_bytes() != (b / "exp/ctc_aligner/model.avg.pt").read_bytes()
    code, lines = run(a, b, capsys=capsys)
    assert code == 0, lines
    assert line(lines, 1) == "stage 1: identical (2 files)"
    assert line(lines, 2) == "stage 2: identical (2 files)"  # the log is skipped, feats.scp paths replaced
    assert line(lines, 3) == "stage 3: identical (3 files)"  # model, checkpoint, config; logs skipped
    assert line(lines, 8) == "stage 8: identical (1 files)"
    assert line(lines, 10) == "stage 10: identical (1 files)"
    assert len([x for x in lines if x.startswith("stage ")]) == len(cr.ALL_STAGES)


def test_differing_tensor(tmp_path, capsys):
    a = make_run(tmp_path / "a")
    w = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    w[1, 2] += 1e-5
    b = make_run(tmp_path / "b", weight=w)
    code, lines = run(a, b, capsys=capsys)
    assert code == 1
    out = line(lines, 3)
    # checkpoint.pt sorts first: its model.w is the first difference of the stage
    assert out.startswith("stage 3: DIFFERS first: exp/ctc_aligner/checkpoint.pt (tensor key model.w max abs diff ")
    assert out.endswith("max abs diff 1e-05)")
    assert line(lines, 2).startswith("stage 2: identical")
    code, lines = run(a, b, "--all", "--stages", "3", capsys=capsys)
    assert code == 1
    assert any("exp/ctc_aligner/model.avg.pt (tensor key w max abs diff" in x for x in lines), lines


def test_results_md_date_line_only(tmp_path, capsys):
    a = make_run(tmp_path / "a", date="2026-01-01 00:00:00 +0000")
    b = make_run(tmp_path / "b", date="2027-06-30 12:34:56 +0200")
    assert run(a, b, "--stages", "10", capsys=capsys) == (0, ["stage 10: identical (1 files)"])
    c = make_run(tmp_path / "c", ff1="43.44")
    code, lines = run(a, c, "--stages", "10", capsys=capsys)
    assert code == 1
    assert lines[0].startswith("stage 10: DIFFERS first: RESULTS.md (bytes at offset ")


def test_missing_file(tmp_path, capsys):
    a = make_run(tmp_path / "a")
    b = make_run(tmp_path / "b")
    (b / "exp/finetune/decode_test/result.json").unlink()
    _write(b / "data/train/utt2spk", "utt1 spk1\n")
    code, lines = run(a, b, capsys=capsys)
    assert code == 1
    assert line(lines, 8) == "stage 8: DIFFERS first: exp/finetune/decode_test/result.json (missing in B)"
    assert line(lines, 1) == "stage 1: DIFFERS first: data/train/utt2spk (missing in A)"
    assert line(lines, 7) == "stage 7: identical (0 files)"


def test_bytes_and_config_differences(tmp_path, capsys):
    a = make_run(tmp_path / "a")
    b = make_run(tmp_path / "b")
    _write(b / "dump/fbank/train/feats.1.ark", b"utt1 \x00BFM \x04\x02\x00\x00\x00")
    cfg = b / "exp/ctc_aligner/config.yaml"
    cfg.write_text(cfg.read_text().replace("lr: 0.001", "lr: 0.002"))
    code, lines = run(a, b, "--stages", "2-3", capsys=capsys)
    assert code == 1
    assert lines == ["stage 2: DIFFERS first: dump/fbank/train/feats.1.ark (bytes at offset 11 (sizes 15 / 15))",
                     "stage 3: DIFFERS first: exp/ctc_aligner/config.yaml (key lr: 0.001 != 0.002)"]


def test_stage_table_and_suffixes():
    assert cr.stage_of("exp/ctc_aligner_seed2/model.avg.pt") == 3
    assert cr.stage_of("exp/asr_ctc/test/text") == 4
    assert cr.stage_of("exp/joint_embed_mytag/snapshot.ep.1") == 5
    assert cr.stage_of("exp/finetune_seed3/model.avg.pt") == 7
    assert cr.stage_of("exp/finetune_seed3/decode_test/predictions.jsonl") == 8
    assert cr.stage_of("exp/baseline_random_span/decode_test/result.json") == 8
    assert cr.stage_of("exp/finetune_text/decode_test_asr_ctc/result.json") == 9
    assert cr.stage_of("exp/finetune_text_seed2/model.avg.pt") == 9
    assert cr.stage_of("exp/ensemble/decode_test/result.json") == 10
    assert cr.stage_of("exp/finetuned/x") is None
    assert cr.parse_stages("1-4,7") == [1, 2, 3, 4, 7]
    with pytest.raises(Exception):
        cr.parse_stages("0-3")


def test_two_trainer_runs_are_the_same_bytes(tmp_path, capsys):
    """Real trainer output (toy task): identical by the tool, and the model files are equal bytes."""
    sys.path.insert(0, str(HERE / "speechbert" / "train"))
    try:
        from toy_task import ToyTask
    finally:
        sys.path.pop(0)
    old = torch.get_num_threads()
    try:
        dirs = []
        for name in ("a", "b"):
            d = tmp_path / name / "egs" / "toy" / "sqa1"
            out = d / "exp" / "ctc_aligner"  # any experiment name that the stage table knows
            assert ToyTask.main(["--output_dir", str(out), "--batch_bins", "30", "--num_workers", "0",
                                 "--max_epoch", "2", "--tensorboard", "true", "--num_threads", "1"]) == 0
            dirs.append(d)
    finally:
        torch.set_num_threads(old)
    capsys.readouterr()
    exp_a, exp_b = (d / "exp" / "ctc_aligner" for d in dirs)
    for name in ("model.avg.pt", "snapshot.ep.2", "valid.loss.best", "checkpoint.pt"):
        assert (exp_a / name).read_bytes() == (exp_b / name).read_bytes(), name
    assert (exp_a / "config.yaml").read_bytes() != (exp_b / "config.yaml").read_bytes()  # output_dir
    code, lines = run(dirs[0], dirs[1], "--stages", "3", capsys=capsys)
    assert code == 0, lines
    assert lines[0].startswith("stage 3: identical (")
