"""Gather ``result.json`` files of several systems into one Markdown results table (RESULTS.md).

Means carry their bootstrap interval (``mean ± half-width``); systems trained with several seeds
get one row per seed and a ``mean ± std`` row; the end-to-end model, the cascade(s) and the
ensemble are compared by paired bootstrap tests on their ``scores.jsonl`` (doc/scoring.md).
The ``dev`` set, on which choices are made, gets its own table after the test sets.
"""

from __future__ import annotations

import datetime
import json
import math
import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from speechbert.errors import DataError
from speechbert.io.jsonl import iter_jsonl
from speechbert.metrics.bootstrap import (CI_LEVEL, DEFAULT_BOOTSTRAP_SAMPLES, DEFAULT_BOOTSTRAP_SEED, PairedTest,
                                          paired_bootstrap)

_REQUIRED = ("overall", "counts")
_METRICS = ("ff1", "aos", "em", "f1")
#: Metrics of the paired tests (time-span scores: every system has them).
PAIRED_METRICS = ("ff1", "aos")
#: System names (result.json ``system_name``) the paired tests compare.
E2E_SYSTEM = "end-to-end"
ENSEMBLE_SYSTEM = "ensemble"
_SEED_SUFFIX = re.compile(r"_seed(\d+)$")


def is_cascade(name: str) -> bool:
    """Whether a system name is a cascade (``cascade`` or ``cascade-<asr>``)."""
    return name == "cascade" or name.startswith("cascade-")


def is_dev_set(data_set: str) -> bool:
    """Whether a data set is a development set (``dev``, ``dev_*``): shown apart from the test sets."""
    return data_set == "dev" or data_set.startswith("dev_")


@dataclass
class SystemResult:
    """One ``result.json`` and where it was found."""

    path: Path
    result: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.result.get("system_name") or self.path.parent.parent.name)

    @property
    def data_set(self) -> str:
        return str(self.result.get("data_set") or self.path.parent.name.removeprefix("decode_"))

    @property
    def seed(self) -> int | None:
        """The training seed: result.json ``seed``, else a ``_seedN`` suffix of the experiment name."""
        seed = self.result.get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool):
            return seed
        m = _SEED_SUFFIX.search(self.path.parent.parent.name)
        return int(m.group(1)) if m else None

    @property
    def label(self) -> str:
        """Row name: the system name, with ``(seed N)`` for a seeded result."""
        return self.name if self.seed is None else f"{self.name} (seed {self.seed})"

    @property
    def scores_path(self) -> Path:
        """The per-question ``scores.jsonl`` score_sqa wrote beside result.json."""
        return self.path.parent / "scores.jsonl"


