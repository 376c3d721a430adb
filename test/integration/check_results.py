#!/usr/bin/env python3
"""Check the mini recipe's results: every system row is present with numbers in [0, 100].

Usage: check_results.py RESULTS.md EXP_DIR
Reads every exp/**/decode_*/result.json, requires the systems the recipe promises, checks each
metric value, and checks that every training stage's validation metric improved on its first value
(exp/<name>/metrics.jsonl), that decoding the validation set reproduces the averaged models'
validation metrics (decode = validation, doc/inputs.md), and that the ensemble weight was chosen on
the validation set; prints the table and "N passed, M failed" so CI logs show a summary line.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

REQUIRED_SYSTEMS = ("end-to-end", "cascade", "ensemble", "text-oracle", "baseline-first-sentence",
                    "baseline-random-span")
REQUIRED_METRICS = ("ff1", "aos")
E2E_MARGIN = 10.0
TEST_SET = "test"
VALID_SET = "dev"
# decode = validation: (experiment, decode dir of the validation set, metrics that must agree)
PARITY = (
    ("finetune", f"decode_{VALID_SET}", ("f1", "em", "ff1", "aos")),
    ("finetune_text", f"decode_{VALID_SET}_reference_text", ("f1", "em")),
)
PARITY_TOLERANCE = 0.01
# Each training stage's validation metric must improve on its first validation by this much
# (experiment, metric, "max" or "min", margin: absolute for max, a ratio for min).
STAGE_IMPROVEMENTS = (
    ("ctc_aligner", "valid.loss_per_token", "min", 0.7),
    ("joint_embed", "valid.acc_nn", "max", 0.05),
    ("pretrain", "valid.acc_audio_mlm", "max", 0.02),
    ("finetune", "valid.f1", "max", 5.0),
    ("finetune_text", "valid.f1", "max", 10.0),
)


def check_stage_improvements(exp_dir: Path) -> tuple[int, int]:
    """Compare each stage's best validation value with its first one (exp/<name>/metrics.jsonl)."""
    passed = failed = 0
    for name, metric, mode, margin in STAGE_IMPROVEMENTS:
        path = exp_dir / name / "metrics.jsonl"
        values = []
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                rec = json.loads(line) if line.strip() else {}
                if isinstance(rec.get(metric), (int, float)):
                    values.append(float(rec[metric]))
        if len(values) < 2:
            print(f"FAIL: {path}: fewer than two values of {metric}")
            failed += 1
            continue
        first = values[0]
        best = max(values) if mode == "max" else min(values)
        ok = best >= first + margin if mode == "max" else best <= first * margin
        want = f">= {first + margin:.4g}" if mode == "max" else f"<= {first * margin:.4g}"
        print(f"{'ok' if ok else 'FAIL'}: {name} {metric}: first {first:.4g}, best {best:.4g} (want {want})")
        passed += ok
        failed += not ok
    return passed, failed


def check_decode_equals_validation(exp_dir: Path) -> tuple[int, int]:
    """Scores of the decoded validation set vs the averaged model's validation metrics."""
    passed = failed = 0
    for name, decode, metrics in PARITY:
        valid_path = exp_dir / name / "model.avg.metrics.json"
        result_path = exp_dir / name / decode / "result.json"
        if not valid_path.is_file() or not result_path.is_file():
            print(f"FAIL: decode = validation: {valid_path} or {result_path} is missing")
            failed += 1
            continue
        valid = json.loads(valid_path.read_text(encoding="utf-8"))
        overall = json.loads(result_path.read_text(encoding="utf-8"))["overall"]
        for m in metrics:
            a, b = overall.get(m), valid.get(f"valid.{m}")
            ok = isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= PARITY_TOLERANCE
            print(f"{'ok' if ok else 'FAIL'}: decode = validation, {name} {m}: decoded {a} vs validation {b} "
                  f"(tolerance {PARITY_TOLERANCE})")
            passed += ok
            failed += not ok
    return passed, failed


def check_ensemble_weight(exp_dir: Path) -> tuple[int, int]:
    """The ensemble's weight was chosen on the validation set and recorded."""
    path = exp_dir / "ensemble" / f"decode_{TEST_SET}" / "ensemble_weight.json"
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"FAIL: {path}: {e}")
        return 0, 1
    ok = isinstance(rec.get("weight"), (int, float)) and VALID_SET in str(rec.get("chosen_on")) \
        and len(rec.get("grid") or []) == 21
    print(f"{'ok' if ok else 'FAIL'}: ensemble weight {rec.get('weight')} chosen on {rec.get('chosen_on')} "
          f"over {len(rec.get('grid') or [])} grid points")
    return int(ok), int(not ok)


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
    systems = {}  # the test set's systems
    for path in results:
        data = json.loads(path.read_text(encoding="utf-8"))
        if path.parent.name == f"decode_{TEST_SET}" or path.parent.name.startswith(f"decode_{TEST_SET}_"):
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
    # The end-to-end model must beat the trivial baselines by a wide margin (FF1 points).
    ff1 = {name: data.get("overall", {}).get("ff1") for name, (_, data) in systems.items()}
    base = [v for k, v in ff1.items() if k.startswith("baseline") and isinstance(v, (int, float))]
    e2e = ff1.get("end-to-end")
    if isinstance(e2e, (int, float)) and base and e2e >= max(base) + E2E_MARGIN:
        print(f"ok: end-to-end FF1 {e2e:.2f} beats the best baseline ({max(base):.2f}) by >= {E2E_MARGIN}")
        passed += 1
    else:
        print(f"FAIL: end-to-end FF1 {e2e} does not beat the baselines {base} by {E2E_MARGIN} points")
        failed += 1
    for check in (check_stage_improvements, check_decode_equals_validation, check_ensemble_weight):
        p, f = check(Path(exp_dir))
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
