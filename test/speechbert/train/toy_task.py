"""A tiny regression task for the trainer tests: variable-length random sequences -> one number.

Run as a script (``python toy_task.py --output_dir ... --batch_bins ...``) it is a complete
training entry point, like ``speechbert/bin/<tool>.py``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

import torch
from torch.utils.data import Dataset

from speechbert.tasks.abs_task import AbsTask


class ToyDataset(Dataset):
    """``n`` sequences of 2..9 frames of ``dim`` features; the target is a fixed function of them."""

    def __init__(self, n: int, dim: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.lengths = [int(x) for x in torch.randint(2, 10, (n,), generator=g)]
        self.x = [torch.randn(length, dim, generator=g) for length in self.lengths]
        w = torch.linspace(-1.0, 1.0, dim)
        self.y = [float(torch.tanh(x.mean(0) @ w) + 0.1 * x.shape[0]) for x in self.x]
        self.ids = [f"toy{seed}-{i:03d}" for i in range(n)]

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[str, torch.Tensor, float]:
        return self.ids[i], self.x[i], self.y[i]


class ToyModel(torch.nn.Module):
    """Masked mean pooling, a hidden layer with dropout, a linear output; MSE loss."""

    def __init__(self, dim: int, hidden: int, dropout: float, nan_id: str) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(dim, hidden)
        self.out = torch.nn.Linear(hidden, 1)
        self.dropout = torch.nn.Dropout(dropout)
        self.nan_id = nan_id

    def forward(self, x: torch.Tensor, mask: torch.Tensor, y: torch.Tensor,
                nan: torch.Tensor | None = None) -> tuple[torch.Tensor, dict, int]:
        pooled = (x * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        pred = self.out(self.dropout(torch.tanh(self.hidden(pooled)))).squeeze(-1)
        if nan is not None:
            pred = pred + nan
        err = pred - y
        loss = (err ** 2).mean()
        return loss, {"mae": err.abs().mean().detach()}, y.shape[0]


class ToyTask(AbsTask):
    """Regression on :class:`ToyDataset`."""

    name = "toy"

    @classmethod
    def add_task_arguments(cls, parser) -> None:
        parser.add_argument("--toy_num_train", type=int, default=40)
        parser.add_argument("--toy_num_valid", type=int, default=12)
        parser.add_argument("--toy_dim", type=int, default=4)
        parser.add_argument("--toy_hidden", type=int, default=8)
        parser.add_argument("--toy_dropout", type=float, default=0.1)
        parser.add_argument("--toy_nan_id", default="", help="example id whose loss becomes NaN")
        parser.add_argument("--toy_f1", type=float, default=None, help="report this as valid.f1 minus 0.01/epoch")

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> torch.nn.Module:
        return ToyModel(args.toy_dim, args.toy_hidden, args.toy_dropout, args.toy_nan_id)

    @classmethod
    def build_dataset(cls, args: argparse.Namespace, split: str) -> Dataset | None:
        if split == "train":
            return ToyDataset(args.toy_num_train, args.toy_dim, seed=11)
        return ToyDataset(args.toy_num_valid, args.toy_dim, seed=22) if args.toy_num_valid else None

    @classmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[[list], dict]:
        nan_id = args.toy_nan_id

        def collate(items: list) -> dict:
            ids = [i for i, _, _ in items]
            t = max(x.shape[0] for _, x, _ in items)
            x = torch.zeros(len(items), t, items[0][1].shape[1])
            mask = torch.zeros(len(items), t)
            for k, (_, xi, _) in enumerate(items):
                x[k, : xi.shape[0]] = xi
                mask[k, : xi.shape[0]] = 1.0
            batch = {"ids": ids, "x": x, "mask": mask, "y": torch.tensor([y for _, _, y in items])}
            if nan_id and nan_id in ids:
                batch["nan"] = torch.tensor([float("nan") if i == nan_id else 0.0 for i in ids])
            return batch

        return collate

    @classmethod
    def validate(cls, model, args, device) -> dict[str, float]:
        if args.toy_f1 is None:
            return {}
        return {"f1": float(args.toy_f1 + model.out.bias.item())}


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(ToyTask.main())
