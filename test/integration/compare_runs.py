#!/usr/bin/env python3
"""Compare two runs of a recipe, stage by stage: are they the same bytes?

Usage:
    compare_runs.py DIR_A DIR_B [--stages 1-4,7] [--all]

DIR_A and DIR_B are recipe directories (each holding data/, db/, dump/, exp/, RESULTS.md). Every
file under them is assigned to the stage that writes it (``STAGE_RULES``), and each stage gets one
line::

    stage 3: identical (41 files)
    stage 5: DIFFERS first: exp/joint_embed/model.avg.pt (tensor key encoder.w max abs diff 1.2e-07)

Exit status: 0 when every selected stage is identical, 1 when something differs, 2 on usage errors.

Comparison rules (see doc/reproducibility.md):

* log files are skipped: ``*.log`` (and ``*.log.N`` rotations), anything under a ``log/`` directory, tensorboard event files;
* ``RESULTS.md`` is compared without its ``- date:`` line;
* torch files (``*.pt``, ``*.best``, ``snapshot.ep.*``, ``checkpoint*.pt``) are loaded with
  ``torch.load(weights_only=True)`` and compared value by value (``torch.equal`` for tensors):
  their zip container embeds file names that differ between two equal saves;
* ``config.yaml`` is compared without the keys that hold the output directory or an absolute path;
* every other file byte for byte, after replacing the absolute paths of DIR_A / DIR_B by one
  placeholder (``feats.scp`` names its archives by absolute path).
"""

from __future__ import annotations

import argparse
import fnmatch
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

# Which stage writes what: (stage, top-level path, sub-path pattern or None).
# An "exp/<name>*" entry also covers the suffixed names of that experiment (exp/<name>_seed2,
# exp/<name>_<tag>); when several entries match a path, the longest experiment name wins
# (exp/finetune_text is stage 9, not stage 7), then an entry with a sub-path pattern.
STAGE_RULES: tuple[tuple[int, str, str | None], ...] = (
    (1, "db", None),
    (1, "data", None),
    (2, "dump", None),
    (3, "exp/ctc_aligner*", None),
    (4, "exp/align", None),
    (4, "exp/asr_*", None),
    (5, "exp/joint_embed*", None),
    (6, "exp/pretrain*", None),
    (7, "exp/finetune*", None),
    (8, "exp/finetune*", "decode_*"),
    (8, "exp/baseline_*", None),
    (9, "exp/finetune_text*", None),
    (10, "exp/ensemble", None),
    (10, "RESULTS.md", None),
)
ALL_STAGES = tuple(sorted({s for s, _, _ in STAGE_RULES}))
TOP_LEVEL = ("data", "db", "dump", "exp", "RESULTS.md")

TORCH_PATTERNS = ("*.pt", "*.best", "snapshot.ep.*", "checkpoint*.pt")
LOG_PATTERNS = ("*.log", "*.log.[0-9]*", "events.out.tfevents.*")  # .log.N: earlier attempts (sqa.sh)
PLACEHOLDER = b"<RUN_DIR>"
# Bytes files larger than this are compared in chunks, without path substitution.
WHOLE_FILE_LIMIT = 256 * 1024 * 1024


# ---------------------------------------------------------------------------- stage mapping


def _match_exp(pattern: str, name: str) -> int:
    """Length of the matched experiment name for ``pattern`` (-1: no match).

    ``ctc_aligner*`` matches ``ctc_aligner`` and ``ctc_aligner_<suffix>``; ``asr_*`` is a glob;
    anything else must match exactly.
    """
    if pattern.endswith("*") and not pattern.endswith("_*"):
        base = pattern[:-1]
        return len(base) if name == base or name.startswith(base + "_") else -1
    if "*" in pattern:
        return len(pattern.rstrip("*")) if fnmatch.fnmatchcase(name, pattern) else -1
    return len(pattern) if name == pattern else -1


def stage_of(relpath: str) -> int | None:
    """The stage that writes ``relpath`` (a path relative to the recipe dir), None if unknown."""
    parts = relpath.split("/")
    best: tuple[int, int, int] | None = None  # (matched length, has sub-pattern, stage)
    for stage, top, sub in STAGE_RULES:
        top_parts = top.split("/")
        if len(parts) < len(top_parts):
            continue
        if top_parts[0] == "exp":
            if parts[0] != "exp" or len(parts) < 2:
                continue
            n = _match_exp(top_parts[1], parts[1])
            if n < 0:
                continue
            if sub is not None and not (len(parts) > 2 and fnmatch.fnmatchcase(parts[2], sub)):
                continue
        else:
            if parts[:len(top_parts)] != top_parts:
                continue
            n = len(top)
        key = (n, int(sub is not None), stage)
        if best is None or key[:2] > best[:2]:
            best = key
    return None if best is None else best[2]


