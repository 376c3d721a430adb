"""Gather ``result.json`` files of several systems into one Markdown results table (RESULTS.md)."""

from __future__ import annotations

import datetime
import json
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from speechbert.errors import DataError

_REQUIRED = ("overall", "counts")
_METRICS = ("ff1", "aos", "em", "f1")


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
    out.sort(key=lambda r: (r.data_set, r.name, str(r.path)))
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


def _split(r: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    by = r.get("by_asr_error")
    return by.get(name) if isinstance(by, dict) else None


def format_results_md(results: Sequence[SystemResult], env: Mapping[str, str],
                      exp_dir: str | Path | None = None) -> str:
    """Markdown: one section per data set, one row per system, then the environment."""
    lines = ["# RESULTS", ""]
    lines += ["## Environments", ""]
    lines += [f"- {k}: `{v}`" for k, v in env.items()]
    lines.append("")
    lines += ["FF1/AOS: per-question frame F1 and audio overlapping score of the answer time span, best "
              "over references, averaged over questions (×100). EM/F1: SQuAD text scores of the "
              "predicted words (— where a system gives no words). Splits: whether the reference "
              "answer span holds ASR errors. `ff1_pooled` (frames pooled over the set, SLUE-SQA-5 "
              "style) is listed apart and is not comparable with FF1.", ""]
    if not results:
        where = f" under `{exp_dir}`" if exp_dir is not None else ""
        lines += [f"No `decode_*/result.json` found{where}.", ""]
        return "\n".join(lines)
    data_sets = list(dict.fromkeys(r.data_set for r in results))
    for ds in data_sets:
        rows = [r for r in results if r.data_set == ds]
        lines += [f"## Data set: {ds}", ""]
        head = ["system"]
        for group in ("all", "no ASR err", "ASR err"):
            head += [f"{m.upper()} {group}" for m in _METRICS]
        head += ["#Q", "#Q no err", "#Q err", "missing", "WER"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|---" + "|---:" * (len(head) - 1) + "|")
        for r in rows:
            res = r.result
            groups = [res["overall"], _split(res, "no_asr_error"), _split(res, "with_asr_error")]
            cells = [r.name]
            for g in groups:
                cells += [_cell(g.get(m) if g else None) for m in _METRICS]
            cells.append(str(res["overall"].get("questions", "—")))
            cells += [str(g["questions"]) if g else "—" for g in groups[1:]]
            cells.append(str(res["counts"].get("missing_predictions", "—")))
            wer = res.get("wer")
            cells.append(_cell(wer.get("wer")) if isinstance(wer, dict) else "—")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        lines += _pooled_table(rows) + _bucket_table(rows)
        lines.append("Sources:")
        lines += [f"- {r.name}: `{r.path}`" for r in rows]
        lines.append("")
    return "\n".join(lines)


def _pooled_table(rows: Sequence[SystemResult]) -> list[str]:
    have = [r for r in rows if isinstance(r.result.get("ff1_pooled"), dict)]
    if not have:
        return []
    lines = ["Pooled frame F1 (SLUE-SQA-5 style; not comparable with FF1):", "",
             "| system | ff1_pooled | precision | recall | #Q |", "|---|---:|---:|---:|---:|"]
    for r in have:
        p = r.result["ff1_pooled"]
        lines.append(f"| {r.name} | {_cell(p.get('ff1_pooled'))} | {_cell(p.get('precision'))} | "
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
        cells = [f"{_cell(by[n].get('ff1'))} ({by[n].get('questions', 0)})" if n in by else "—" for n in names]
        lines.append(f"| {r.name} | " + " | ".join(cells) + " |")
    return lines + [""]
