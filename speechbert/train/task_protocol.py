"""What the trainer needs from a training task: the small protocol that :mod:`speechbert.train` depends on.

``speechbert.train`` never imports ``speechbert.tasks``; a task (``speechbert.tasks.abs_task.AbsTask``
and its subclasses, ``speechbert.align.task``) satisfies this protocol with class methods, and the
trainer is handed the class. The contract of every method is written out in
:mod:`speechbert.tasks.abs_task`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, Protocol

import torch
from torch.utils.data import Dataset


class TrainableTask(Protocol):
    """A training task as the trainer and :mod:`speechbert.train.model_io` see it."""

    #: short name used in logs and errors
    name: str

    def build_model(self, args: argparse.Namespace) -> torch.nn.Module:
        """The model; ``forward(**batch)`` returns ``(loss, stats, weight)``."""
        ...

    def build_dataset(self, args: argparse.Namespace, split: str) -> Dataset | None:
        """The ``"train"`` or ``"valid"`` dataset (with ``.lengths``), or ``None``."""
        ...

    def build_collate_fn(self, args: argparse.Namespace, train: bool) -> Callable[[list], dict]:
        """The function turning a list of dataset items into one batch dict."""
        ...

    def attach_model(self, model: torch.nn.Module, dataset: Dataset, args: argparse.Namespace,
                     device: torch.device) -> None:
        """Connect ``dataset`` to the model once its parameters are final."""
        ...

    def write_input_record(self, args: argparse.Namespace, output_dir: Path) -> None:
        """Write the record of what the model reads (``inputs.yaml``)."""
        ...

    def validate(self, model: torch.nn.Module, args: argparse.Namespace, device: torch.device) -> dict[str, float]:
        """Extra validation metrics (name -> value)."""
        ...

    def get_parser(self) -> argparse.ArgumentParser:
        """The task's full parser (to re-read an experiment's ``config.yaml``)."""
        ...
