"""The machinery of test/kill/kill_anywhere.py, on made-up recipe dirs and process trees (seconds)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load_tool():
    spec = importlib.util.spec_from_file_location("kill_anywhere", HERE / "kill_anywhere.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("kill_anywhere", module)
    spec.loader.exec_module(module)
    return module


ka = _load_tool()


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_normalize_tmp():
    assert ka.normalize_tmp("exp/x/.checkpoint.pt.ab_3k9zq.tmp") == "exp/x/.checkpoint.pt.*.tmp"
    assert ka.normalize_tmp("exp/x/.checkpoint.prev.pt.12345.tmp") == "exp/x/.checkpoint.prev.pt.*.tmp"
    assert ka.normalize_tmp("dump/fbank/train/.feats.scp.tmp") == "dump/fbank/train/.feats.scp.tmp"
    assert ka.TMP_RE.match(".word.ctm.tmp") and not ka.TMP_RE.match("word.ctm.tmp")


def test_copy_state_rewrites_paths_and_links_big_files(tmp_path):
    src = tmp_path / "a" / "recipe"
    _write(src / "data/train/wav.scp", f"u1 {src}/db/u1.wav\n")
    _write(src / "db/u1.wav", b"RIFF" + b"\0" * 10)
    big = _write(src / "exp/m/model.pt", b"\1" * (ka.LINK_MIN_BYTES + 1))
    _write(src / "exp/m/train.log", "x" * (ka.LINK_MIN_BYTES + 1))  # logs are copied, never linked
    (src / "dump/fbank").mkdir(parents=True)
    (src / "dump/fbank/test").symlink_to("dev")
    dst = tmp_path / "b" / "recipe"
    dst.mkdir(parents=True)
    linked: list = []
    ka.copy_state(src, dst, linked)
    assert (dst / "data/train/wav.scp").read_text() == f"u1 {dst}/db/u1.wav\n"
    assert (dst / "exp/m/model.pt").samefile(big)
    assert not (dst / "exp/m/train.log").samefile(src / "exp/m/train.log")
    assert os.readlink(dst / "dump/fbank/test") == "dev"
    assert [x.path for x in linked] == [dst / "exp/m/model.pt"]
    assert ka.check_linked(linked) == []
    with open(big, "r+b") as f:  # an in-place write shows through the link
        f.write(b"\2")
    os.utime(big, ns=(1, 1))
    assert ka.check_linked(linked)


def test_copy_state_refuses_binary_file_naming_its_run_dir(tmp_path):
    src = tmp_path / "a"
    _write(src / "exp/m/x.bin", b"\0\0" + str(src).encode() + b"\0")
    (tmp_path / "b").mkdir()
    with pytest.raises(RuntimeError, match="binary file"):
        ka.copy_state(src, tmp_path / "b", [])


def test_compare_stage_bytes_lost_and_same_inode(tmp_path):
    ref = tmp_path / "ref"
    run = tmp_path / "run"
    _write(ref / "dump/fbank/train/feats.1.ark", b"A" * 100)
    _write(ref / "dump/fbank/train/utt2num_frames", "u1 5\n")
    _write(run / "dump/fbank/train/utt2num_frames", "u1 6\n")  # differs: 5 bytes lost
    (run / "dump/fbank/train/feats.1.ark").hardlink_to(ref / "dump/fbank/train/feats.1.ark")
    _write(run / "dump/fbank/train/.feats.scp.tmp", "debris")  # extra: a difference, no bytes lost
    files, nbytes, diffs, lost = ka.compare_stage(ref, run, [2])
    assert files == 3 and nbytes == 105 and lost == 5
    assert sorted(rel for rel, _ in diffs) == ["dump/fbank/train/.feats.scp.tmp", "dump/fbank/train/utt2num_frames"]


def _fake_recipe(tmp_path: Path, body: str) -> Path:
    recipe = tmp_path / "recipe"
    run_sh = _write(recipe / "run.sh", "#!/usr/bin/env bash\nset -euo pipefail\n" + body)
    run_sh.chmod(0o755)
    (recipe / "exp").mkdir()
    return recipe


def test_kill_on_temp_file_kills_the_whole_session(tmp_path):
    # run.sh starts a job in its own process group (as utils/run.pl does) that writes a temp file.
    recipe = _fake_recipe(tmp_path, "perl -e 'setpgrp(0, 0); exec @ARGV' bash -c "
                                    "'sleep 0.3; echo x > exp/.model.pt.abcd1234.tmp; sleep 60' &\nsleep 60\n")
    runner = ka.Runner(recipe, [], dict(os.environ), tmp_path / "log")
    t0 = time.monotonic()
    a = runner.run(7, kill_on_tmp=("exp/.model.pt.*.tmp", 1, 60.0), timeout=30)
    assert a.outcome == "killed" and time.monotonic() - t0 < 20
    assert a.tmp_at_kill == ["exp/.model.pt.abcd1234.tmp"]
    assert a.processes_killed >= 3  # run.sh, the job's bash, the sleeps
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert "echo x > exp/.model.pt" not in out


def test_timed_kill_and_record(tmp_path):
    recipe = _fake_recipe(tmp_path, "echo a > exp/.a.tmp; sleep 0.2; mv exp/.a.tmp exp/a; sleep 60\n")
    runner = ka.Runner(recipe, [], dict(os.environ), tmp_path / "log")
    seen: list = []
    a = runner.run(2, kill_after=1.0, record=seen, timeout=30)
    assert a.outcome == "killed" and 0.9 < a.seconds < 10
    assert [w.path for w in seen] == ["exp/.a.tmp"] and seen[0].polls > 1 and a.tmp_at_kill == []


def test_a_temp_file_left_by_an_earlier_attempt_is_no_write_of_this_one(tmp_path):
    recipe = _fake_recipe(tmp_path, "sleep 0.5; echo b > exp/.b.abcd1234.tmp; sleep 60\n")
    _write(recipe / "exp/.b.zyxw9876.tmp", "left by a kill")
    runner = ka.Runner(recipe, [], dict(os.environ), tmp_path / "log")
    a = runner.run(2, kill_on_tmp=("exp/.b.*.tmp", 1, 60.0), timeout=30)
    assert a.outcome == "killed" and a.seconds > 0.4
    assert a.tmp_at_kill == ["exp/.b.abcd1234.tmp", "exp/.b.zyxw9876.tmp"]


def test_a_process_outliving_run_sh_is_a_failure(tmp_path):
    recipe = _fake_recipe(tmp_path, "perl -e 'setpgrp(0, 0); exec @ARGV' sleep 60 &\nexit 0\n")
    runner = ka.Runner(recipe, [], dict(os.environ), tmp_path / "log")
    a = runner.run(8, timeout=30)
    assert a.outcome == "failed" and a.trigger == "processes outlived run.sh"
    assert "processes left running" in (tmp_path / "log").read_text()


def test_temp_files_hidden_dirs_and_debris(tmp_path):
    _write(tmp_path / "exp/m/.model.pt.abcd1234.tmp", "x")
    _write(tmp_path / "dump/fbank/train/.feats.1.scp.x83qizho.raw", "x")  # any hidden file is debris
    (tmp_path / "data/.train.k2j3h4g5").mkdir(parents=True)  # a hidden temporary directory
    _write(tmp_path / "data/.train.k2j3h4g5/text", "x")
    _write(tmp_path / ".RESULTS.md.abcd1234.tmp", "x")
    _write(tmp_path / "exp/m/model.pt", "x")
    assert ka.temp_files(tmp_path) == [".RESULTS.md.abcd1234.tmp", "data/.train.k2j3h4g5",
                                       "dump/fbank/train/.feats.1.scp.x83qizho.raw", "exp/m/.model.pt.abcd1234.tmp"]
    assert ka.normalize_tmp("dump/fbank/train/.feats.1.scp.x83qizho.raw") == "dump/fbank/train/.feats.1.scp.*.raw"


def test_library_temp_files_are_named_for_the_cleanup():
    """Every mkstemp in speechbert/ names its file .<name>.<random>...tmp, which the clean-up of a
    killed run's leftovers (remove_orphaned_temps, steps/*.sh: ``-name '.*.tmp'``) removes."""
    import re

    root = HERE.parents[1] / "speechbert"
    bad = []
    for py in sorted(root.rglob("*.py")):
        for m in re.finditer(r"mkstemp\((.*?)\)", py.read_text(encoding="utf-8"), flags=re.S):
            args = m.group(1)
            if not re.search(r"""prefix=f?["']\.""", args) or not re.search(r"""suffix=["'][^"']*\.tmp["']""", args):
                bad.append(f"{py.relative_to(root.parent)}: mkstemp({args})")
    assert not bad, "temporary files the clean-up would not find:\n" + "\n".join(bad)
