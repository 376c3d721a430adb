"""Pausing Python's cyclic garbage collector around allocation-heavy work that makes no cycles."""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (re-enabled after it, if it was on).

    Reading and scoring a test set builds about a million small lists, dicts and tuples that all
    live to the end; every automatic collection walks them again, which was ~20 % of the CPU time
    of scoring 10,000 questions (``bench/score.py``). They hold no reference cycles, so reference
    counting frees them all the same; only cycles made inside the block wait for a later collection.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
