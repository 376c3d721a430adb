"""Loading never runs code from a file: every torch.load is weights-only, YAML is safe_load,
nothing unpickles (doc/reliability.md, "security of loading")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "speechbert").rglob("*.py"), *(ROOT / "bench").glob("*.py")])


def _calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            yield (owner.id if isinstance(owner, ast.Name) else None), node.func.attr, node


def test_every_torch_load_is_weights_only():
    bad = []
    for path in SOURCES:
        for owner, name, call in _calls(path):
            if owner == "torch" and name == "load":
                ok = any(k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                         for k in call.keywords)
                if not ok:
                    bad.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not bad, f"torch.load without weights_only=True: {bad}"
    assert len(SOURCES) > 50


def test_no_unsafe_yaml_or_pickle_loading():
    bad = []
    for path in SOURCES:
        for owner, name, call in _calls(path):
            if owner == "yaml" and name in ("load", "unsafe_load", "full_load", "load_all"):
                bad.append(f"{path.relative_to(ROOT)}:{call.lineno}: yaml.{name}")
            if owner in ("pickle", "cloudpickle", "dill") and name in ("load", "loads"):
                bad.append(f"{path.relative_to(ROOT)}:{call.lineno}: {owner}.{name}")
    assert not bad, bad
