"""The interface between a training task and the generic trainer in :mod:`speechbert.train`.

The trainer sees a task only through :class:`speechbert.train.task_protocol.TrainableTask`
(``speechbert.train`` never imports ``speechbert.tasks``); :class:`AbsTask` is its base class.

A task is a class with only class methods. It says which options it takes, how to build its
model, its datasets and its collate function, and (optionally) which extra validation metrics it
computes. Everything else -- the optimizer, bucketed batching, DDP, checkpoints and automatic
resume, best/averaged models, logging -- is the trainer's job and is the same for every task.

Contract (what the trainer relies on):

* ``build_model(args)`` returns a ``torch.nn.Module`` whose ``forward(**batch)`` returns
  ``(loss, stats, weight)``:

  - ``loss``: a scalar tensor, the MEAN loss over the batch's ``weight`` items;
  - ``stats``: ``dict[str, float | Tensor]`` of scalars to log (e.g. ``{"acc": 0.5}``), also
    means over the batch; every batch must report the same keys. ``"loss"`` is added by the
    trainer;
  - ``weight``: how many items the means are over (examples, tokens, masked positions ...;
    ``int`` or scalar tensor). Across processes and in validation, losses and stats are
    averaged with these weights, so a DDP run equals a one-process run with the same global
    batch.

  Keep randomness inside the model (dropout) on the torch generator: its state is saved in the
  checkpoint, so a resumed run continues bit-for-bit.

* ``build_dataset(args, split)`` (``split`` in ``{"train", "valid"}``) returns a map-style
  ``torch.utils.data.Dataset`` with a ``lengths`` attribute: ``list[int]``, one cost per example
  (frames or tokens) used for length-bucketed batches (``--batch_bins``). Return ``None`` for
  ``"valid"`` when the task has no validation set. Item ``i`` must not depend on global random
  state (data loading may run in worker processes).

* ``build_collate_fn(args, train)`` returns a function from ``list[item]`` to a ``dict`` of
  tensors (the keyword arguments of ``model.forward``), optionally with ``"ids": list[str]``
  (example ids; removed before ``forward`` and named in error messages, e.g. a NaN loss).

* ``attach_model(model, dataset, args, device)`` may connect a dataset to the model once its
  parameters are final (initialised or restored, on ``device``), before any batch is loaded:
  e.g. to encode inputs once with a frozen part of the model (the fine-tuning task's audio vector
  table). Default: nothing.

* ``write_input_record(args, output_dir)`` may write the record of what the model reads
  (``inputs.yaml`` next to ``config.yaml``).

* ``validate(model, args, device)`` may compute extra validation metrics (e.g. QA F1) with the
  bare model (no DDP wrapper, ``eval()`` mode, under ``torch.no_grad()``); it runs on rank 0
  only and must not use collective operations. The metrics are logged and usable as best
  criteria as ``valid.<name>`` (``--best_criterion valid.f1:max``).

Entry points are one line::

    # speechbert/bin/sqa_train.py
    import sys
    from speechbert.tasks.sqa_finetune import SQATask

    def main(argv=None) -> int:
        return SQATask.main(argv)

    if __name__ == "__main__":
        sys.exit(main())

and decoding stages get the trained model back with
:func:`speechbert.train.model_io.load_model_from_exp` (also ``Task.load_from_exp``).
"""

from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch.utils.data import Dataset

from speechbert.command_line import ArgumentParser, get_base_parser, run_main


class AbsTask(ABC):
    """One training task: its options, model, data, collate function and validation metrics."""

    #: short name of the task, used in the parser description and logs (e.g. ``"finetune"``)
    name: str = "task"
    #: the entry point's name in errors and logs (``sqa_train: error: ...``); default: ``name``
    prog: str | None = None

    @classmethod
    @abstractmethod
    def add_task_arguments(cls, parser: ArgumentParser) -> None:
        """Add the task's own options (model and data) to ``parser`` (also YAML keys).

        Use ``parser.add_argument`` directly (not an argument group) so that ``--foo_bar``
        also answers to ``--foo-bar``. Option names must not clash with the trainer's
        (``speechbert.train.options``).
        """

    @classmethod
    @abstractmethod
    def build_model(cls, args: argparse.Namespace) -> torch.nn.Module:
        """Build the model; ``forward(**batch)`` returns ``(loss, stats, weight)``."""

    @classmethod
    @abstractmethod
    def build_dataset(cls, args: argparse.Namespace, split: str) -> Dataset | None:
        """Build the ``"train"`` or ``"valid"`` dataset (with ``.lengths``); ``None``: no such split."""

    @classmethod
    @abstractmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[[list], dict]:
        """Return the function that turns a list of dataset items into one batch dict."""

    @classmethod
    def validate(cls, model: torch.nn.Module, args: argparse.Namespace,
                 device: torch.device) -> dict[str, float]:
        """Extra validation metrics (name -> value), logged as ``valid.<name>``; default none."""
        return {}

    @classmethod
    def attach_model(cls, model: torch.nn.Module, dataset: Dataset, args: argparse.Namespace,
                     device: torch.device) -> None:
        """Connect ``dataset`` to the model whose parameters are now final (default: nothing)."""

    @classmethod
    def write_input_record(cls, args: argparse.Namespace, output_dir: Path) -> None:
        """Write the record of what the model reads into ``output_dir`` (default: nothing).

        The trainer calls it when it writes ``config.yaml``; decoders rebuild the inputs from it
        (``inputs.yaml``, :mod:`speechbert.tasks.input_pipeline`).
        """

    # ------------------------------------------------------------------ driver (not overridden)

    @classmethod
    def get_parser(cls) -> ArgumentParser:
        """The full parser: common options, trainer options, then the task's options."""
        from speechbert.train.options import add_trainer_arguments

        parser = get_base_parser(f"Train the {cls.name} task with the speechbert trainer", prog=cls.prog or cls.name)
        add_trainer_arguments(parser)
        cls.add_task_arguments(parser)
        return parser

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        """Train with already parsed ``args`` (library entry; raises on errors)."""
        from speechbert.train.trainer import train

        train(cls, args)
        return 0

    @classmethod
    def main(cls, argv: Sequence[str] | None = None) -> int:
        """Parse ``argv`` (default ``sys.argv[1:]``), train, and return the exit status."""
        return run_main(cls.run, cls.get_parser(), argv)

    @classmethod
    def load_from_exp(cls, exp_dir: str | Path, file: str = "model.avg.pt",
                      device: str | torch.device = "cpu") -> tuple[torch.nn.Module, Any]:
        """Rebuild the model from ``exp_dir/config.yaml`` and load ``exp_dir/file``.

        Returns ``(model, args)``; the model is in ``eval()`` mode on ``device``.
        """
        from speechbert.train.model_io import load_model_from_exp

        return load_model_from_exp(exp_dir, cls, file=file, device=device)
