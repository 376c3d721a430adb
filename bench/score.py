"""Benchmark: score 10,000 questions (with ASR text, so both splits) on one CPU core.

Builds a synthetic data set shaped like the Spoken SQuAD test set (about 5 sentences and 130
words per passage, 2.6 questions per passage, 1-3 reference answers, ~22 % WER ASR text), then
times ``speechbert.bin.score_sqa`` end to end (reading, the passage WER alignment, scoring, the
bootstrap intervals of every group, writing; in-process, so the one-off interpreter and torch
import are not counted). Target: <= 0.5 CPU s on one core.

Reference, measured in the same run (interleaved): the official SQuAD v1.1 EM/F1 algorithm,
written here from its published definition (normalize: lower-case, remove punctuation, remove
the articles a/an/the, collapse whitespace; EM = normalized strings equal; F1 = token multiset
overlap; both maximised over the references), on the same predictions. It must give the same
EM and F1 as score_sqa (checked per question).

Usage:
    tools/venv/bin/python bench/score.py [--questions 10000] [--repeats 5] [--bootstrap_samples 1000] [--json FILE]
"""

from __future__ import annotations

import os

# One core: keep numpy's BLAS (unused here, but imported) from spreading out.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import collections  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import string  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from bench_common import Bench, add_bench_args, interleaved, one_thread  # noqa: E402

BUDGET_S = 0.5
VOCAB = [f"w{i}" for i in range(3000)] + ["the", "a", "of", "in", "and", "to", "is", "was"]