def collect_results(exp_dir: str | Path) -> list[SystemResult]:
    """Read every ``<exp_dir>/**/decode_*/result.json``, sorted by data set, system name and path.

    Raises:
        DataError: naming a file that is not valid JSON or lacks the ``overall``/``counts`` sections.
    """
    exp_dir = Path(exp_dir)
    out = []
    for path in sorted(exp_dir.glob("**/decode_*/result.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(f"cannot read: {e}", path) from None
        except json.JSONDecodeError as e:
            raise DataError(f"invalid JSON: {e.msg}", path, e.lineno) from None
        if not isinstance(result, dict) or any(k not in result for k in _REQUIRED):
            raise DataError("not a score_sqa result (expected the 'overall' and 'counts' sections)", path)
        out.append(SystemResult(path, result))
    out.sort(key=lambda r: (r.data_set, r.name, r.seed is not None, r.seed or 0, str(r.path)))
    return out


def _git_head(cwd: Path | None = None) -> str | None:
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                              cwd=cwd, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def environment_info() -> dict[str, str]:
    """Date, Python, torch and speechbert versions, and the git commit (where available)."""
    import speechbert

    try:
        import torch

        torch_version = torch.__version__
    except ImportError:  # pragma: no cover - torch is a hard dependency
        torch_version = "not installed"
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %z"),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "torch": str(torch_version),
        "speechbert": speechbert.__version__,
        "git": _git_head(Path(speechbert.__file__).resolve().parent) or "unknown",
    }


def _cell(x: Any) -> str:
    return "—" if x is None else f"{x:.2f}"


def _ci_cell(group: Mapping[str, Any] | None, metric: str) -> str:
    """``47.8 ± 6.1`` (mean ± half-width of its interval) or, without an interval, ``47.80``."""
    if not group:
        return "—"
    mean, half = group.get(metric), group.get(f"{metric}_ci_half")
    if mean is None:
        return "—"
    if half is None:
        return _cell(mean)
    return f"{mean:.1f} ± {half:.1f}"


def _split(r: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    by = r.get("by_asr_error")
    return by.get(name) if isinstance(by, dict) else None


def _groups(res: Mapping[str, Any]) -> list[Mapping[str, Any] | None]:
    return [res["overall"], _split(res, "no_asr_error"), _split(res, "with_asr_error")]


def _ordered_data_sets(results: Sequence[SystemResult]) -> list[str]:
    sets = list(dict.fromkeys(r.data_set for r in results))
    return [d for d in sets if not is_dev_set(d)] + [d for d in sets if is_dev_set(d)]


def _interval_note(results: Sequence[SystemResult]) -> list[str]:
    boots = {(b.get("samples"), b.get("seed"), b.get("level")) for r in results
             if isinstance(b := r.result.get("bootstrap"), dict)}
    if not boots:
        return []
    if len(boots) == 1:
        samples, seed, level = next(iter(boots))
        how = f"{samples} resamples of the questions, seed {seed}"
        level = 100 * float(level) if isinstance(level, (int, float)) else 100 * CI_LEVEL
    else:
        how, level = "resampled questions; settings differ between systems, see result.json", 100 * CI_LEVEL
    return [f"`mean ± h`: h is half the width of the {level:g} % percentile bootstrap interval of the mean "
            f"({how}), h = (hi − lo)/2; the interval [lo, hi] itself is `<metric>_ci` in result.json and "
            "can be slightly asymmetric around the mean. Two systems whose intervals overlap can still "
            "differ significantly: the paired tests below decide. In a `mean ± std over N seeds` row, "
            "± is the sample standard deviation (n − 1) of the per-seed means. Values without ± come "
            "from result.json files scored without intervals.", ""]


def format_results_md(results: Sequence[SystemResult], env: Mapping[str, str],
                      exp_dir: str | Path | None = None, *,
                      bootstrap_samples: int = DEFAULT_BOOTSTRAP_SAMPLES,
                      bootstrap_seed: int = DEFAULT_BOOTSTRAP_SEED) -> str:
    """Markdown: one section per data set (test sets first, then ``dev``), one row per system
    (and seed), the paired bootstrap tests, then the environment.

    Args:
        results: from :func:`collect_results`.
        env: from :func:`environment_info`.
        exp_dir: named when nothing was found.
        bootstrap_samples: resamples of the paired tests.
        bootstrap_seed: their seed.

    Raises:
        DataError: naming the file and line of a malformed ``scores.jsonl``.
    """
    lines = ["# RESULTS", ""]
    lines += ["## Environments", ""]
    lines += [f"- {k}: `{v}`" for k, v in env.items()]
    lines.append("")
    lines += ["FF1/AOS: per-question frame F1 and audio overlapping score of the answer time span, best "
              "over references, averaged over questions (×100). EM/F1: SQuAD text scores of the "
              "predicted words (— where a system gives no words). Splits: whether the reference "
              "answer span holds ASR errors. `ff1_pooled` (frames pooled over the set, SLUE-SQA-5 "
              "style) is listed apart and is not comparable with FF1.", ""]
    lines += _interval_note(results)
    if not results:
        where = f" under `{exp_dir}`" if exp_dir is not None else ""
        lines += [f"No `decode_*/result.json` found{where}.", ""]
        return "\n".join(lines)
    for ds in _ordered_data_sets(results):
        rows = [r for r in results if r.data_set == ds]
        if is_dev_set(ds):
            lines += [f"## Data set: {ds} (development set: choices such as the ensemble weight are made "
                      "here; not a test result)", ""]
        else:
            lines += [f"## Data set: {ds}", ""]
        head = ["system"]
        for group in ("all", "no ASR err", "ASR err"):
            head += [f"{m.upper()} {group}" for m in _METRICS]
        head += ["#Q", "#Q no err", "#Q err", "missing", "WER"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|---" + "|---:" * (len(head) - 1) + "|")
        for name, members in _by_system(rows):
            for r in members:
                lines.append(_main_row(r))
            seeded = [r for r in members if r.seed is not None]
            if len(seeded) >= 2:
                lines.append(_seed_mean_row(name, seeded))
        lines.append("")
        lines += _pooled_table(rows) + _bucket_table(rows)
        lines += _paired_section(rows, bootstrap_samples, bootstrap_seed)
        lines.append("Sources:")
        lines += [f"- {r.label}: `{r.path}`" for r in rows]
        lines.append("")
    return "\n".join(lines)


def _by_system(rows: Sequence[SystemResult]) -> Iterator[tuple[str, list[SystemResult]]]:
    names = list(dict.fromkeys(r.name for r in rows))
    for name in names:
        yield name, [r for r in rows if r.name == name]


def _main_row(r: SystemResult) -> str:
    res = r.result
    groups = _groups(res)
    cells = [r.label]
    for g in groups:
        cells += [_ci_cell(g, m) for m in _METRICS]
    cells.append(str(res["overall"].get("questions", "—")))
    cells += [str(g["questions"]) if g else "—" for g in groups[1:]]
    cells.append(str(res["counts"].get("missing_predictions", "—")))
    wer = res.get("wer")
    cells.append(_cell(wer.get("wer")) if isinstance(wer, dict) else "—")
    return "| " + " | ".join(cells) + " |"


def _mean_std(values: Sequence[Any]) -> str:
    xs = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(xs) < 2 or len(xs) != len(values):
        return "—"
    return f"{np.mean(xs):.1f} ± {np.std(xs, ddof=1):.1f}"


def _seed_mean_row(name: str, seeded: Sequence[SystemResult]) -> str:
    """``<name> (mean ± std over N seeds)``: mean and sample std of the per-seed means."""
    per_seed = [_groups(r.result) for r in seeded]
    cells = [f"{name} (mean ± std over {len(seeded)} seeds)"]
    for k in range(3):
        for m in _METRICS:
            cells.append(_mean_std([g[k].get(m) if g[k] else None for g in per_seed]))
    first = seeded[0].result
    cells.append(str(first["overall"].get("questions", "—")))
    cells += [str(g["questions"]) if g else "—" for g in _groups(first)[1:]]
    cells.append("—")
    wers = [r.result["wer"].get("wer") if isinstance(r.result.get("wer"), dict) else None for r in seeded]
    cells.append(_cell(wers[0]) if len(set(wers)) == 1 else "—")
    return "| " + " | ".join(cells) + " |"


def _pooled_table(rows: Sequence[SystemResult]) -> list[str]:
    have = [r for r in rows if isinstance(r.result.get("ff1_pooled"), dict)]
    if not have:
        return []
    lines = ["Pooled frame F1 (SLUE-SQA-5 style; not comparable with FF1):", "",
             "| system | ff1_pooled | precision | recall | #Q |", "|---|---:|---:|---:|---:|"]
    for r in have:
        p = r.result["ff1_pooled"]
        lines.append(f"| {r.label} | {_cell(p.get('ff1_pooled'))} | {_cell(p.get('precision'))} | "
                     f"{_cell(p.get('recall'))} | {p.get('questions', '—')} |")
    return lines + [""]


def _bucket_table(rows: Sequence[SystemResult]) -> list[str]:
    have = [r for r in rows if isinstance(r.result.get("by_passage_wer"), list)]
    if not have:
        return []
    names = list(dict.fromkeys(b["bucket"] for r in have for b in r.result["by_passage_wer"]))
    lines = ["FF1 by passage WER (%) (questions in brackets):", "",
             "| system | " + " | ".join(f"WER {n}" for n in names) + " |",
             "|---" + "|---:" * len(names) + "|"]
    for r in have:
        by = {b["bucket"]: b for b in r.result["by_passage_wer"]}
        cells = [f"{_ci_cell(by[n], 'ff1')} ({by[n].get('questions', 0)})" if n in by else "—" for n in names]
        lines.append(f"| {r.label} | " + " | ".join(cells) + " |")
    return lines + [""]


# ----------------------------------------------------------------------------------------------
# Paired bootstrap tests


def read_scores(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a ``scores.jsonl`` of score_sqa into ``{question id: record}``.

    Raises:
        DataError: naming the file and line of a line that is not an object with a string ``id``,
            a score that is not a number or null, an ``asr_error`` that is not a boolean or null,
            or a repeated id.
    """
    path = Path(path)
    out: dict[str, dict[str, Any]] = {}
    for lineno, rec in iter_jsonl(path):
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), str) or not rec["id"]:
            raise DataError("expected a JSON object with a non-empty string 'id'", path, lineno)
        qid = rec["id"]
        for m in _METRICS:
            v = rec.get(m)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
                raise DataError(f"field {m!r} must be a finite number or null, got {v!r}", path, lineno, key=qid)
        if rec.get("asr_error") is not None and not isinstance(rec["asr_error"], bool):
            raise DataError(f"field 'asr_error' must be true, false or null, got {rec['asr_error']!r}",
                            path, lineno, key=qid)
        if qid in out:
            raise DataError(f"duplicate question id {qid!r}", path, lineno)
        out[qid] = rec
    return out


@dataclass
class PairedComparison:
    """The paired tests of system A against system B on one data set, seed and split."""

    a: SystemResult
    b: SystemResult
    split: str  # "all" or "ASR error"
    tests: dict[str, PairedTest | None]


def compare_scores(a: Mapping[str, Mapping[str, Any]], b: Mapping[str, Mapping[str, Any]], *,
                   asr_error_only: bool = False, metrics: Sequence[str] = PAIRED_METRICS,
                   samples: int = DEFAULT_BOOTSTRAP_SAMPLES,
                   seed: int = DEFAULT_BOOTSTRAP_SEED) -> dict[str, PairedTest | None]:
    """Paired bootstrap tests of two systems' ``scores.jsonl`` records, matched by question id.

    The questions are those in both (in ``a``'s order); with ``asr_error_only`` only those both
    put in the ASR-error split. Each metric is tested on the questions both score for it
    (:func:`speechbert.metrics.bootstrap.paired_bootstrap`); ``None`` where there are none.
    """
    ids = [q for q in a if q in b and (not asr_error_only or (a[q].get("asr_error") is True
                                                               and b[q].get("asr_error") is True))]
    return {m: paired_bootstrap([a[q].get(m) for q in ids], [b[q].get(m) for q in ids], samples, seed)
            for m in metrics}


def _pairs(first: Sequence[SystemResult], second: Sequence[SystemResult]) -> list[tuple[SystemResult, SystemResult]]:
    """Results of two systems to compare: same seed; a system without seeds pairs with every seed."""
    fa = {r.seed: r for r in first}
    fb = {r.seed: r for r in second}
    out = [(fa[s], fb[s]) for s in fa if s in fb]
    if set(fa) == {None}:
        out += [(fa[None], fb[s]) for s in fb if s is not None]
    elif set(fb) == {None}:
        out += [(fa[s], fb[None]) for s in fa if s is not None]
    return sorted(out, key=lambda p: (p[0].seed or p[1].seed or 0))


def paired_comparisons(rows: Sequence[SystemResult], samples: int = DEFAULT_BOOTSTRAP_SAMPLES,
                       seed: int = DEFAULT_BOOTSTRAP_SEED) -> tuple[list[PairedComparison], list[str]]:
    """The paired tests of one data set: end-to-end vs each cascade, the ensemble vs the end-to-end
    model and vs each cascade; overall and on the ASR-error split, per training seed.

    Returns ``(comparisons, notes)``; a note says which pair could not be tested (no ``scores.jsonl``).

    Raises:
        DataError: naming a malformed ``scores.jsonl``.
    """
    by_name: dict[str, list[SystemResult]] = {}
    for r in rows:
        by_name.setdefault(r.name, []).append(r)
    cascades = sorted(n for n in by_name if is_cascade(n))
    wanted = [(E2E_SYSTEM, c) for c in cascades] + [(ENSEMBLE_SYSTEM, E2E_SYSTEM)]
    wanted += [(ENSEMBLE_SYSTEM, c) for c in cascades]
    cache: dict[Path, dict[str, dict[str, Any]] | None] = {}

    def scores(r: SystemResult) -> dict[str, dict[str, Any]] | None:
        if r.scores_path not in cache:
            cache[r.scores_path] = read_scores(r.scores_path) if r.scores_path.is_file() else None
        return cache[r.scores_path]

    comparisons: list[PairedComparison] = []
    notes: list[str] = []
    for name_a, name_b in wanted:
        if name_a not in by_name or name_b not in by_name:
            continue
        for ra, rb in _pairs(by_name[name_a], by_name[name_b]):
            sa, sb = scores(ra), scores(rb)
            if sa is None or sb is None:
                missing = ra if sa is None else rb
                notes.append(f"{ra.label} vs {rb.label}: not tested, no `{missing.scores_path}` "
                             "(rescore with the current score_sqa)")
                continue
            comparisons.append(PairedComparison(ra, rb, "all", compare_scores(sa, sb, samples=samples, seed=seed)))
            if any(v.get("asr_error") is not None for v in sa.values()):
                comparisons.append(PairedComparison(ra, rb, "ASR error", compare_scores(
                    sa, sb, asr_error_only=True, samples=samples, seed=seed)))
    return comparisons, notes


def _signed(x: float) -> str:
    return f"{x:+.1f}"


def _p_cell(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _paired_section(rows: Sequence[SystemResult], samples: int, seed: int) -> list[str]:
    comparisons, notes = paired_comparisons(rows, samples, seed)
    if not comparisons and not notes:
        return []
    lines = [f"Paired bootstrap tests ({samples} resamples of the questions both systems answer, seed {seed}): "
             "Δ = first − second in points with its 95 % interval; p is two-sided, for \"no difference\". "
             "p < 0.05 (about when the interval excludes 0) is a significant difference at the 5 % level; "
             f"the smallest p {samples} resamples can give is {2 / (samples + 1):.3f}.", ""]
    if comparisons:
        head = ["comparison", "split", "#Q"]
        for m in PAIRED_METRICS:
            head += [f"Δ{m.upper()} [95% CI]", f"p {m.upper()}"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|---|---" + "|---:" * (len(head) - 2) + "|")
        for c in comparisons:
            n = max((t.questions for t in c.tests.values() if t is not None), default=0)
            cells = [f"{c.a.label} vs {c.b.label}", c.split, str(n)]
            for m in PAIRED_METRICS:
                t = c.tests.get(m)
                if t is None:
                    cells += ["—", "—"]
                else:
                    cells += [f"{_signed(t.diff)} [{_signed(t.low)}, {_signed(t.high)}]", _p_cell(t.p)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"- {n}" for n in notes]
    if notes:
        lines.append("")
    return lines
