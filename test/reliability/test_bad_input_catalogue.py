"""The bad-input catalogue (doc/reliability.md): every case of ``cases.CASES``, run for real.

For each case: build the valid tree, apply the case's mutation, run the entry point as a
subprocess in the recipe directory, then check

* the exit status (non-zero for a refused input, 0 for one accepted on purpose);
* that the output names what is wrong (the case's ``says``: file and line, or file and utterance);
* that a refusal is one of the toolkit's errors: no traceback, no "rerun with --verbose 2"
  (an unexpected exception), and never torch's advice to load with ``weights_only=False``;
* that a refused input leaves every file of the tree as it was: no output, no half-written
  file, no temporary file (only the job logs a case names in ``may_write`` may appear);
* that an accepted input writes its outputs, and leaves no temporary file either.

Cases marked ``catalogue_long`` run with ``SPEECHBERT_LONG_CATALOGUE=1`` (make reliability-test).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import cases as K
import corpus as C

PYTHON = sys.executable
BIN = C.REPO / "speechbert" / "bin"
TIMEOUT = 600


def _params():
    out = []
    for case in K.CASES:
        marks = [pytest.mark.catalogue_long] if case.long else []
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out


def snapshot(root: Path) -> dict[str, str]:
    """``{relative path: sha256 or link target}`` of every file under ``root`` (links not followed)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        for name in dirnames:
            if (d / name).is_symlink():
                out[str((d / name).relative_to(root))] = "link:" + os.readlink(d / name)
        for name in filenames:
            p = d / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


_DEBRIS = re.compile(r"(^\..*\.(tmp|raw)$)|(\.tmp\.\d+$)|(^\.[^/]*\.tmp)")


