#!/usr/bin/env python3
"""Check the mini recipe's results: every system row is present with numbers in [0, 100].

Usage: check_results.py RESULTS.md EXP_DIR
Reads every exp/**/decode_*/result.json, requires the systems the recipe promises, and checks
each metric value; prints the table and "N passed, M failed" so CI logs show a summary line.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

REQUIRED_SYSTEMS = ("end-to-end", "cascade", "ensemble", "text-oracle", "baseline-first-sentence",
                    "baseline-random-span")
REQUIRED_METRICS = ("ff1", "aos")


def _numbers(obj, prefix=""):
    """Yield (dotted key, value) for every number nested in a result.json."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield prefix, obj


def main(results_md: str, exp_dir: str) -> int:
    passed = failed = 0
    md = Path(results_md)
    if md.is_file() and md.stat().st_size > 0:
        passed += 1
        print(md.read_text(encoding="utf-8"))
    else:
        print(f"FAIL: {results_md} is missing or empty")
        failed += 1
    results = sorted(Path(exp_dir).glob("**/decode_*/result.json"))
    systems = {}
    for path in results:
        data = json.loads(path.read_text(encoding="utf-8"))
        systems[data.get("system_name", str(path))] = (path, data)
    for name in REQUIRED_SYSTEMS:
        match = [s for s in systems if s == name or s.startswith(name + "-")]
        if match:
            passed += 1
        else:
            print(f"FAIL: no result.json for system {name!r} (have: {sorted(systems)})")
            failed += 1
    for name, (path, data) in systems.items():
        overall = data.get("overall", data)
        for metric in REQUIRED_METRICS:
            value = overall.get(metric) if isinstance(overall, dict) else None
            if isinstance(value, (int, float)) and 0.0 <= value <= 100.0 and not math.isnan(value):
                passed += 1
            else:
                print(f"FAIL: {path}: {name} {metric} = {value!r} (expected a number in [0, 100])")
                failed += 1
        for key, value in _numbers(data):
            is_percent = key.split(".")[-1] in ("ff1", "aos", "em", "f1", "ff1_pooled")
            if is_percent and not (0.0 <= value <= 100.0 and not math.isnan(value)):
                print(f"FAIL: {path}: {key} = {value} is outside [0, 100]")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
