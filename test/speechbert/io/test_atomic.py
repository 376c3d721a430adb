"""Tests for speechbert.io.atomic: all-or-nothing file output."""

import errno
import io
import os
import pickle
import stat
import tempfile

import pytest

from speechbert.errors import SpeechbertError, WriteError
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


# ------------------------------------------------------------------ a failed write (disk full)

def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class _FullDiskFile(io.FileIO):
    """A file whose every write fails as on a full disk."""

    def write(self, data):
        _enospc()


@pytest.mark.parametrize("mode", ["w", "wb"])
def test_disk_full_names_the_file_and_leaves_the_old_one(tmp_path, monkeypatch, mode):
    target = tmp_path / "exp" / "x" / "model.avg.pt"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old")
    monkeypatch.setattr(os, "fdopen", _full_fdopen)
    with pytest.raises(WriteError) as info:
        with atomic_open(target, mode) as f:
            f.write("new" if mode == "w" else b"new")
    assert str(info.value) == f"cannot write {target}: No space left on device"
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert isinstance(info.value, SpeechbertError) and isinstance(info.value, OSError)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.avg.pt"]


def _full_fdopen(fd, mode, **kwargs):
    """os.fdopen over a _FullDiskFile: buffered writes fail when they reach the disk."""
    buffered = io.BufferedWriter(_FullDiskFile(fd, "w", closefd=True))
    return buffered if "b" in mode else io.TextIOWrapper(buffered, **kwargs)


def test_disk_full_in_fsync_or_rename_is_reported_too(tmp_path, monkeypatch):
    target = tmp_path / "text"
    monkeypatch.setattr(os, "fsync", _enospc)
    with pytest.raises(WriteError, match=f"^cannot write {target}: No space left on device$"):
        with atomic_open(target) as f:
            f.write("x\n")
    monkeypatch.undo()

    def no_rename(src, dst):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), src, None, dst)

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(WriteError, match="Read-only file system"):
        with atomic_open(target) as f:
            f.write("x\n")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_writer_failing_is_named_after_the_target(tmp_path, monkeypatch):
    """kaldiio / shutil write by name: the OSError names the temporary file (or nothing)."""
    target = tmp_path / "cmvn.ark"
    with pytest.raises(WriteError, match=f"^cannot write {target}: No space left on device$"):
        with atomic_path(target) as tmp:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
    with pytest.raises(WriteError, match=f"^cannot write {target}: Disk quota exceeded$"):
        with atomic_path(target) as tmp:
            # shutil.copyfile reports the source as filename and the destination as filename2
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT), "/src/cmvn.ark", None, str(tmp))
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_input_inside_the_block_is_not_a_write_error(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(FileNotFoundError) as info:
        with atomic_open(target) as f:
            f.write(open(tmp_path / "missing.txt").read())
    assert not isinstance(info.value, WriteError)
    assert list(tmp_path.iterdir()) == []


def test_a_directory_that_cannot_be_made_or_written_is_named(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    with pytest.raises(WriteError, match=f"^cannot write {tmp_path}/file/x/out.txt: cannot create the "
                                         f"directory {tmp_path}/file/x: "):
        with atomic_open(tmp_path / "file" / "x" / "out.txt") as f:
            f.write("x")

    def no_temp(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / ".out.txt.abc.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", no_temp)
    with pytest.raises(WriteError, match=f"^cannot write {tmp_path}/out.txt: No space left on device$"):
        with atomic_open(tmp_path / "out.txt") as f:
            f.write("x")


def test_write_error_survives_pickling():
    err = WriteError("exp/x/checkpoint.pt", "No space left on device", errno.ENOSPC)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is WriteError and str(back) == str(err) and back.errno == errno.ENOSPC