def parse_stages(spec: str) -> list[int]:
    """``"1-4,7"`` -> ``[1, 2, 3, 4, 7]``."""
    out: set[int] = set()
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        lo, sep, hi = item.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad stage list {spec!r} (expected e.g. 1-4,7)") from None
        if a > b:
            raise argparse.ArgumentTypeError(f"bad stage range {item!r} in {spec!r}")
        out.update(range(a, b + 1))
    unknown = sorted(out - set(ALL_STAGES))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown stage(s) {unknown} (stages are {ALL_STAGES[0]}-{ALL_STAGES[-1]})")
    if not out:
        raise argparse.ArgumentTypeError(f"empty stage list {spec!r}")
    return sorted(out)


# ---------------------------------------------------------------------------- file listing


def is_skipped(relpath: str) -> bool:
    """Log files and tensorboard event files are not compared."""
    parts = relpath.split("/")
    if "log" in parts[:-1]:
        return True
    return any(fnmatch.fnmatchcase(parts[-1], p) for p in LOG_PATTERNS)


def list_files(root: Path) -> Iterator[str]:
    """Relative paths (``/``-separated) of the files and symlinks under the compared top-level entries."""
    for top in TOP_LEVEL:
        p = root / top
        if not p.is_dir():  # a top-level link to a directory (data -> elsewhere) is walked
            if p.is_symlink() or p.is_file():
                yield top
            continue
        for dirpath, dirnames, filenames in os.walk(p):
            dirnames.sort()
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            for d in list(dirnames):
                if os.path.islink(os.path.join(dirpath, d)):
                    filenames.append(d)  # compare a symlinked dir as a link, do not descend
                    dirnames.remove(d)
            for f in filenames:
                yield f"{rel_dir}/{f}"


# ---------------------------------------------------------------------------- comparisons


@dataclass
class Context:
    """The two directories and their path spellings to substitute."""

    a: Path
    b: Path

    def spellings(self, which: str) -> list[bytes]:
        d = self.a if which == "a" else self.b
        names = {str(d.absolute()), os.path.realpath(d)}
        # Longest first, so that /tmp/x/y is replaced before /tmp/x.
        return sorted((n.encode() for n in names), key=len, reverse=True)

    def substitute(self, data: bytes, which: str) -> bytes:
        for s in self.spellings(which):
            data = data.replace(s, PLACEHOLDER)
        return data


def first_diff_offset(x: bytes, y: bytes) -> int:
    """Offset of the first differing byte (the shorter length when one is a prefix)."""
    n = min(len(x), len(y))
    lo, step = 0, 1 << 16
    while lo < n:
        hi = min(n, lo + step)
        if x[lo:hi] != y[lo:hi]:
            for i in range(lo, hi):
                if x[i] != y[i]:
                    return i
        lo = hi
    return n


def _streams_differ(pa: Path, pb: Path) -> int | None:
    """Chunked comparison of two files; the first differing offset or None."""
    offset = 0
    with open(pa, "rb") as fa, open(pb, "rb") as fb:
        while True:
            ca, cb = fa.read(1 << 20), fb.read(1 << 20)
            if ca != cb:
                return offset + first_diff_offset(ca, cb)
            if not ca:
                return None
            offset += len(ca)


def compare_bytes(pa: Path, pb: Path, ctx: Context) -> str | None:
    """Byte equality, after replacing the run directories' absolute paths by a placeholder."""
    if pa.stat().st_size > WHOLE_FILE_LIMIT or pb.stat().st_size > WHOLE_FILE_LIMIT:
        off = _streams_differ(pa, pb)
        return None if off is None else f"bytes at offset {off}"
    da, db = pa.read_bytes(), pb.read_bytes()
    if da == db:
        return None
    sa, sb = ctx.substitute(da, "a"), ctx.substitute(db, "b")
    if sa == sb:
        return None
    note = " after path substitution" if (sa, sb) != (da, db) else ""
    off = first_diff_offset(sa, sb)
    return f"bytes at offset {off}{note} (sizes {len(da)} / {len(db)})"


def _drop_date_lines(data: bytes) -> bytes:
    return b"".join(line for line in data.splitlines(keepends=True) if not line.lstrip().startswith(b"- date:"))