def make_set(root: Path, n_questions: int, seed: int = 0) -> tuple[Path, Path]:
    rng = random.Random(seed)
    text, asr, contexts, utt2dur, questions, preds = {}, {}, {}, {}, [], []
    q = 0
    c = 0
    while q < n_questions:
        cid = f"test-{c // 50:04d}-{c % 50:04d}"
        c += 1
        utts, words, times, t = [], [], [], 0.0
        for s in range(rng.randint(3, 7)):
            utt = f"{cid}-{s:03d}"
            ws = [rng.choice(VOCAB) for _ in range(rng.randint(15, 40))]
            hyp = []
            for w in ws:  # ~22 % WER: substitutions, deletions, insertions
                r = rng.random()
                if r < 0.12:
                    hyp.append(rng.choice(VOCAB))
                elif r < 0.17:
                    continue
                else:
                    hyp.append(w)
                if rng.random() < 0.05:
                    hyp.append(rng.choice(VOCAB))
            text[utt], asr[utt] = " ".join(ws), " ".join(hyp)
            dur = 0.35 * len(ws) + 0.2
            for i in range(len(ws)):
                times.append((t + 0.1 + 0.35 * i, t + 0.1 + 0.35 * i + 0.3))
            utt2dur[utt] = dur
            t += dur
            utts.append(utt)
            words += ws
        contexts[cid] = utts
        passage = " ".join(words)
        starts, pos = [], 0
        for w in words:
            pos = passage.index(w, pos)
            starts.append(pos)
            pos += len(w)
        for _ in range(rng.choice((2, 3, 3))):
            spans = []
            for _ in range(rng.randint(1, 3)):
                first = rng.randrange(len(words) - 6)
                spans.append((first, first + rng.randint(0, 5)))
            qid = f"{q:024x}"
            questions.append({
                "id": qid, "context_id": cid, "question": "what is it",
                "answers": [{"text": " ".join(words[f:l + 1]), "char_start": starts[f]} for f, l in spans],
                "answer_word_spans": [[f, l] for f, l in spans],
                "answer_time_spans": [None if rng.random() < 0.02 else
                                      [round(times[f][0], 3), round(times[l][1], 3)] for f, l in spans]})
            pf = max(0, spans[0][0] + rng.randint(-3, 3))
            pl = min(len(words) - 1, pf + rng.randint(0, 6))
            if rng.random() > 0.01:  # a few missing predictions
                preds.append({"id": qid, "context_id": cid, "word_span": [pf, pl],
                              "words": " ".join(words[pf:pl + 1]), "start": round(times[pf][0], 3),
                              "end": round(times[pl][1], 3), "score": 1.0, "nbest": []})
            q += 1
    data = root / "data" / "test"
    data.mkdir(parents=True)

    def table(name: str, d: dict) -> None:
        (data / name).write_text("".join(f"{k} {v}\n" for k, v in sorted(d.items())), encoding="utf-8")

    table("text", text)
    table("text.asr", asr)
    table("utt2dur", {k: f"{v:.3f}" for k, v in utt2dur.items()})
    table("contexts", {k: " ".join(v) for k, v in contexts.items()})
    (data / "questions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in questions), encoding="utf-8")
    pred = root / "exp" / "bench" / "decode_test" / "predictions.jsonl"
    pred.parent.mkdir(parents=True)
    pred.write_text("".join(json.dumps(x) + "\n" for x in preds), encoding="utf-8")
    return data, pred


def official_squad_v11(predictions: dict[str, str], references: dict[str, list[str]]) -> dict[str, tuple[float, float]]:
    """``{qid: (EM, F1)}`` (0/1 and 0..1) by the SQuAD v1.1 definition; written for this benchmark."""
    punct = set(string.punctuation)
    articles = re.compile(r"\b(a|an|the)\b")

    def normalize(s: str) -> str:
        s = "".join(ch for ch in s.lower() if ch not in punct)
        return " ".join(articles.sub(" ", s).split())

    def f1(pred: str, gold: str) -> float:
        p, g = normalize(pred).split(), normalize(gold).split()
        same = sum((collections.Counter(p) & collections.Counter(g)).values())
        if same == 0:
            return 0.0
        precision, recall = same / len(p), same / len(g)
        return 2 * precision * recall / (precision + recall)

    out = {}
    for qid, golds in references.items():
        pred = predictions.get(qid, "")
        out[qid] = (max(float(normalize(pred) == normalize(g)) for g in golds), max(f1(pred, g) for g in golds))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=10000)
    parser.add_argument("--bootstrap_samples", type=int, default=1000)
    parser.add_argument("--budget_s", type=float, default=BUDGET_S, help="target: CPU s end to end")
    add_bench_args(parser, repeats=5)
    args = parser.parse_args()
    one_thread()
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    bench = Bench("score", args)
    from speechbert.bin import score_sqa
    from speechbert.metrics.squad_text import best_em_f1

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data, pred = make_set(root, args.questions)
        n_ctx = sum(1 for _ in open(data / "contexts", encoding="utf-8"))
        n_utt = sum(1 for _ in open(data / "text", encoding="utf-8"))
        print(f"synthetic set: {args.questions} questions, {n_ctx} passages, {n_utt} utterances")
        argv = ["--data", str(data), "--predictions", str(pred), "--out_dir", str(pred.parent), "--verbose", "0"]
        questions = [json.loads(x) for x in (data / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
        refs = {q["id"]: [a["text"] for a in q["answers"]] for q in questions}
        words = {p["id"]: p["words"] for p in map(json.loads, pred.read_text(encoding="utf-8").splitlines())}

        def run(extra: list[str]) -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                rc = score_sqa.main(argv + extra)
            if rc != 0:
                raise SystemExit(f"score_sqa failed with exit status {rc}")

        def ours_em_f1() -> None:
            for qid, golds in refs.items():
                best_em_f1(words.get(qid, ""), golds)

        best = interleaved({
            "official": lambda: official_squad_v11(words, refs),
            "ours_em_f1": ours_em_f1,
            "no_intervals": lambda: run(["--bootstrap_samples", "0"]),
            "end_to_end": lambda: run(["--bootstrap_samples", str(args.bootstrap_samples)]),
        }, args.repeats)
        res = json.loads((pred.parent / "result.json").read_text(encoding="utf-8"))
        scores = {r["id"]: r for r in map(json.loads, (pred.parent / "scores.jsonl").read_text().splitlines())}
        official = official_squad_v11(words, refs)
        disagree = sum(1 for qid, (em, f1) in official.items()
                       if abs(100 * em - scores[qid]["em"]) > 1e-9 or abs(100 * f1 - scores[qid]["f1"]) > 1e-9)
        off_em = 100 * sum(e for e, _ in official.values()) / len(official)
        off_f1 = 100 * sum(f for _, f in official.values()) / len(official)
    o = res["overall"]
    print(f"FF1 {o['ff1']:.2f}  AOS {o['aos']:.2f}  EM {o['em']:.2f}  F1 {o['f1']:.2f}  WER {res['wer']['wer']:.2f}  "
          f"with-ASR-error questions {res['by_asr_error']['with_asr_error']['questions']}")
    print(f"official SQuAD v1.1 EM {off_em:.2f} F1 {off_f1:.2f}; per-question disagreements with score_sqa: {disagree}")
    print(f"\nCPU seconds, 1 core, best of {args.repeats} interleaved, {args.questions} questions\n")
    print("| what | CPU s |\n|---|---:|")
    for name, label in (("end_to_end", f"score_sqa end to end ({args.bootstrap_samples} bootstrap resamples)"),
                        ("no_intervals", "score_sqa --bootstrap_samples 0"),
                        ("official", "official SQuAD v1.1 EM/F1 alone (reference)"),
                        ("ours_em_f1", "our EM/F1 alone (squad_text.best_em_f1)")):
        print(f"| {label} | {best[name]:.3f} |")
    bench.record(questions=args.questions, end_to_end_s=round(best["end_to_end"], 3),
                 no_intervals_s=round(best["no_intervals"], 3), official_em_f1_s=round(best["official"], 3),
                 ours_em_f1_s=round(best["ours_em_f1"], 3),
                 ratio_em_f1=round(best["ours_em_f1"] / best["official"], 3),
                 ratio_end_to_end_vs_official=round(best["end_to_end"] / best["official"], 2),
                 em=round(o["em"], 4), f1=round(o["f1"], 4), official_em=round(off_em, 4),
                 official_f1=round(off_f1, 4), disagreements=disagree)
    bench.target("score_sqa end to end CPU s", round(best["end_to_end"], 3), "<=", args.budget_s)
    bench.target("questions whose EM/F1 differ from the official algorithm", disagree, "==", 0)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
