"""gc_paused: the collector is off inside the block and back as it was after it, errors included."""

import gc

import pytest

from speechbert.gc_pause import gc_paused


def test_collector_is_off_inside_and_restored_after():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError):
        with gc_paused():
            raise KeyError("x")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off():
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_no_collection_runs_inside_the_block():
    seen = []
    def count(phase, info):
        if phase == "start":
            seen.append(info["generation"])
    gc.callbacks.append(count)
    try:
        with gc_paused():
            junk = [[i] for i in range(200_000)]  # far past the gen-0 threshold of 700
            del junk
        assert seen == []
        junk = [[i] for i in range(200_000)]
        assert seen  # outside, the same allocations do trigger collections
    finally:
        gc.callbacks.remove(count)
