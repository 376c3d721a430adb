"""Copies of a recipe's inputs in a scratch directory, so that no check writes into the recipe.

The experiment files record their inputs as paths relative to the recipe directory (a finished
recipe's ``exp/finetune/config.yaml`` says ``train_dump: dump/train``). Copying each relative path
that a file names to the same place under a scratch directory, and running there, lets the tools
read everything as the recipe did while every output stays in the scratch directory. Absolute
paths (the BERT checkpoint in the venv, a test fixture) are read where they are.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterable

import yaml


def path_values(values: Any) -> Iterable[str]:
    """Every string of a YAML value that may be a path (``init_param`` items ``path:src:dst`` too)."""
    if isinstance(values, dict):
        for v in values.values():
            yield from path_values(v)
    elif isinstance(values, list):
        for v in values:
            yield from path_values(v)
    elif isinstance(values, str) and values:
        yield values
        if ":" in values:
            yield values.split(":", 1)[0]


#: keys naming what a run writes, not what it reads (a finished run's exp/finetune is ~1 GB)
OUTPUT_KEYS = ("output_dir",)


def relative_inputs(recipe: Path, yaml_file: Path) -> list[str]:
    """The relative paths named in ``yaml_file`` (outputs aside) that exist under ``recipe``."""
    values = yaml.safe_load(yaml_file.read_text(encoding="utf-8")) or {}
    if isinstance(values, dict):
        values = {k: v for k, v in values.items() if k not in OUTPUT_KEYS}
    found = []
    for value in path_values(values):
        rel = Path(value)
        if not rel.is_absolute() and ".." not in rel.parts and (recipe / rel).exists() and value not in found:
            found.append(value)
    return found


#: per scratch directory, the relative paths copied into it so far
_COPIED: dict[Path, set[Path]] = {}


def copy_into(recipe: Path, work: Path, rel_paths: Iterable[str]) -> list[str]:
    """Copy each ``recipe/rel`` (file or directory) to ``work/rel``; return what was copied.

    Directories above come first, and what lies in a directory copied before (by this call or
    an earlier one into the same ``work``) is not copied again.
    """
    copied = []
    done = _COPIED.setdefault(work, set())
    for rel in sorted(set(rel_paths), key=lambda r: (len(Path(r).parts), r)):
        src, dst = recipe / rel, work / rel
        if any(Path(*Path(rel).parts[:n]) in done for n in range(1, len(Path(rel).parts) + 1)):
            continue
        done.add(Path(rel))
        if src.is_dir():
            shutil.copytree(src, dst, symlinks=False, dirs_exist_ok=True)
        elif dst.exists():
            continue
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        copied.append(rel)
    return copied
