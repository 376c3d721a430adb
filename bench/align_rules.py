#!/usr/bin/env python3
"""Boundary-rule variants of one trained CTC aligner: chosen on dev, word-time accuracy on test.

Part of ``make bench`` (about a minute of CPU); skipped when the recipe has not been run.
The speed of an alignment does not depend on its boundary rule (the rule is a lookup after
``forced_align``), so every row runs at the model's speed (``bench/align.py``). The recipe's
default rule is left as it is (changing it would change every downstream result); this
script measures what other rules would give, for the Pareto table in ``doc/alignment.md``.

Rows: the model's own rule (the recipe default: calibrated on 200 dev utterances, per-letter
offsets for letters seen >= 15 times), then rules re-estimated on all dev utterances with
per-letter offsets at several minimum counts, and a single global offset. Test word times are
compared with eSpeak NG's (``oracle.ctm``).

    tools/venv/bin/python bench/align_rules.py [--recipe_dir egs/mini_spoken_squad/sqa1] [--json FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench_common import REPO, Bench, add_bench_args, one_thread


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipe_dir", default=str(REPO / "egs" / "mini_spoken_squad" / "sqa1"))
    p.add_argument("--model", default="exp/ctc_aligner", help="aligner directory, relative to the recipe")
    add_bench_args(p, repeats=1)
    args = p.parse_args()
    one_thread()
    bench = Bench("align_rules", args)
    from speechbert.align.aligner import load_aligner
    from speechbert.align.calibrate import collect_raw_words
    from speechbert.align.data import FeatureSource
    from speechbert.align.forced import AlignmentSkip, align_words, estimate_boundary_rule
    from speechbert.align.import_ctm import read_utt2dur
    from speechbert.align.report import compare_ctms
    from speechbert.io.ctm import CtmEntry, read_ctm
    from speechbert.io.kaldi_table import read_table

    recipe = Path(args.recipe_dir)
    if not (recipe / args.model / "aligner.yaml").is_file():
        print(f"no trained aligner in {recipe / args.model} (run the mini recipe first): skipped")
        bench.record(skipped=True)
        return bench.finish()
    aligner = load_aligner(recipe / args.model)
    sets = {}
    for name in ("dev", "test"):
        data = recipe / "data" / name
        text = read_table(data / "text", allow_empty_value=True)
        source = FeatureSource(recipe / "dump" / name, aligner.cmvn)
        utt2dur = read_utt2dur(data)
        # The rule only reads the CTC path: one forward per utterance serves every rule.
        lps = {u: (aligner.log_probs(f := source.load(u), normalized=source.cmvn is not None),
                   utt2dur.get(u, len(f) * aligner.frame_shift)) for u in text if u in source}
        sets[name] = (text, source, lps, read_ctm(data / "oracle.ctm"))
    dev_text, dev_source, _, dev_ref = sets["dev"]

    def ctm_of(name: str, rule) -> dict:
        text, _, lps, _ = sets[name]
        ctm = {}
        for u, (lp, duration) in lps.items():
            words = text[u].split()
            try:
                times, _ = align_words(lp, words, aligner.vocab, aligner.output_shift, rule, duration)
            except AlignmentSkip:
                continue
            ctm[u] = [CtmEntry(u, t.start, t.end - t.start, w, t.conf) for w, t in zip(words, times)]
        return ctm

    raws, starts, ends = collect_raw_words(aligner, dev_text, dev_source, dev_ref, list(dev_text))
    rules = [("recipe default (200 dev utts, >= 15 per letter)", aligner.rule)]
    for min_count in (5, 15, 40):
        rules.append((f"all dev utts, >= {min_count} per letter", estimate_boundary_rule(raws, starts, ends, min_count)[0]))
    rules.append(("all dev utts, one global offset", estimate_boundary_rule(raws, starts, ends, 10**9)[0]))

    print(f"aligner {recipe / args.model}; rules estimated from {len(raws)} dev words\n")
    print("| rule | dev starts <= 20 ms | test starts <= 20 / 50 ms | test ends <= 20 / 50 ms | test median start err |")
    print("|---|---:|---:|---:|---:|")
    for k, (label, rule) in enumerate(rules):
        row = {}
        for name in ("dev", "test"):
            row[name] = compare_ctms(ctm_of(name, rule), sets[name][3])
        d, t = row["dev"], row["test"]
        print(f"| {label}: {rule} | {d.starts.within(20):.1f}% | {t.starts.within(20):.1f}% / {t.starts.within(50):.1f}% "
              f"| {t.ends.within(20):.1f}% / {t.ends.within(50):.1f}% | {t.starts.median_ms:.1f} ms |")
        bench.record(**{f"rule{k}_dev_start20": round(d.starts.within(20), 2),
                        f"rule{k}_test_start20": round(t.starts.within(20), 2),
                        f"rule{k}_test_start50": round(t.starts.within(50), 2),
                        f"rule{k}_test_end20": round(t.ends.within(20), 2),
                        f"rule{k}_test_end50": round(t.ends.within(50), 2)})
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