def debris(root: Path) -> list[str]:
    """Temporary files of atomic writers and scripts left anywhere under ``root``."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            if _DEBRIS.search(name):
                found.append(str((Path(dirpath) / name).relative_to(root)))
    return found


def _fill(arg: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        arg = arg.replace("{" + k + "}", v)
    return arg


def command(case: K.Case, values: dict[str, str]) -> list[str]:
    args = [_fill(a, values) for a in case.cmd]
    tool = args[0]
    if tool.endswith(".sh"):
        return ["bash", tool, *args[1:]]
    assert (BIN / f"{tool}.py").is_file(), f"no entry point speechbert.bin.{tool}"
    return [PYTHON, "-m", f"speechbert.bin.{tool}", *args[1:]]


_ERROR_LINE = re.compile(r"^[\w.]+: error: ", re.MULTILINE)


def message(case: K.Case, argv: list[str], out: str) -> str:
    """What the case's ``says`` must be found in.

    A Python tool's refusal: its ``<tool>: error: ...`` line to the end (the log lines before it,
    which echo the command line, do not count). Otherwise the whole output without the lines
    that echo the command (a tool naming its own arguments proves nothing).
    """
    if case.rc != 0 and argv[0] == PYTHON:
        found = list(_ERROR_LINE.finditer(out))
        assert found, f"no '<tool>: error:' line in the output of a refused input:\n{out[-4000:]}"
        return out[found[-1].start():]
    if argv[0] == PYTHON:  # "<prog> <args>" in the first log line
        echo = " ".join([case.tool] + [shlex.quote(a) for a in argv[3:]])
    else:  # shell tools echo "$0 $*"
        echo = " ".join(argv[1:])
    return "".join(line for line in out.splitlines(keepends=True) if echo not in line)


def environment(case: K.Case) -> dict[str, str]:
    env = dict(os.environ)
    # PYTHONPATH: the tools of this checkout, whatever checkout the venv's editable install names.
    env.update(OMP_NUM_THREADS="1", LC_ALL="C", PYTHONIOENCODING="UTF-8", PYTHONUNBUFFERED="1",
               PYTHONPATH=str(C.REPO), PATH=f"{Path(PYTHON).parent}:{env.get('PATH', '')}")
    env.pop("cmd_backend", None)
    env.update(dict(case.env))
    return env


@pytest.mark.parametrize("case", _params())
def test_case(case: K.Case, tmp_path: Path, request) -> None:
    root = C.build(tmp_path / "r" / "egs" / "c" / "sqa1")
    values = {"bert_dir": C.fx.bert_dir()}
    if "snapshots" in case.needs:
        C.make_snapshots(root)
    if "models" in case.needs:
        models = request.getfixturevalue("qa_models")
        values.update({k: str(v) for k, v in models.items()})
        (root.parent / ".models.json").write_text(json.dumps({k: str(v) for k, v in models.items()}))
    if case.mutate is not None:
        valid = snapshot(root)
        case.mutate(root)
        assert snapshot(root) != valid, "the mutation changed nothing"
    before = snapshot(root)
    argv = command(case, values)
    proc = subprocess.run(argv, cwd=root, env=environment(case), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=TIMEOUT, check=False)
    out = proc.stdout.decode("utf-8", "replace")
    shown = f"$ {' '.join(case.cmd)}\n--- output (exit {proc.returncode}):\n{out[-6000:]}"

    assert proc.returncode == case.rc, f"exit status {proc.returncode}, expected {case.rc}\n{shown}"
    said = message(case, argv, out)
    for s in case.says:
        assert _fill(s, values) in said, f"the message does not say {s!r}\n{shown}"
    assert "Traceback" not in out, f"a traceback\n{shown}"
    assert "an unexpected error" not in out, f"an unexpected exception, not a toolkit error\n{shown}"
    assert "weights_only" not in out, f"advice about torch.load's weights_only\n{shown}"

    after = snapshot(root)
    left = debris(root)
    assert not left, f"temporary files left behind: {left}\n{shown}"
    if case.rc != 0:
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p)
                         and not any(fnmatch.fnmatch(p, g) for g in case.may_write))
        assert not changed, f"a refused input changed or created files: {changed}\n{shown}"
    for rel in case.outputs:
        assert (root / rel).is_file(), f"accepted input, but {rel} was not written\n{shown}"
    if case.name in K.LOG_SAYS:
        log, what = K.LOG_SAYS[case.name]
        text = (root / log).read_text(encoding="utf-8", errors="replace")
        found = list(_ERROR_LINE.finditer(text))  # the tool's error, not the command the log echoes
        assert found and what in text[found[-1].start():], f"{log} does not name {what!r}:\n{text[-3000:]}\n{shown}"
    if case.check is not None:
        case.check(root)


# -- the catalogue's own shape ----------------------------------------------------------------

def test_catalogue_has_the_cases_of_the_adversarial_review():
    names = [c.name for c in K.CASES]
    assert len(names) == len(set(names)), "case names repeat"
    assert len(K.CASES) >= 88


def test_every_class_is_described_and_has_a_short_case():
    used = {c.klass for c in K.CASES}
    assert used == set(K.CLASSES), f"classes without cases or descriptions: {used ^ set(K.CLASSES)}"
    short = {c.klass for c in K.CASES if not c.long}
    assert short == set(K.CLASSES), f"classes only in the long catalogue: {set(K.CLASSES) - short}"


def test_every_entry_point_and_recipe_stage_has_a_case():
    tools = {c.tool for c in K.CASES}
    entry_points = {p.stem for p in BIN.glob("*.py")} - {"__init__", "cli"}
    assert entry_points <= tools, f"entry points without a case: {sorted(entry_points - tools)}"
    scripts = {"utils/validate_data_dir.sh", "utils/fix_data_dir.sh", "utils/copy_data_dir.sh",
               "utils/subset_data_dir.sh", "utils/split_data.sh", "steps/make_feats.sh", "steps/align.sh", "./sqa.sh"}
    assert scripts <= tools, f"scripts without a case: {sorted(scripts - tools)}"
    stages = {c.stage for c in K.CASES if c.stage}
    assert stages == set(range(1, 11)), f"recipe stages without a case: {sorted(set(range(1, 11)) - stages)}"


def test_doc_describes_every_class_and_the_counts():
    doc = (C.REPO / "doc" / "reliability.md").read_text(encoding="utf-8")
    missing = [k for k in K.CLASSES if f"`{k}`" not in doc]
    assert not missing, f"doc/reliability.md does not describe {missing}"
    short = sum(not c.long for c in K.CASES)
    for figure in (f"{len(K.CASES)} cases", f"{short} short", f"{len(K.CASES) - short} long"):
        assert figure in doc, f"doc/reliability.md does not give the figure {figure!r}"
