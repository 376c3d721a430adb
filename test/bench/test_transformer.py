"""bench/transformer.py: a tiny CPU run gives the contract's values and targets; the CUDA batch
search keeps the largest power of two that fits; the FLOP count of BERT-base."""

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import transformer as tb  # noqa: E402

pytest.importorskip("transformers")

TINY = ["--layers", "1", "--hidden", "32", "--heads", "2", "--vocab", "1200", "--seq", "16", "--batch", "3",
        "--repeats", "1", "--warmup", "1", "--threads", "1", "--no-memory"]


def test_tiny_cpu_run_writes_values_and_targets(tmp_path, capsys):
    out = tmp_path / "t.json"
    assert tb.main(TINY + ["--min_ratio", "0", "--json", str(out)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("bench transformer: ") and last.endswith("missed=0")
    r = json.loads(out.read_text())
    v = r["values"]
    assert v["ours_host_syncs"] == 0 and v["hf_host_syncs"] >= 1  # HF checks its mask with .item()
    assert v["batch"] == 3 and v["seq"] == 16 and v["ratio"] > 0
    assert {t["what"] for t in r["targets"]} == {"ours/hf tokens/s", "host syncs in our step"}
    # an unreachable ratio is a missed target: exit status 1, still every value written
    assert tb.main(TINY + ["--min_ratio", "1000", "--no-profile", "--json", str(out)]) == 1
    assert json.loads(out.read_text())["values"]["ratio"] > 0


def test_batch_search_keeps_the_largest_power_of_two_that_fits(monkeypatch):
    tried = []

    def fake_make_step(model, batch, device, optimizer):
        size = batch["input_ids"].shape[0]
        tried.append(size)
        if size > 32:
            raise torch.cuda.OutOfMemoryError("fake")
        return lambda: None

    monkeypatch.setattr(tb, "make_step", fake_make_step)
    monkeypatch.setattr(tb, "build", lambda name, cfg, device: None)
    args = tb.get_parser().parse_args(["--seq", "8", "--vocab", "1100", "--hidden", "32", "--heads", "2", "--layers", "1"])
    tb.resolve_size(args)
    assert tb.search_batch(args, tb.make_config(args), torch.device("cpu")) == 32
    assert tried == [8, 8, 16, 16, 32, 32, 64]


def test_model_flops_of_bert_base():
    cfg = tb.BertConfig()  # BERT-base
    params = 12 * (4 * 768**2 + 2 * 768 * 3072)
    assert tb.model_flops_per_step(cfg, 2, 384) == 6 * params * 768 + 12 * 12 * 2 * 384**2 * 768