def compare_results_md(pa: Path, pb: Path, ctx: Context) -> str | None:
    """RESULTS.md without its ``- date:`` line."""
    sa = ctx.substitute(_drop_date_lines(pa.read_bytes()), "a")
    sb = ctx.substitute(_drop_date_lines(pb.read_bytes()), "b")
    if sa == sb:
        return None
    return f"bytes at offset {first_diff_offset(sa, sb)} (without the date line)"


def _is_abs_path_value(value: Any) -> bool:
    if isinstance(value, str):
        return os.path.isabs(value)
    if isinstance(value, (list, tuple)):
        return any(_is_abs_path_value(v) for v in value)
    if isinstance(value, dict):
        return any(_is_abs_path_value(v) for v in value.values())
    return False


def _config_keys_to_drop(cfg: dict, run_dir: Path) -> set[str]:
    marks = {str(run_dir.absolute()), os.path.realpath(run_dir)}
    drop = set()
    for k, v in cfg.items():
        if k == "output_dir" or _is_abs_path_value(v) or (isinstance(v, str) and any(m in v for m in marks)):
            drop.add(k)
    return drop


def compare_config_yaml(pa: Path, pb: Path, ctx: Context) -> str | None:
    """config.yaml without the keys holding the output dir or absolute paths."""
    import yaml

    try:
        ca = yaml.safe_load(pa.read_text(encoding="utf-8"))
        cb = yaml.safe_load(pb.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return compare_bytes(pa, pb, ctx)
    if not isinstance(ca, dict) or not isinstance(cb, dict):
        return compare_bytes(pa, pb, ctx)
    drop = _config_keys_to_drop(ca, ctx.a) | _config_keys_to_drop(cb, ctx.b)
    for k in sorted(set(ca) | set(cb)):
        if k in drop:
            continue
        if k not in cb:
            return f"key {k} missing in B"
        if k not in ca:
            return f"key {k} missing in A"
        if ca[k] != cb[k]:
            return f"key {k}: {ca[k]!r} != {cb[k]!r}"
    return None


def _tensor_diff(x: Any, y: Any) -> str | None:
    import torch

    if x.dtype != y.dtype:
        return f"dtype {x.dtype} != {y.dtype}"
    if tuple(x.shape) != tuple(y.shape):
        return f"shape {tuple(x.shape)} != {tuple(y.shape)}"
    if torch.equal(x, y):
        return None
    if x.is_floating_point() or x.is_complex():
        nan_x, nan_y = torch.isnan(x), torch.isnan(y)
        if torch.equal(nan_x, nan_y) and torch.equal(x[~nan_x], y[~nan_y]):
            return None
        diff = (x.double() - y.double()).abs()
        diff = diff[~(nan_x & nan_y)]
        return f"max abs diff {diff.max().item():.3g}" if diff.numel() else "NaN positions differ"
    if x.dtype == torch.bool:
        return f"{int((x != y).sum())} values differ"
    diff = (x.long() - y.long()).abs()
    return f"max abs diff {diff.max().item()}"


def _value_diff(x: Any, y: Any, key: str) -> str | None:
    """The first difference between two loaded values, as '<what> ...'; None when equal."""
    import torch

    where = f"key {key}" if key else "value"
    if isinstance(x, torch.Tensor) or isinstance(y, torch.Tensor):
        if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
            return f"{where}: tensor vs {type(y if isinstance(x, torch.Tensor) else x).__name__}"
        d = _tensor_diff(x, y)
        return None if d is None else f"tensor {where} {d}"
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y), key=str):
            sub = f"{key}.{k}" if key else str(k)
            if k not in y:
                return f"key {sub} missing in B"
            if k not in x:
                return f"key {sub} missing in A"
            d = _value_diff(x[k], y[k], sub)
            if d is not None:
                return d
        return None
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)) and type(x) is type(y):
        if len(x) != len(y):
            return f"{where}: length {len(x)} != {len(y)}"
        for i, (u, v) in enumerate(zip(x, y)):
            d = _value_diff(u, v, f"{key}[{i}]" if key else f"[{i}]")
            if d is not None:
                return d
        return None
    if type(x) is not type(y):
        return f"{where}: {type(x).__name__} != {type(y).__name__}"
    if isinstance(x, float) and math.isnan(x) and math.isnan(y):
        return None
    if x != y:
        if isinstance(x, float):
            return f"{where}: {x!r} != {y!r} (abs diff {abs(x - y):.3g})"
        return f"{where}: {x!r} != {y!r}"
    return None


