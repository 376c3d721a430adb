"""Markdown tables of a scale rehearsal (``bench/scaling/scale_rehearsal.sh``) with growth exponents.

    tools/venv/bin/python bench/scaling/scaling_table.py scaling.tsv [more.tsv ...]

    tools/venv/bin/python bench/scaling/scaling_table.py scaling.tsv --corpus 1=egs/mini_spoken_squad/scale_size1 ...

Reads TSVs with the header ``size stage wall_s cpu_s max_rss_mb disk_mb load_avg``. Where the
same (size, stage) appears more than once (several runs), the fastest run's times and the largest
RSS and disk are kept. Prints one table per stage (a row per size) and a summary with the growth
exponent of every measure: the log-log slope between the smallest and the largest size
(1 = linear in the corpus size, 0 = constant).

A stage is flagged when its wall or CPU time grows faster than ``--max_time_exponent`` (1.2) (a
wall exponent is not flagged, only listed, when the CPU time grew linearly and the stage's CPU/wall
ratio fell by more than 20%: other work took the CPUs), or
when its peak RSS grows with the size (exponent above ``--max_rss_exponent``, 0.3, and by more
than ``--min_rss_growth_mb``, 50 MB) although it should stream (``--streaming_stages``: every
stage by default: features are read lazily, one utterance or batch at a time).

``--corpus SIZE=DIR`` (repeatable) adds a table of what each size's recipe directory holds, per
set: passages (``contexts`` lines), questions (``questions.jsonl`` lines), utterances, words of
``text`` and hours of ``utt2dur``, and the speaking rate.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

STAGE_NAMES = {
    1: "data preparation (synthesis + import)",
    2: "features + CMVN",
    3: "CTC aligner training",
    4: "alignment + answer spans + ASR",
    5: "joint embedding training",
    6: "cross-modal pre-training",
    7: "SQA fine-tuning",
    8: "decoding + scoring",
    9: "cascade (text QA training + decoding)",
    10: "ensemble + RESULTS.md",
}
COLUMNS = ("wall_s", "cpu_s", "max_rss_mb", "disk_mb", "load_avg")


def read_rows(paths: list[Path]) -> dict[tuple[float, int], dict[str, float]]:
    """``(size, stage) -> measures``, merged over the files (fastest times, largest RSS/disk)."""
    rows: dict[tuple[float, int], dict[str, float]] = {}
    for path in paths:
        with open(path, newline="") as f:
            reader = csv.DictReader(f, delimiter="\t")
            missing = {"size", "stage", *COLUMNS} - set(reader.fieldnames or [])
            if missing:
                raise SystemExit(f"{path}: missing columns {sorted(missing)}")
            for lineno, r in enumerate(reader, start=2):
                try:
                    key = (float(r["size"]), int(r["stage"]))
                    vals = {c: float(r[c]) for c in COLUMNS}
                except (TypeError, ValueError) as e:
                    raise SystemExit(f"{path}:{lineno}: {e}") from None
                old = rows.get(key)
                if old is None or vals["wall_s"] < old["wall_s"]:
                    if old is not None:
                        vals["max_rss_mb"] = max(vals["max_rss_mb"], old["max_rss_mb"])
                        vals["disk_mb"] = max(vals["disk_mb"], old["disk_mb"])
                    rows[key] = vals
                else:
                    old["max_rss_mb"] = max(vals["max_rss_mb"], old["max_rss_mb"])
                    old["disk_mb"] = max(vals["disk_mb"], old["disk_mb"])
    return rows


def exponent(s0: float, v0: float, s1: float, v1: float) -> float | None:
    """Log-log slope between (s0, v0) and (s1, v1); ``None`` where undefined (zero values)."""
    if s0 <= 0 or s1 <= 0 or s0 == s1 or v0 <= 0 or v1 <= 0:
        return None
    return math.log(v1 / v0) / math.log(s1 / s0)


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares ``y = a + b x``: ``(a, b)`` (the fixed part and the part per size unit)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return my - b * mx, b


def fmt_exp(e: float | None) -> str:
    return "—" if e is None else f"{e:.2f}"


def fmt_size(s: float) -> str:
    return f"{s:g}"


def corpus_rows(size: str, recipe_dir: Path) -> list[str]:
    """Markdown rows of the data sets of one recipe directory (``data/<set>``)."""
    out = []
    for d in sorted(p for p in (recipe_dir / "data").iterdir() if (p / "text").is_file()):
        def lines(name: str) -> int:
            f = d / name
            return sum(1 for _ in open(f, encoding="utf-8")) if f.is_file() else 0
        words = 0
        utts = 0
        with open(d / "text", encoding="utf-8") as f:
            for line in f:
                utts += 1
                words += max(0, len(line.split()) - 1)
        seconds = 0.0
        if (d / "utt2dur").is_file():
            with open(d / "utt2dur", encoding="utf-8") as f:
                seconds = sum(float(line.split()[1]) for line in f if line.strip())
        passages = lines("contexts")
        wpm = words / (seconds / 60) if seconds else float("nan")
        wpp = words / passages if passages else float("nan")
        out.append(f"| {size} | {d.name} | {passages} | {lines('questions.jsonl')} | {utts} | {words} | "
                   f"{wpp:.1f} | {seconds / 3600:.3f} | {wpm:.0f} |")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("tsv", nargs="+", type=Path)
    p.add_argument("--max_time_exponent", type=float, default=1.2)
    p.add_argument("--max_rss_exponent", type=float, default=0.3)
    p.add_argument("--min_rss_growth_mb", type=float, default=50.0)
    p.add_argument("--streaming_stages", default=" ".join(str(s) for s in STAGE_NAMES),
                   help="stages whose peak RSS should not grow with the corpus size")
    p.add_argument("--corpus", action="append", default=[], metavar="SIZE=DIR",
                   help="a size's recipe directory, for a table of its data sets")
    args = p.parse_args(argv)
    if args.corpus:
        print("## Corpus per size\n")
        print("| size | set | passages | questions | utterances | words | words/passage | hours | words/min |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for spec in args.corpus:
            size, sep, d = spec.partition("=")
            if not sep:
                raise SystemExit(f"--corpus {spec!r}: expected SIZE=DIR")
            print("\n".join(corpus_rows(size, Path(d))))
        print()
    rows = read_rows(args.tsv)
    if not rows:
        print("no measurements", file=sys.stderr)
        return 1
    streaming = {int(s) for s in args.streaming_stages.split()}
    sizes = sorted({s for s, _ in rows})
    stages = sorted({st for _, st in rows})

    out = []
    summary = []
    flagged = []
    contention: list[str] = []
    for st in stages:
        have = [s for s in sizes if (s, st) in rows]
        out.append(f"### Stage {st}: {STAGE_NAMES.get(st, '?')}\n")
        out.append("| size | wall s | CPU s | CPU/wall | peak RSS MB | disk MB | load |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|")
        for s in have:
            r = rows[(s, st)]
            util = r["cpu_s"] / r["wall_s"] if r["wall_s"] > 0 else float("nan")
            out.append(f"| {fmt_size(s)} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {util:.2f} | "
                       f"{r['max_rss_mb']:.0f} | {r['disk_mb']:.1f} | {r['load_avg']:.2f} |")
        out.append("")
        if len(have) < 2:
            summary.append(f"| {st} | {STAGE_NAMES.get(st, '?')} | — | — | — | — | — | — | one size only |")
            continue
        lo, hi = rows[(have[0], st)], rows[(have[-1], st)]
        e = {c: exponent(have[0], lo[c], have[-1], hi[c]) for c in ("wall_s", "cpu_s", "max_rss_mb", "disk_mb")}
        a, b = linear_fit(have, [rows[(s, st)]["cpu_s"] for s in have])
        notes = []
        util_lo = lo["cpu_s"] / lo["wall_s"] if lo["wall_s"] > 0 else 0.0
        util_hi = hi["cpu_s"] / hi["wall_s"] if hi["wall_s"] > 0 else 0.0
        cpu_linear = e["cpu_s"] is None or e["cpu_s"] <= args.max_time_exponent
        for c, label in (("wall_s", "wall"), ("cpu_s", "CPU")):
            if e[c] is not None and e[c] > args.max_time_exponent:
                if c == "wall_s" and cpu_linear and util_hi < 0.8 * util_lo:
                    # The CPU time grew linearly; the wall time grew because the stage got less of
                    # the CPUs (other work on the machine): not the stage's own growth.
                    contention.append(f"stage {st}: wall exponent {e[c]:.2f}, CPU {fmt_exp(e['cpu_s'])}, "
                                      f"CPU/wall {util_lo:.2f} → {util_hi:.2f}")
                    continue
                notes.append(f"{label} time non-linear (exponent {e[c]:.2f})")
        rss_growth = hi["max_rss_mb"] - lo["max_rss_mb"]
        if (st in streaming and e["max_rss_mb"] is not None and e["max_rss_mb"] > args.max_rss_exponent
                and rss_growth > args.min_rss_growth_mb):
            notes.append(f"peak RSS grows with the size (+{rss_growth:.0f} MB, exponent {e['max_rss_mb']:.2f})")
        if notes:
            flagged.append(st)
        summary.append(f"| {st} | {STAGE_NAMES.get(st, '?')} | {fmt_exp(e['wall_s'])} | {fmt_exp(e['cpu_s'])} | "
                       f"{fmt_exp(e['max_rss_mb'])} | {fmt_exp(e['disk_mb'])} | {a:.1f} | {b:.1f} | {'; '.join(notes) or 'ok'} |")

    span = f"{fmt_size(sizes[0])} → {fmt_size(sizes[-1])}"
    print(f"## Growth exponents (log-log slope, size {span}; 1 = linear)\n")
    print("CPU fit: least-squares CPU seconds = fixed + per_size × size over every measured size.\n")
    print("| stage | what | wall | CPU | peak RSS | disk | CPU fixed s | CPU s per size | flag |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(summary))
    print()
    if contention:
        print("Not flagged: wall time grew faster than linear only because the stage got less CPU "
              "(CPU time linear, CPU/wall fell by more than 20%):\n")
        print("\n".join(f"- {c}" for c in contention))
        print()
    totals = []
    for s in sizes:
        rs = [rows[(s, st)] for st in stages if (s, st) in rows]
        totals.append(f"| {fmt_size(s)} | {len(rs)} | {sum(r['wall_s'] for r in rs) / 60:.1f} | "
                      f"{sum(r['cpu_s'] for r in rs) / 60:.1f} | {max(r['max_rss_mb'] for r in rs):.0f} | "
                      f"{sum(r['disk_mb'] for r in rs):.0f} |")
    print("## Totals per size\n")
    print("| size | stages | wall min | CPU min | peak RSS MB (max) | disk MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    print("\n".join(totals))
    print()
    print("## Per stage\n")
    print("\n".join(out))
    if flagged:
        print(f"Flagged stages: {' '.join(str(s) for s in flagged)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
