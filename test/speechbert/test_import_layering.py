"""The import direction of the package (doc/design.md, "Layering").

Every ``import`` statement counts, wherever it is (module level, inside a function, under
``TYPE_CHECKING``): a lazy import still ties two modules together.

- library code never imports ``speechbert.bin`` (the entry points import the library);
- ``speechbert.train`` never imports ``speechbert.tasks`` (the trainer sees a task through
  ``speechbert.train.task_protocol``);
- a task module (one defining a subclass of ``AbsTask``) never imports another task module;
- model classes (``nn.Module`` subclasses) live in ``speechbert.nets``, not in ``speechbert.tasks``;
- there is no import cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "speechbert"


def module_files(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the package."""
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imported_modules(name: str, path: Path, known: set[str], top: str) -> set[str]:
    """The package modules that ``path`` (module ``name``) imports anywhere in its code."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [(module, [a.name for a in node.names])]
        else:
            continue
        for module, names in targets:
            if module != top and not module.startswith(top + "."):
                continue
            subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in known]
            found.update(subs or [module])
    return {m for m in found if m != name}


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports (only modules that exist)."""
    files = module_files(package_dir)
    known = set(files)
    top = package_dir.name
    graph = {}
    for name, path in files.items():
        deps = imported_modules(name, path, known, top)
        # ``import a.b.c`` also names a.b.c's packages; keep the deepest existing module.
        graph[name] = {d if d in known else _existing_prefix(d, known) for d in deps} - {None, name}
    return graph


def _existing_prefix(module: str, known: set[str]) -> str | None:
    parts = module.split(".")
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts) or None


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def layering_violations(package_dir: Path) -> list[str]:
    """Every broken layering rule of the package, one readable line each."""
    top = package_dir.name
    graph = import_graph(package_dir)
    files = module_files(package_dir)
    problems = []
    for name, deps in sorted(graph.items()):
        if name == f"{top}.bin" or name.startswith(f"{top}.bin."):
            continue
        for dep in sorted(deps):
            if dep == f"{top}.bin" or dep.startswith(f"{top}.bin."):
                problems.append(f"{name} imports the entry-point package ({dep})")
            if name.startswith(f"{top}.train") and dep.startswith(f"{top}.tasks"):
                problems.append(f"{name} (the trainer) imports a task module ({dep})")
    task_modules = {n for n, p in files.items() if _defines_subclass(p, "AbsTask")}
    for name in sorted(task_modules):
        for dep in sorted(graph[name] & task_modules):
            problems.append(f"task module {name} imports another task module ({dep})")
    for name, path in sorted(files.items()):
        if name.startswith(f"{top}.tasks") and _defines_subclass(path, "Module"):
            problems.append(f"{name} defines a model class (nn.Module subclass): models live in {top}.nets")
    for cycle in import_cycles(graph):
        problems.append("import cycle: " + " <-> ".join(cycle))
    return problems


def _defines_subclass(path: Path, base: str) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for b in node.bases:
                if (isinstance(b, ast.Name) and b.id == base) or (isinstance(b, ast.Attribute) and b.attr == base):
                    return True
    return False


def test_speechbert_keeps_its_layering():
    assert layering_violations(PACKAGE_ROOT) == []


def test_the_walk_sees_the_real_package():
    graph = import_graph(PACKAGE_ROOT)
    assert "speechbert.train.trainer" in graph["speechbert.tasks.abs_task"]  # a lazy import inside a method
    assert "speechbert.nets.span_qa_model" in graph["speechbert.tasks.sqa_finetune"]
    assert len(graph) > 100


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def bad_package(tmp_path: Path) -> Path:
    """A package that breaks every rule once."""
    root = tmp_path / "pkg"
    for init in ("__init__.py", "bin/__init__.py", "train/__init__.py", "tasks/__init__.py"):
        _write(root, init, "")
    _write(root, "bin/cli.py", "def parser():\n    return None\n")
    _write(root, "train/trainer.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
           "    from pkg.tasks.abs_task import AbsTask\n")
    _write(root, "tasks/abs_task.py", "class AbsTask:\n    pass\n")
    _write(root, "tasks/one.py", "from pkg.bin.cli import parser\nfrom pkg.tasks.abs_task import AbsTask\n"
           "from torch import nn\n\nclass Net(nn.Module):\n    pass\n\nclass OneTask(AbsTask):\n    pass\n")
    _write(root, "tasks/two.py", "from pkg.tasks.abs_task import AbsTask\n\nclass TwoTask(AbsTask):\n"
           "    def f(self):\n        from pkg.tasks import one\n")
    _write(root, "a.py", "import pkg.b\n")
    _write(root, "b.py", "def f():\n    from . import a\n")
    return root


def test_every_rule_can_fail(bad_package):
    problems = layering_violations(bad_package)
    assert problems == [
        "pkg.tasks.one imports the entry-point package (pkg.bin.cli)",
        "pkg.train.trainer (the trainer) imports a task module (pkg.tasks.abs_task)",
        "task module pkg.tasks.two imports another task module (pkg.tasks.one)",
        "pkg.tasks.one defines a model class (nn.Module subclass): models live in pkg.nets",
        "import cycle: pkg.a <-> pkg.b",
    ]
