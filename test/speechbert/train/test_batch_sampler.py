"""Length-bucketed global batches, DDP split and resumable shuffling."""

from __future__ import annotations

import random

import pytest

from speechbert.errors import ConfigError
from speechbert.train.batch_sampler import BucketBatchSampler, make_length_batches


def _lengths(n=57, seed=3):
    rng = random.Random(seed)
    return [rng.randint(1, 20) for _ in range(n)]


def test_every_example_once_and_costs_within_bins():
    lengths = _lengths() + [45]  # one example alone exceeds batch_bins
    batches = make_length_batches(lengths, batch_bins=40)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(len(lengths)))
    for b in batches:
        cost = sum(lengths[i] for i in b)
        assert cost <= 40 or len(b) == 1
    assert [len(lengths) - 1] in batches  # the long one on its own
    # greedy packing: adding the next batch's first example would have overflowed
    for b, nxt in zip(batches, batches[1:]):
        assert sum(lengths[i] for i in b) + lengths[nxt[0]] > 40


def test_batches_hold_similar_lengths_and_respect_batch_size():
    lengths = _lengths(100)
    batches = make_length_batches(lengths, batch_bins=0, batch_size=8)
    assert [len(b) for b in batches] == [8] * 12 + [4]
    maxima = [max(lengths[i] for i in b) for b in batches]
    assert maxima == sorted(maxima)  # sorted by length
    both = make_length_batches(lengths, batch_bins=50, batch_size=4)
    assert all(len(b) <= 4 and (sum(lengths[i] for i in b) <= 50) for b in both)


def test_min_batch_size_for_processes():
    lengths = [30, 30, 30, 5, 5]
    batches = make_length_batches(lengths, batch_bins=20, min_batch_size=2)
    assert all(len(b) >= 2 for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(5))
    with pytest.raises(ConfigError, match="one example per process"):
        make_length_batches([1], batch_bins=10, min_batch_size=2)
    with pytest.raises(ConfigError):
        make_length_batches([1, 2], batch_bins=0, batch_size=0)


def test_epoch_shuffle_is_seeded_and_resumable():
    lengths = _lengths(80)
    s = BucketBatchSampler(lengths, batch_bins=40, seed=7)
    s.set_epoch(1)
    e1 = list(s)
    s.set_epoch(2)
    e2 = list(s)
    assert sorted(map(tuple, e1)) == sorted(map(tuple, e2)) and e1 != e2
    assert sorted(i for b in e1 for i in b) == list(range(80))
    again = BucketBatchSampler(lengths, batch_bins=40, seed=7)
    again.set_epoch(2, start=5)
    assert list(again) == e2[5:]
    assert len(again) == len(e2) - 5
    other_seed = BucketBatchSampler(lengths, batch_bins=40, seed=8)
    other_seed.set_epoch(2)
    assert list(other_seed) != e2


def test_ranks_split_every_global_batch():
    lengths = _lengths(61)
    single = BucketBatchSampler(lengths, batch_bins=40, seed=1, world_size=1)
    ranks = [BucketBatchSampler(lengths, batch_bins=40, seed=1, rank=r, world_size=3) for r in range(3)]
    single.set_epoch(4)
    for r in ranks:
        r.set_epoch(4)
    per_rank = [list(r) for r in ranks]
    assert len({len(p) for p in per_rank}) == 1  # same number of steps everywhere
    assert all(len(b) >= 1 for p in per_rank for b in p)
    merged = [sorted(sum(parts, [])) for parts in zip(*per_rank)]
    assert merged == [sorted(b) for b in ranks[0].global_batches()]
    assert ranks[0].fingerprint() == single.fingerprint() or any(len(b) < 3 for b in single.batches)
