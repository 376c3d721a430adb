"""Benchmark: score 10,000 questions (with ASR text, so both splits) on one CPU core.

Builds a synthetic data set shaped like the Spoken SQuAD test set (about 5 sentences and 130
words per passage, 2.6 questions per passage, 1-3 reference answers, ~22 % WER ASR text), then
times ``speechbert.bin.score_sqa`` end to end (reading, aligning, scoring, the bootstrap intervals
of every group, writing; in-process, so the one-off interpreter and torch import are not counted)
and prints the wall and CPU time and their ratio to the 5 s budget. It also times score_sqa
without intervals (``--bootstrap_samples 0``) and the bootstrap alone: the intervals of the four
metrics over all questions, and one paired test, at ``--bootstrap_samples`` resamples.

Usage:
    tools/venv/bin/python bench/score.py [--questions 10000] [--repeat 3] [--bootstrap_samples 1000]
"""

from __future__ import annotations

import os

# One core: keep numpy's BLAS (unused here, but imported) from spreading out.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

BUDGET_S = 5.0
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bootstrap_samples", type=int, default=1000)
    args = parser.parse_args()
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    from speechbert.bin import score_sqa

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data, pred = make_set(root, args.questions)
        n_ctx = sum(1 for _ in open(data / "contexts", encoding="utf-8"))
        n_utt = sum(1 for _ in open(data / "text", encoding="utf-8"))
        print(f"synthetic set: {args.questions} questions, {n_ctx} passages, {n_utt} utterances")
        argv = ["--data", str(data), "--predictions", str(pred), "--out_dir", str(pred.parent),
                "--verbose", "0"]

        def time_score(extra: list[str]) -> tuple[float, float]:
            best = best_cpu = float("inf")
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                with contextlib.redirect_stdout(io.StringIO()):
                    rc = score_sqa.main(argv + extra)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
                if rc != 0:
                    raise SystemExit(f"score_sqa failed with exit status {rc}")
                best, best_cpu = min(best, dt), min(best_cpu, dc)
            return best, best_cpu

        plain, plain_cpu = time_score(["--bootstrap_samples", "0"])
        best, best_cpu = time_score(["--bootstrap_samples", str(args.bootstrap_samples)])
        res = json.loads((pred.parent / "result.json").read_text(encoding="utf-8"))
        o = res["overall"]
        print(f"FF1 {o['ff1']:.2f}  AOS {o['aos']:.2f}  EM {o['em']:.2f}  F1 {o['f1']:.2f}  "
              f"WER {res['wer']['wer']:.2f}  "
              f"with-ASR-error questions {res['by_asr_error']['with_asr_error']['questions']}")
        # CPU time is the work done on the one core; wall time also counts waiting for the core
        # on a shared machine.
        print(f"score_sqa on {args.questions} questions (best of {args.repeat}): wall {best:.3f} s, "
              f"CPU {best_cpu:.3f} s; budget {BUDGET_S:.1f} s; ratio wall {best / BUDGET_S:.3f}, "
              f"CPU {best_cpu / BUDGET_S:.3f} ({'within' if best <= BUDGET_S else 'OVER'} budget)")
        print(f"  of which bootstrap intervals of every group ({args.bootstrap_samples} resamples): "
              f"wall {best - plain:.3f} s, CPU {best_cpu - plain_cpu:.3f} s "
              f"(score_sqa --bootstrap_samples 0: wall {plain:.3f} s, CPU {plain_cpu:.3f} s)")
        time_bootstrap(pred.parent / "scores.jsonl", args.bootstrap_samples, args.repeat)


def time_bootstrap(scores_path: Path, samples: int, repeat: int) -> None:
    """Time the bootstrap alone on the per-question scores score_sqa wrote."""
    from speechbert.metrics.bootstrap import mean_intervals, paired_bootstrap

    recs = [json.loads(line) for line in scores_path.read_text(encoding="utf-8").splitlines()]
    values = [[r[m] for m in ("ff1", "aos", "em", "f1")] for r in recs]
    ff1 = [r["ff1"] for r in recs]
    other = [None if v is None else max(0.0, v - 1.0) for v in ff1]
    for what, fn in (("intervals of FF1, AOS, EM, F1", lambda: mean_intervals(values, samples)),
                     ("one paired test", lambda: paired_bootstrap(ff1, other, samples))):
        best = best_cpu = float("inf")
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            best, best_cpu = min(best, time.perf_counter() - t0), min(best_cpu, time.process_time() - c0)
        print(f"bootstrap alone, {what} over {len(recs)} questions x {samples} resamples: "
              f"wall {best:.3f} s, CPU {best_cpu:.3f} s")


if __name__ == "__main__":
    main()
