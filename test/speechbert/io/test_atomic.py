"""Tests for speechbert.io.atomic: all-or-nothing file output."""

import os
import stat

import pytest

from speechbert.io.atomic import atomic_open, atomic_path


def test_atomic_open_replaces_content_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_open(target) as f:
        f.write("first\n")
    with atomic_open(target) as f:
        f.write("second\n")
    assert target.read_text() == "second\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_atomic_open_keeps_old_content_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as f:
            f.write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_path_for_writers_that_need_a_name(tmp_path):
    target = tmp_path / "blob.bin"
    with atomic_path(target) as tmp:
        assert tmp != target and tmp.parent == target.parent
        tmp.write_bytes(b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    with pytest.raises(ValueError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise ValueError
    assert target.read_bytes() == b"\x00\x01"


def test_new_files_get_umask_permissions_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_open(tmp_path / "a.txt") as f:
            f.write("x")
        with atomic_path(tmp_path / "b.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    for name in ("a.txt", "b.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


def test_read_modes_are_refused(tmp_path):
    with pytest.raises(ValueError):
        with atomic_open(tmp_path / "x", mode="a"):
            pass
