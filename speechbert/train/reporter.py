"""Progress lines, running averages and TensorBoard scalars for the trainer (rank 0 only)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import humanfriendly


class WeightedAverages:
    """Weighted running means of named scalars (the weights are the model's ``weight``)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.weight = 0.0

    def add(self, weighted_sums: dict[str, float], weight: float) -> None:
        """Add already weight-multiplied sums and their total weight."""
        for k, v in weighted_sums.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.weight += weight

    def means(self) -> dict[str, float]:
        """Name -> weighted mean (empty when nothing was added)."""
        if self.weight <= 0:
            return {}
        return {k: v / self.weight for k, v in self.sums.items()}

    def reset(self) -> None:
        """Forget everything added so far."""
        self.sums, self.weight = {}, 0.0


def format_metrics(metrics: dict[str, float]) -> str:
    """``loss 1.234 acc 0.5`` with 4 significant digits."""
    return " ".join(f"{k} {v:.4g}" for k, v in metrics.items())


class Reporter:
    """Logs progress every ``log_interval`` updates and writes TensorBoard scalars."""

    def __init__(self, enabled: bool, tensorboard_dir: Path | None, total_steps: int) -> None:
        self.enabled = enabled
        self.total_steps = total_steps
        self.writer: Any = None
        if enabled and tensorboard_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(tensorboard_dir))
        self.interval = WeightedAverages()
        self.examples = 0
        self.bins = 0
        self.t0 = time.perf_counter()
        self.run_t0 = self.t0
        self.first_step = 0

    def add_batch(self, weighted_sums: dict[str, float], weight: float, examples: int, bins: int) -> None:
        """Account one global batch (sums over all processes)."""
        self.interval.add(weighted_sums, weight)
        self.examples += examples
        self.bins += bins

    def log_progress(self, epoch: int, max_epoch: int, step: int, batch: int, num_batches: int,
                     lr: float, extra: dict[str, float]) -> None:
        """One progress line: position, averaged losses, lr, throughput and ETA; then reset."""
        now = time.perf_counter()
        elapsed = max(now - self.t0, 1e-9)
        means = {**self.interval.means(), **extra}
        per_step = (now - self.run_t0) / max(step - self.first_step, 1)
        eta = humanfriendly.format_timespan(per_step * max(self.total_steps - step, 0))
        if self.enabled:
            logging.info("epoch %d/%d step %d/%d (batch %d/%d) %s lr %.3g | %.1f examples/s %.0f bins/s | ETA %s",
                         epoch, max_epoch, step, self.total_steps, batch, num_batches, format_metrics(means),
                         lr, self.examples / elapsed, self.bins / elapsed, eta)
            if self.writer is not None:
                for k, v in means.items():
                    self.writer.add_scalar(f"train/{k}", v, step)
                self.writer.add_scalar("train/lr", lr, step)
                self.writer.add_scalar("train/examples_per_sec", self.examples / elapsed, step)
        self.interval.reset()
        self.examples = self.bins = 0
        self.t0 = time.perf_counter()

    def start(self, step: int) -> None:
        """Mark the first update of this process's run (for the ETA)."""
        self.first_step = step
        self.run_t0 = time.perf_counter()
        self.t0 = self.run_t0

    def log_validation(self, epoch: int, step: int, metrics: dict[str, float]) -> None:
        """The validation summary line and its scalars."""
        if not self.enabled:
            return
        logging.info("validation (epoch %d, step %d): %s", epoch, step, format_metrics(metrics))
        if self.writer is not None:
            for k, v in metrics.items():
                self.writer.add_scalar(k.replace(".", "/", 1), v, step)
            self.writer.flush()

    def close(self) -> None:
        """Flush and close TensorBoard."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
