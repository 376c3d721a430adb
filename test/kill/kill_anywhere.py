#!/usr/bin/env python3
"""Kill-anywhere test: kill recipe stages at random points, re-run them, compare with a clean run.

    kill_anywhere.py [--short | --long] [--kills N] [--seed S] [--stages "2 4 7 8"] [--size 0.1]
                     [--train_args STR] [--workdir DIR] [--keep] [--json FILE] [-- RUN.SH ARGS]

1. A reference run of the mini recipe (tiny corpus, short training) goes stage by stage,
   uninterrupted, in a fresh copy of the recipe; each stage's wall time is measured and the hidden
   temporary files of the atomic writers (``.<name>.<random>.tmp``: archives, checkpoints, tables)
   are watched for, so that kills can be aimed at those writes. The state of the recipe dir before
   and after every tested stage is kept (hard links for big files, so it costs little disk).
2. For every tested stage K a fresh recipe copy gets the reference's state before K, then
   ``./run.sh --stage K --stop_stage K`` is started in its own session and SIGKILLed -- every
   process of the session at once, as a crash would (stopped with SIGSTOP first, so none can react
   to the others dying; utils/run.pl puts each job in its own process group, so killing run.sh's
   group alone would leave the jobs running) -- N times, alternating: at a seeded random time
   within the stage's duration ("timed"), or the moment a seeded choice of temporary file appears
   ("write": a random moment within a write, the long writes -- archives, checkpoints, models --
   being the likely ones). Each attempt resumes or redoes what the last one left. Then the stage
   runs to completion.
3. After completion no temporary file (any hidden file or directory) may remain in the recipe
   dir's outputs, and every output of stages 1..K must equal the reference's
   (``test/integration/compare_runs.py``: bytes, model files with torch.equal); "bytes lost" is the
   size of every reference file that the killed run lacks or got wrong.

``--short`` (the default, CI) is 1 kill per stage and 2 training updates; ``--long``
(``make kill-test``) 5 kills per stage and 6 updates. Both checkpoint after every update
(``--save_interval_steps 1``), so that a kill in mid-epoch resumes in mid-epoch.

Exit status: 0 every stage survived its kills, 1 a difference, debris or a stage that could not
finish, 2 usage error, 3 the reference run failed.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import importlib.util
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = "mini_spoken_squad"
TOP_LEVEL = ("data", "db", "dump", "exp", "RESULTS.md")  # what a stage writes (compare_runs.TOP_LEVEL)
WATCH_TOP_LEVEL = ("data", "dump", "exp")
TMP_RE = re.compile(r"^\..+\.tmp$")  # the atomic writers' temporary files (speechbert.io.atomic)
# .<name>.<8 random chars>.tmp (mkstemp) or .<name>.<pid>.tmp -> .<name>.*.tmp
TMP_RANDOM_RE = re.compile(r"\.([a-z0-9_]{8}|[0-9]+)(\.[A-Za-z]+)$")
LINK_MIN_BYTES = 64 << 10  # snapshot files at least this big are hard links (logs never), smaller ones copies
PATH_SCAN_MAX_BYTES = 8 << 20  # files up to this size are checked for the run dir's absolute path
POLL_S = 0.005
SHORT = {"kills": 1, "train_args": "--max_epoch 1 --max_steps 2 --save_interval_steps 1"}
LONG = {"kills": 5, "train_args": "--max_epoch 1 --max_steps 6 --save_interval_steps 1"}


def log(msg: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} (kill_anywhere) {msg}", file=sys.stderr, flush=True)


def load_compare_runs() -> Any:
    spec = importlib.util.spec_from_file_location("compare_runs", ROOT / "test" / "integration" / "compare_runs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("compare_runs", module)
    spec.loader.exec_module(module)
    return module


cr = load_compare_runs()


# ---------------------------------------------------------------------------- recipe copies


def copy_code(workdir: Path) -> Path:
    """The code every run uses: a copy taken now (as repro_check.sh does), first on PYTHONPATH."""
    code = workdir / "code"
    (code / "egs").mkdir(parents=True)
    for name in ("speechbert", "utils", "steps"):
        shutil.copytree(ROOT / name, code / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "egs" / "TEMPLATE", code / "egs" / "TEMPLATE", symlinks=True)
    return code


def make_run_dir(run_root: Path, code: Path) -> Path:
    """A run root laid out like the repository (as repro_check.sh's make_run_dir); the recipe dir."""
    src = ROOT / "egs" / CORPUS / "sqa1"
    dst = run_root / "egs" / CORPUS / "sqa1"
    dst.mkdir(parents=True)
    for name in ("utils", "steps"):
        (run_root / name).symlink_to(code / name)
    (run_root / "tools").symlink_to(ROOT / "tools")
    (run_root / "egs" / "TEMPLATE").symlink_to(code / "egs" / "TEMPLATE")
    for f in sorted(src.iterdir()):
        if f.name in ("data", "db", "dump", "exp", "downloads", "tensorboard", "RESULTS.md"):
            continue
        if f.is_symlink():
            (dst / f.name).symlink_to(os.readlink(f))
        elif f.is_dir():
            shutil.copytree(f, dst / f.name, symlinks=True)
        else:
            shutil.copy2(f, dst / f.name)
    return dst


def path_spellings(d: Path) -> list[bytes]:
    names = {str(d.absolute()), os.path.realpath(d)}
    return sorted((n.encode() for n in names), key=len, reverse=True)


@dataclasses.dataclass
class Linked:
    """A hard-linked file and what it looked like when linked (an in-place write would change it)."""

    path: Path
    size: int
    mtime_ns: int


def copy_state(src: Path, dst: Path, linked: list[Linked]) -> None:
    """Copy a recipe dir's outputs (TOP_LEVEL) from ``src`` into ``dst``, renaming ``src`` to ``dst``.

    Files naming ``src`` by absolute path (wav.scp, feats.scp) are rewritten; big files are hard
    links (their writers replace files by rename, never in place: ``check_linked`` verifies it).
    """
    old, new = path_spellings(src), str(dst.absolute()).encode()
    for top in TOP_LEVEL:
        s = src / top
        if not (s.exists() or s.is_symlink()):
            continue
        entries = [(s, dst / top)] if not s.is_dir() or s.is_symlink() else []
        if s.is_dir() and not s.is_symlink():
            for dirpath, dirnames, filenames in os.walk(s):
                rel = Path(dirpath).relative_to(src)
                (dst / rel).mkdir(parents=True, exist_ok=True)
                for d in list(dirnames):
                    if os.path.islink(os.path.join(dirpath, d)):
                        filenames.append(d)
                        dirnames.remove(d)
                entries.extend((Path(dirpath) / f, dst / rel / f) for f in filenames)
        for a, b in entries:
            if a.is_symlink():
                target = os.readlink(a).encode()
                for o in old:
                    target = target.replace(o, new)
                os.symlink(target.decode(), b)
                continue
            st = a.stat()
            if st.st_size <= PATH_SCAN_MAX_BYTES:
                data = a.read_bytes()
                if any(o in data for o in old):
                    if b"\0" in data:
                        raise RuntimeError(f"{a}: a binary file naming its run dir by absolute path "
                                           "cannot be moved to another run dir")
                    for o in old:
                        data = data.replace(o, new)
                    b.write_bytes(data)
                    shutil.copystat(a, b)
                    continue
            if st.st_size >= LINK_MIN_BYTES and not cr.is_skipped(a.relative_to(src).as_posix()):
                os.link(a, b)
                linked.append(Linked(b, st.st_size, st.st_mtime_ns))
            else:
                shutil.copy2(a, b)


def check_linked(linked: list[Linked]) -> list[str]:
    """Hard-linked files that changed in place (a writer that does not replace files atomically)."""
    bad = []
    for item in linked:
        try:
            st = item.path.stat()
        except FileNotFoundError:
            continue  # replaced or removed: the other links keep the old content
        if (st.st_size, st.st_mtime_ns) != (item.size, item.mtime_ns):
            bad.append(f"{item.path} was written in place (size {item.size} -> {st.st_size})")
    return bad


def temp_files(recipe: Path, tops: tuple[str, ...] = TOP_LEVEL) -> list[str]:
    """The temporary files and directories under the recipe dir's outputs (relative paths, sorted).

    That is every hidden entry (``.*``: the atomic writers' ``.<name>.<random>.tmp``, and any other
    hidden file or directory a writer makes), plus ``.*.tmp`` files in the recipe dir itself
    (stage 10 writes RESULTS.md there). No output of the recipe is hidden.
    """
    found = [f.name for f in os.scandir(recipe) if TMP_RE.match(f.name) and f.is_file()]
    for top in tops:
        p = recipe / top
        if not p.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(p):
            hidden = [d for d in dirnames if d.startswith(".")]
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            found.extend(os.path.relpath(os.path.join(dirpath, f), recipe)
                         for f in filenames + hidden if f.startswith("."))
    return sorted(found)


def normalize_tmp(rel: str) -> str:
    """``.checkpoint.pt.k3j_a9zq.tmp`` -> ``.checkpoint.pt.*.tmp`` (the random part or a pid)."""
    return TMP_RANDOM_RE.sub(r".*\2", rel)


# ---------------------------------------------------------------------------- processes


def become_subreaper() -> None:
    """Orphaned descendants of the runs become our children (Linux), so we can reap them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, session) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()
    return fields[0].decode(), int(fields[1]), int(fields[3])


def session_pids(sid: int) -> dict[int, str]:
    """Live (non-zombie) processes of session ``sid`` and of our own process tree: pid -> state.

    Our tree counts too (we are the subreaper of the runs' orphans): a job that left the session
    (setsid) is still found.
    """
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st is not None and st[0] not in ("Z", "X"):
                stats[int(name)] = st
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    ours, todo = set(), list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        if pid not in ours:
            ours.add(pid)
            todo.extend(children.get(pid, []))
    return {pid: st[0] for pid, st in stats.items() if st[2] == sid or pid in ours}


def reap_orphans(keep: int | None = None) -> None:
    """Reap the exited children we inherited as subreaper (not the run we wait for ourselves)."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == keep:
            continue
        st = proc_stat(int(name))
        if st is not None and st[1] == me and st[0] == "Z":
            try:
                os.waitpid(int(name), os.WNOHANG)
            except ChildProcessError:
                pass


def kill_session(sid: int) -> int:
    """SIGSTOP every process of the session until none runs, then SIGKILL them all; wait until gone."""
    stopped: set[int] = set()
    for _ in range(200):
        running = {p for p, s in session_pids(sid).items() if s not in ("T", "t")}
        if not running:
            break
        for p in running:
            try:
                os.kill(p, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped |= running
        time.sleep(0.002)
    victims = set(session_pids(sid))
    for p in victims:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 30
    while session_pids(sid):
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of session {sid} survive SIGKILL: {session_pids(sid)}")
        for p in session_pids(sid):
            with_suppress_kill(p)
        time.sleep(0.01)
    return len(stopped | victims)


def with_suppress_kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@dataclasses.dataclass
class Write:
    """A temporary file that appeared during an attempt: a write in progress."""

    path: str  # normalized (normalize_tmp)
    at: float = 0.0  # seconds into the attempt when it was first seen
    polls: int = 1  # how many polls saw it: > 1 for a write that lasts (an archive, a checkpoint)


@dataclasses.dataclass
class Attempt:
    outcome: str  # "killed", "finished" (rc 0), "failed" (rc != 0), "timeout"
    rc: int | None
    seconds: float
    processes_killed: int = 0
    tmp_at_kill: list[str] = dataclasses.field(default_factory=list)
    trigger: str = ""


class Runner:
    """Starts ``./run.sh`` in a recipe dir, in its own session, and watches or kills it."""

    def __init__(self, recipe: Path, common: list[str], env: dict[str, str], log_path: Path) -> None:
        self.recipe, self.common, self.env, self.log_path = recipe, common, env, log_path

    def run(self, stage: int, *, kill_after: float | None = None,
            kill_on_tmp: tuple[str, int, float] | None = None, record: list[Write] | None = None,
            timeout: float = 1800.0) -> Attempt:
        """One attempt at ``stage``.

        kill_after: SIGKILL the session after this many seconds; kill_on_tmp: (normalized temp file
        path, n, t) kill the moment its n-th instance appears, or failing that (a resumed stage
        skips writes) at the first temp file to appear after t seconds; record: append every temp
        file seen (the attempt's write events).
        """
        cmd = ["./run.sh", "--stage", str(stage), "--stop_stage", str(stage), *self.common]
        watch = kill_on_tmp is not None or record is not None
        tops = TOP_LEVEL if stage == 1 else WATCH_TOP_LEVEL  # db/ (stage 1's recordings) for stage 1 only
        seen: dict[str, Write] = {rel: Write(normalize_tmp(rel)) for rel in temp_files(self.recipe, tops)}
        counts: dict[str, int] = {}
        with open(self.log_path, "a", encoding="utf-8") as logf:
            logf.write(f"\n### {time.strftime('%H:%M:%S')} {shlex.join(cmd)}"
                       f"{f' (kill after {kill_after:.2f} s)' if kill_after is not None else ''}"
                       f"{f' (kill at {kill_on_tmp[0]} #{kill_on_tmp[1]})' if kill_on_tmp else ''}\n")
            logf.flush()
            start = time.monotonic()
            proc = subprocess.Popen(cmd, cwd=self.recipe, env=self.env, stdout=logf, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            trigger = ""
            try:
                while True:
                    rc = proc.poll()
                    now = time.monotonic() - start
                    if rc is not None:
                        break
                    if kill_after is not None and now >= kill_after:
                        trigger = f"timed {kill_after:.2f} s"
                        break
                    if now > timeout:
                        trigger = "timeout"
                        break
                    if watch:
                        for rel in temp_files(self.recipe, tops):
                            if rel in seen:  # still there (or left by an earlier attempt)
                                seen[rel].polls += 1
                                continue
                            norm = normalize_tmp(rel)
                            seen[rel] = Write(norm, now)
                            counts[norm] = counts.get(norm, 0) + 1
                            if record is not None:
                                record.append(seen[rel])
                            if kill_on_tmp is not None and ((norm, counts[norm]) == kill_on_tmp[:2]
                                                            or now > kill_on_tmp[2]):
                                trigger = f"write {norm} #{counts[norm]} at {now:.2f} s"
                                break
                        if trigger:
                            break
                    time.sleep(POLL_S if watch else 0.02)
                seconds = time.monotonic() - start
                if rc is not None and not trigger:
                    # run.sh is done; nothing of its session may outlive it.
                    left = session_pids(proc.pid)
                    if left:
                        logf.write(f"### processes left running after run.sh exited: {left}\n")
                        kill_session(proc.pid)
                        return Attempt("failed", rc, seconds, trigger="processes outlived run.sh")
                    return Attempt("finished" if rc == 0 else "failed", rc, seconds)
                n = kill_session(proc.pid)
                proc.wait()
                left = temp_files(self.recipe)
                logf.write(f"### killed {n} process(es) ({trigger}); temp files left: {left or 'none'}\n")
                return Attempt("timeout" if trigger == "timeout" else "killed", None, seconds, n, left, trigger)
            finally:
                if proc.poll() is None:
                    kill_session(proc.pid)
                    proc.wait()
                reap_orphans(keep=proc.pid)


# ---------------------------------------------------------------------------- the test


@dataclasses.dataclass
class StageReport:
    stage: int
    ref_seconds: float
    write_events: int = 0
    kills_timed: int = 0
    kills_write: int = 0
    kills_mid_write: int = 0  # kills that left a temp file behind (a write was in progress)
    temps_left_by_kills: int = 0
    attempts_finished_early: int = 0  # the stage completed before its kill time
    completion_seconds: float = 0.0
    files_compared: int = 0
    bytes_compared: int = 0
    differing: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    bytes_lost: int = 0
    debris: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def kills(self) -> int:
        return self.kills_timed + self.kills_write

    @property
    def ok(self) -> bool:
        return not (self.differing or self.debris or self.errors)


def compare_stage(ref: Path, run: Path, stages: list[int]) -> tuple[int, int, list[tuple[str, str]], int]:
    """compare_runs over ``stages``: (files compared, bytes compared, differences, bytes lost).

    A file that is the same inode in both (a hard link the stage never replaced) is equal without
    being read again.
    """
    original = cr.compare_file

    def compare_file(rel: str, ctx: Any) -> str | None:
        pa, pb = ctx.a / rel, ctx.b / rel
        if not pa.is_symlink() and not pb.is_symlink() and pa.is_file() and pb.is_file() and pa.samefile(pb):
            return None
        return original(rel, ctx)

    cr.compare_file = compare_file
    try:
        results, _ = cr.compare_runs(ref, run, stages, all_diffs=True)
    finally:
        cr.compare_file = original
    files = sum(r.compared for r in results.values())
    diffs = [d for r in results.values() for d in (r.diffs or [])]
    nbytes = 0
    for rel in set(cr.list_files(ref)):
        if not cr.is_skipped(rel) and cr.stage_of(rel) in stages and (ref / rel).is_file():
            nbytes += (ref / rel).stat().st_size
    # Bytes lost: the reference's outputs that the killed run lacks or got wrong (an extra file in
    # the killed run is debris, not a loss; it is reported as a difference all the same).
    lost = sum((ref / rel).stat().st_size for rel, _ in diffs if (ref / rel).is_file())
    return files, nbytes, diffs, lost


def parse_stage_list(spec: str) -> list[int]:
    out = []
    for tok in spec.replace(",", " ").split():
        if not tok.isdigit() or not 1 <= int(tok) <= 10:
            raise argparse.ArgumentTypeError(f"--stages {spec!r}: {tok!r} is not a stage number (1-10)")
        out.append(int(tok))
    if not out:
        raise argparse.ArgumentTypeError("--stages: empty")
    return sorted(set(out))


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kill_anywhere.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("--short", action="store_true",
                   help=f"the CI version: --kills {SHORT['kills']}, --train_args {SHORT['train_args']!r} (default)")
    p.add_argument("--long", action="store_true",
                   help=f"the `make kill-test` version: --kills {LONG['kills']}, --train_args {LONG['train_args']!r}")
    p.add_argument("--kills", type=int, default=None, help="kills per stage (timed and at-write kills alternate)")
    p.add_argument("--seed", type=int, default=1, help="seed of the kill times and targets")
    p.add_argument("--stages", type=parse_stage_list, default=parse_stage_list("2 4 7 8"),
                   help='stages to kill, e.g. "2 4 7 8" (the reference runs stages 1..max)')
    p.add_argument("--size", default="0.1", help="mini corpus size (local/data.sh --size)")
    p.add_argument("--train_args", default=None, help="options of every training tool, in both runs")
    p.add_argument("--workdir", type=Path, default=None, help="where the runs go (a new directory; default: mktemp -d)")
    p.add_argument("--keep", action="store_true", help="keep the work dir after a passing test (a failing one is kept)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    p.add_argument("recipe_args", nargs="*", metavar="-- ARGS",
                   help="more run.sh options for every run, after --, e.g. -- --nj 1")
    return p


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    if args.short and args.long:
        print("kill_anywhere.py: error: --short and --long exclude each other", file=sys.stderr)
        return 2
    preset = LONG if args.long else SHORT
    kills = preset["kills"] if args.kills is None else args.kills
    train_args = preset["train_args"] if args.train_args is None else args.train_args
    if kills < 0:
        print("kill_anywhere.py: error: --kills must be >= 0", file=sys.stderr)
        return 2
    if args.workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="kill_anywhere.", dir=os.environ.get("TMPDIR", "/tmp")))
    else:
        if args.workdir.exists():
            print(f"kill_anywhere.py: error: --workdir {args.workdir} exists; give a new path", file=sys.stderr)
            return 2
        args.workdir.mkdir(parents=True)
        workdir = args.workdir
    workdir = workdir.resolve()
    t0 = time.monotonic()
    become_subreaper()

    code = copy_code(workdir)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    common = ["--local_data_opts", f"--size {args.size} --seed 1", "--train_args", train_args, *args.recipe_args]
    stages = args.stages
    last = max(stages)
    log(f"work dir {workdir}; stages {' '.join(map(str, stages))}, {kills} kill(s) each, seed {args.seed}, "
        f"corpus size {args.size}, train args {train_args!r}"
        f"{', run.sh ' + shlex.join(args.recipe_args) if args.recipe_args else ''}")

    # 1. The reference: stage by stage, uninterrupted; states kept before and after each tested stage.
    ref = make_run_dir(workdir / "ref", code)
    ref_runner = Runner(ref, common, env, workdir / "ref.log")
    snapshots: dict[int, Path] = {}  # state after stage k
    linked: list[Linked] = []
    keep_after = {s - 1 for s in stages} | set(stages)
    ref_seconds: dict[int, float] = {}
    events: dict[int, list[Write]] = {}
    if 0 in keep_after:
        snapshots[0] = workdir / "snap" / "after_0"
        snapshots[0].mkdir(parents=True)
    for k in range(1, last + 1):
        rec: list[Write] | None = [] if k in stages else None
        a = ref_runner.run(k, record=rec)
        if a.outcome != "finished":
            log(f"Error: reference stage {k} failed (exit {a.rc}); see {workdir / 'ref.log'}")
            subprocess.run(["tail", "-n", "30", str(workdir / "ref.log")], check=False)
            return 3
        ref_seconds[k] = a.seconds
        if rec is not None:
            events[k] = rec
        log(f"reference stage {k}: {a.seconds:.1f} s" + (
            f", {len(rec)} temp-file writes seen ({sum(w.polls > 1 for w in rec)} lasting)" if rec is not None else ""))
        debris = temp_files(ref)
        if debris:
            log(f"Error: the uninterrupted stage {k} left temp files: {' '.join(debris)}")
            return 1
        if k in keep_after:
            snapshots[k] = workdir / "snap" / f"after_{k}"
            snapshots[k].mkdir(parents=True)
            copy_state(ref, snapshots[k], linked)
    ref_total = time.monotonic() - t0
    log(f"reference done in {ref_total:.0f} s")

    # 2. Each tested stage: from the reference's state before it, killed `kills` times, then completed.
    reports = []
    for k in stages:
        rep = StageReport(k, ref_seconds[k], write_events=len(events[k]))
        reports.append(rep)
        run_root = workdir / "kill" / f"stage{k}"
        recipe = make_run_dir(run_root, code)
        copy_state(snapshots[k - 1], recipe, linked)
        runner = Runner(recipe, common, env, run_root / "kill.log")
        rng = random.Random(f"kill-anywhere {args.seed} stage {k}")
        # What an attempt does when it is not killed: the last one that finished (the reference at
        # first; later a re-run of a finished stage, which a trainer makes short).
        expected, candidates = ref_seconds[k], events[k]
        attempts = 0
        while rep.kills < kills and attempts < 3 * kills + 3:
            attempts += 1
            # At-write and timed kills alternate, starting with an at-write one on every other stage
            # (the first, third ... tested stage: with stages 2 4 7 8, archives and checkpoints).
            want_write = (rep.kills + stages.index(k)) % 2 == 0 and bool(candidates)
            seen: list[Write] = []
            if want_write:
                # A random moment within a write: each write weighted by how long it was seen, so
                # the long ones (archives, checkpoints, models) are the likely targets and the kill
                # lands while the write is in progress.
                i = rng.choices(range(len(candidates)), weights=[w.polls for w in candidates])[0]
                norm = candidates[i].path
                n = sum(w.path == norm for w in candidates[:i + 1])
                late = 1.2 * candidates[i].at + 0.5  # its time in the run it was seen in, and some slack
                a = runner.run(k, kill_on_tmp=(norm, n, late), record=seen, timeout=max(300.0, 10 * ref_seconds[k]))
            else:
                delay = rng.uniform(0.02, 0.98) * expected
                a = runner.run(k, kill_after=delay, record=seen, timeout=max(300.0, 10 * ref_seconds[k]))
            if a.outcome == "killed":
                if want_write:
                    rep.kills_write += 1
                else:
                    rep.kills_timed += 1
                rep.temps_left_by_kills += len(a.tmp_at_kill)
                rep.kills_mid_write += bool(a.tmp_at_kill)
                log(f"stage {k}: kill {rep.kills}/{kills} ({a.trigger}, {a.processes_killed} processes)"
                    f"{'; temp files left: ' + ' '.join(a.tmp_at_kill) if a.tmp_at_kill else ''}")
            elif a.outcome == "finished":
                rep.attempts_finished_early += 1
                expected = a.seconds
                candidates = seen or candidates
                target = f"the write {norm} #{n}" if want_write else f"{delay:.2f} s"
                log(f"stage {k}: finished in {a.seconds:.1f} s, before its kill ({target}); trying again")
            else:
                rep.errors.append(f"attempt {attempts}: {a.outcome} (exit {a.rc}) {a.trigger}".rstrip())
                log(f"Error: stage {k}: an attempt after a kill {a.outcome} (exit {a.rc}); see {run_root / 'kill.log'}")
                break
        if rep.kills < kills and not rep.errors:
            rep.errors.append(f"only {rep.kills} of {kills} kills landed in {attempts} attempts")
        if not rep.errors:
            a = runner.run(k, timeout=max(300.0, 10 * ref_seconds[k]))
            rep.completion_seconds = a.seconds
            if a.outcome != "finished":
                rep.errors.append(f"the stage could not finish after its kills: {a.outcome} (exit {a.rc}) "
                                  f"{a.trigger}".rstrip())
                log(f"Error: stage {k} could not finish after its kills; see {run_root / 'kill.log'}")
        rep.debris = temp_files(recipe)
        rep.files_compared, rep.bytes_compared, rep.differing, rep.bytes_lost = compare_stage(
            snapshots[k], recipe, list(range(1, k + 1)))
        state = "OK" if rep.ok else "FAILED"
        log(f"stage {k}: {state}: {rep.kills} kills ({rep.kills_timed} timed, {rep.kills_write} at a write; "
            f"{rep.kills_mid_write} left temp files), {rep.files_compared} files of stages 1-{k} compared, "
            f"{len(rep.differing)} differ, {rep.bytes_lost} bytes lost, {len(rep.debris)} temp files left")
        for rel, why in rep.differing[:20]:
            log(f"stage {k}:   DIFFERS: {rel} ({why})")
        for rel in rep.debris:
            log(f"stage {k}:   DEBRIS: {rel}")
        for e in rep.errors:
            log(f"stage {k}:   ERROR: {e}")
    in_place = check_linked(linked)
    for msg in in_place:
        log(f"Error: {msg}")

    # 3. The summary.
    total = time.monotonic() - t0
    print()
    print(f"kill-anywhere test: seed {args.seed}, corpus size {args.size}, train args {train_args!r}")
    hdr = ("stage", "ref s", "kills", "timed", "write", "mid-write", "early", "files", "MB", "differ", "lost B", "debris")
    print("  ".join(f"{h:>9}" for h in hdr))
    for r in reports:
        row = (r.stage, f"{r.ref_seconds:.1f}", r.kills, r.kills_timed, r.kills_write, r.kills_mid_write,
               r.attempts_finished_early, r.files_compared, f"{r.bytes_compared / 1e6:.1f}", len(r.differing),
               r.bytes_lost, len(r.debris))
        print("  ".join(f"{v:>9}" for v in row))
    tried = sum(r.kills for r in reports)
    survived = sum(r.kills for r in reports if r.ok)
    lost = sum(r.bytes_lost for r in reports)
    print(f"kills tried {tried}, survived {survived}; files compared {sum(r.files_compared for r in reports)}; "
          f"bytes lost {lost}; wall time {total:.0f} s (reference {ref_total:.0f} s)")
    ok = all(r.ok for r in reports) and not in_place
    if args.json is not None:
        args.json.write_text(json.dumps({
            "seed": args.seed, "size": args.size, "train_args": train_args, "kills_per_stage": kills,
            "kills_tried": tried, "kills_survived": survived, "bytes_lost": lost, "wall_s": round(total, 1),
            "reference_s": round(ref_total, 1), "ok": ok, "in_place_writes": in_place,
            "stages": [dataclasses.asdict(r) | {"kills": r.kills} for r in reports]}, indent=1) + "\n")
    if ok:
        log("every killed stage resumed to the reference's bytes, with no temp files left")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"work dir kept: {workdir}")
        return 0
    log(f"FAILED; work dir kept: {workdir}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
