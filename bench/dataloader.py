#!/usr/bin/env python3
"""Does data loading keep up with training? Loader rate vs train-step rate for a task.

Measures, on the task's own dataset, collate function and length-bucketed batches:

* the loader alone: batches/s of the DataLoader (``--num_workers`` processes) with nothing else
  running;
* the train step: batches/s of forward + backward + AdamW step on batches already in memory.

The issue's bar is loader >= 5x step rate (the loader never starves training). Usage::

    tools/venv/bin/python bench/dataloader.py                       # built-in toy task (Kaldi ark features)
    tools/venv/bin/python bench/dataloader.py --task speechbert.tasks.finetune:FinetuneTask \\
        --config conf/train_finetune.yaml --num_workers 2 --num_batches 30 [--ngpu 1]

Every option of the task and the trainer is accepted (``--batch_bins``, ``--num_workers`` ...);
``--output_dir`` is not used.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

import kaldiio
import numpy as np
import torch
from bench_common import Bench, add_bench_args
from torch.utils.data import DataLoader, Dataset

from speechbert.tasks.abs_task import AbsTask
from speechbert.train.batch_sampler import BucketBatchSampler


class ArkFeatsDataset(Dataset):
    """Utterances of 80-dim features read from a Kaldi ark at item time (as real tasks do)."""

    def __init__(self, scp: str) -> None:
        self.feats = kaldiio.load_scp(scp)
        self.keys = sorted(self.feats)
        self.lengths = [int(self.feats[k].shape[0]) for k in self.keys]

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i: int):
        key = self.keys[i]
        return key, torch.from_numpy(np.array(self.feats[key], dtype=np.float32))


class _Encoder(torch.nn.Module):
    def __init__(self, dim: int, layers: int) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(80, dim)
        layer = torch.nn.TransformerEncoderLayer(dim, 4, dim * 4, dropout=0.1, batch_first=True)
        self.enc = torch.nn.TransformerEncoder(layer, layers)
        self.out = torch.nn.Linear(dim, 80)

    def forward(self, x, mask):
        h = self.enc(self.proj(x), src_key_padding_mask=~mask)
        err = ((self.out(h) - x) ** 2).mean(-1)
        loss = (err * mask).sum() / mask.sum()
        return loss, {}, mask.sum()


class ToyArkTask(AbsTask):
    """Reconstruct fbank-like features with a small transformer (a stand-in for the real tasks)."""

    name = "bench-toy"

    @classmethod
    def add_task_arguments(cls, parser) -> None:
        parser.add_argument("--toy_utts", type=int, default=400, help="utterances written to a temporary ark")
        parser.add_argument("--toy_dim", type=int, default=64)
        parser.add_argument("--toy_layers", type=int, default=2)

    @classmethod
    def build_model(cls, args):
        return _Encoder(args.toy_dim, args.toy_layers)

    @classmethod
    def build_dataset(cls, args, split):
        rng = np.random.default_rng(0)
        ark = Path(args.toy_workdir) / "feats.ark"
        with kaldiio.WriteHelper(f"ark,scp:{ark},{ark.with_suffix('.scp')}") as w:
            for i in range(args.toy_utts):
                w(f"utt{i:05d}", rng.standard_normal((int(rng.integers(100, 1000)), 80)).astype(np.float32))
        return ArkFeatsDataset(str(ark.with_suffix(".scp")))

    @classmethod
    def build_collate_fn(cls, args, train):
        def collate(items):
            t = max(x.shape[0] for _, x in items)
            x = torch.zeros(len(items), t, 80)
            mask = torch.zeros(len(items), t, dtype=torch.bool)
            for i, (_, xi) in enumerate(items):
                x[i, : len(xi)] = xi
                mask[i, : len(xi)] = True
            return {"ids": [k for k, _ in items], "x": x, "mask": mask}

        return collate


def _load_task(spec: str) -> type[AbsTask]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the rates and their ratio."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--task", default=None, help="module:Class of an AbsTask (default: the built-in toy task)")
    pre.add_argument("--num_batches", type=int, default=20, help="batches to time")
    add_bench_args(pre, repeats=1)  # --repeats is unused: the rates are steady-state wall time
    known, rest = pre.parse_known_args(argv)
    bench = Bench("dataloader", known)
    task = _load_task(known.task) if known.task else ToyArkTask
    defaults = ["--output_dir", "unused", "--batch_bins", "4000", "--num_workers", "2"] if task is ToyArkTask else []
    args = task.get_parser().parse_args(defaults + rest)
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as workdir:
        args.toy_workdir = workdir
        dataset = task.build_dataset(args, "train")
        sampler = BucketBatchSampler(dataset.lengths, args.batch_bins, args.batch_size, seed=args.seed)
        sampler.set_epoch(1)
        n = min(known.num_batches, len(sampler))
        loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=task.build_collate_fn(args, True),
                            num_workers=args.num_workers, pin_memory=args.ngpu > 0)
        it = iter(loader)
        batches = [next(it)]  # worker start-up is not part of the steady-state rate
        t0 = time.perf_counter()
        batches += [next(it) for _ in range(n - 1)]
        load_s = (time.perf_counter() - t0) / max(n - 1, 1)
        del it

        device = torch.device("cuda" if args.ngpu > 0 else "cpu")
        model = task.build_model(args).to(device).train()
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

        def step(batch):
            batch = {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v
                     for k, v in batch.items() if k != "ids"}
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bool(args.bf16 and args.ngpu > 0)):
                loss, _, _ = model(**batch)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        step(batches[0])  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for b in batches[1:]:
            step(b)
        if device.type == "cuda":
            torch.cuda.synchronize()
        step_s = (time.perf_counter() - t0) / max(n - 1, 1)
    examples = sum(len(b) for b in sampler.global_batches()[:n]) / n
    print(f"task {task.name}: {n} batches, {examples:.1f} examples/batch, num_workers {args.num_workers}, "
          f"device {device}, torch threads {torch.get_num_threads()}")
    print(f"loader alone : {1 / load_s:8.2f} batches/s ({load_s * 1000:.1f} ms/batch)")
    print(f"train step   : {1 / step_s:8.2f} batches/s ({step_s * 1000:.1f} ms/batch)")
    ratio = step_s / load_s
    print(f"loader / step rate: {ratio:.1f}x  ({'OK' if ratio >= 5 else 'BELOW'} the 5x bar)")
    bench.record(task=task.name, num_workers=args.num_workers, loader_batches_s=round(1 / load_s, 2),
                 step_batches_s=round(1 / step_s, 2), ratio=round(ratio, 2))
    bench.target("loader rate / train-step rate", round(ratio, 2), ">=", 5)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
