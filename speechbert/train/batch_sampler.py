"""Length-bucketed batches, split across DDP processes, with resumable per-epoch shuffling.

The batches are GLOBAL: they are built from the example lengths alone (independent of the number
of processes), and process ``r`` of ``W`` takes every W-th example of each batch. Every process
therefore runs the same number of steps, and a run with W processes sees exactly the batches of a
one-process run with the same options.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

from speechbert.errors import ConfigError


def make_length_batches(lengths: Sequence[int], batch_bins: int = 0, batch_size: int = 0,
                        min_batch_size: int = 1) -> list[list[int]]:
    """Group example indexes into batches of similar length.

    Examples are sorted by length (ties by index) and packed greedily: a batch closes before an
    example that would bring its summed length over ``batch_bins`` or its size over
    ``batch_size`` (0 = no such limit), but never before it holds ``min_batch_size`` examples
    (a single example longer than ``batch_bins`` gets a batch of its own). A last batch smaller
    than ``min_batch_size`` is merged into the one before it.
    """
    if batch_bins <= 0 and batch_size <= 0:
        raise ConfigError("batching needs batch_bins > 0 or batch_size > 0")
    if min_batch_size > len(lengths):
        raise ConfigError(f"{len(lengths)} examples cannot fill one batch of {min_batch_size} "
                          "(one example per process at least)")
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    bins = 0
    for i in order:
        n = int(lengths[i])
        full = ((batch_bins > 0 and bins + n > batch_bins) or
                (batch_size > 0 and len(current) + 1 > batch_size))
        if current and full and len(current) >= min_batch_size:
            batches.append(current)
            current, bins = [], 0
        current.append(i)
        bins += n
    if current:
        if len(current) < min_batch_size and batches:
            batches[-1].extend(current)
        else:
            batches.append(current)
    return batches


class BucketBatchSampler(Sampler[list[int]]):
    """Yields this process's share of each global length-bucketed batch.

    ``set_epoch(epoch, start)`` selects the epoch (1-based; the batch order is shuffled with a
    generator seeded by ``(seed, epoch)``) and the first batch position to yield, so a resumed
    run continues with the next batch of the interrupted epoch.
    """

    def __init__(self, lengths: Sequence[int], batch_bins: int = 0, batch_size: int = 0,
                 shuffle: bool = True, seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        self.lengths = [int(n) for n in lengths]
        self.batches = make_length_batches(self.lengths, batch_bins, batch_size, min_batch_size=world_size)
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 1
        self.start = 0
        over = [b for b in self.batches if batch_bins > 0 and self.batch_bins(b) > batch_bins]
        if over:
            logging.debug("%d batches exceed batch_bins=%d (long examples or one per process)",
                          len(over), batch_bins)

    def batch_bins(self, batch: list[int]) -> int:
        """Summed length of the examples of ``batch``."""
        return sum(self.lengths[i] for i in batch)

    def fingerprint(self) -> str:
        """A short hash of the global batches (to check that a resumed run batches the same way)."""
        h = hashlib.sha1()
        for b in self.batches:
            h.update(np.asarray(b, dtype=np.int64).tobytes())
            h.update(b"|")
        return h.hexdigest()[:16]

    def epoch_order(self, epoch: int) -> list[int]:
        """Order in which the global batches are visited in ``epoch``."""
        if not self.shuffle:
            return list(range(len(self.batches)))
        rng = np.random.default_rng([abs(int(self.seed)), int(epoch)])
        return [int(i) for i in rng.permutation(len(self.batches))]

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Select the epoch and the batch position to start from."""
        if not 0 <= start <= len(self.batches):
            raise ValueError(f"start batch {start} outside 0..{len(self.batches)}")
        self.epoch = epoch
        self.start = start

    def global_batches(self) -> list[list[int]]:
        """The global batches of the selected epoch from the start position, in order."""
        return [self.batches[i] for i in self.epoch_order(self.epoch)[self.start:]]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.global_batches():
            yield batch[self.rank::self.world_size]

    def __len__(self) -> int:
        return len(self.batches) - self.start