def compare_torch(pa: Path, pb: Path, ctx: Context) -> str | None:
    """Load both with weights_only=True and compare every value (tensors with torch.equal)."""
    import torch

    try:
        xa = torch.load(pa, map_location="cpu", weights_only=True)
        xb = torch.load(pb, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - not a torch file after all (or not weights-only): bytes
        return compare_bytes(pa, pb, ctx)
    return _value_diff(xa, xb, "")


def comparator_for(relpath: str):  # noqa: ANN201 - a compare_* function
    name = relpath.rsplit("/", 1)[-1]
    if relpath == "RESULTS.md":
        return compare_results_md
    if name == "config.yaml":
        return compare_config_yaml
    if any(fnmatch.fnmatchcase(name, p) for p in TORCH_PATTERNS):
        return compare_torch
    return compare_bytes


def compare_file(relpath: str, ctx: Context) -> str | None:
    """Why ``relpath`` differs between the two runs; None when it does not."""
    pa, pb = ctx.a / relpath, ctx.b / relpath
    la, lb = pa.is_symlink(), pb.is_symlink()
    if la or lb:
        if la != lb:
            return "symlink in one run only"
        ta = ctx.substitute(os.readlink(pa).encode(), "a")
        tb = ctx.substitute(os.readlink(pb).encode(), "b")
        return None if ta == tb else f"symlink targets differ ({ta!r} != {tb!r})"
    return comparator_for(relpath)(pa, pb, ctx)


# ---------------------------------------------------------------------------- driver


@dataclass
class StageResult:
    compared: int = 0
    diffs: list[tuple[str, str]] | None = None


def compare_runs(dir_a: Path, dir_b: Path, stages: list[int] | None = None,
                 all_diffs: bool = False) -> tuple[dict[Any, StageResult], bool]:
    """Compare two recipe dirs; returns ``({stage or "unmapped": result}, differs)``."""
    ctx = Context(dir_a, dir_b)
    files_a, files_b = set(list_files(dir_a)), set(list_files(dir_b))
    wanted = list(stages) if stages else list(ALL_STAGES)
    results: dict[Any, StageResult] = {s: StageResult(diffs=[]) for s in wanted}
    if not stages:
        results["unmapped"] = StageResult(diffs=[])
    for rel in sorted(files_a | files_b):
        if is_skipped(rel):
            continue
        stage = stage_of(rel)
        key = "unmapped" if stage is None else stage
        res = results.get(key)
        if res is None:
            continue
        assert res.diffs is not None
        if res.diffs and not all_diffs:
            continue  # this stage already differs: its first difference is what we report
        res.compared += 1
        if rel not in files_b:
            why: str | None = "missing in B"
        elif rel not in files_a:
            why = "missing in A"
        else:
            try:
                why = compare_file(rel, ctx)
            except OSError as e:
                why = f"cannot read: {e}"
        if why is not None:
            res.diffs.append((rel, why))
    if not stages and results["unmapped"].compared == 0:
        del results["unmapped"]
    differs = any(r.diffs for r in results.values())
    return results, differs


def format_results(results: dict[Any, StageResult]) -> list[str]:
    lines = []
    for key, res in results.items():
        label = f"stage {key}" if isinstance(key, int) else str(key)
        assert res.diffs is not None
        if not res.diffs:
            lines.append(f"{label}: identical ({res.compared} files)")
            continue
        rel, why = res.diffs[0]
        lines.append(f"{label}: DIFFERS first: {rel} ({why})")
        for rel, why in res.diffs[1:]:
            lines.append(f"{label}:   also: {rel} ({why})")
    return lines


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="compare_runs.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Stages and what they own:\n" + "\n".join(
                                    f"  {s:2d}  {top}{'/' + sub if sub else ''}" for s, top, sub in STAGE_RULES))
    p.add_argument("dir_a", type=Path, help="first recipe directory")
    p.add_argument("dir_b", type=Path, help="second recipe directory")
    p.add_argument("--stages", type=parse_stages, default=None,
                   help="stages to compare, e.g. 1-4,7 (default: all, plus files no stage owns)")
    p.add_argument("--all", action="store_true", help="list every differing file, not only the first per stage")
    return p


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    for d in (args.dir_a, args.dir_b):
        if not d.is_dir():
            print(f"compare_runs.py: error: {d} is not a directory", file=sys.stderr)
            return 2
    results, differs = compare_runs(args.dir_a, args.dir_b, args.stages, args.all)
    for line in format_results(results):
        print(line)
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
