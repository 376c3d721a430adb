#!/usr/bin/env python3
"""How accurate and how fast is the CTC aligner? Word times vs eSpeak NG's, on the mini test set.

Builds the mini corpus (``make_mini_corpus`` -> ``synthesize_squad`` -> ``prepare_spoken_squad``
-> ``compute_feats`` + ``compute_cmvn``), trains the aligner with the mini recipe's config
(``align_train``), aligns the test set and prints:

* word start / end errors against the synthesizer's word times (targets: >= 99% of starts
  within 50 ms, >= 86% within 20 ms);
* alignment throughput in x real time on one CPU thread (CPU time, best of ``--repeats``):
  model forward + ``forced_align`` + word times, interleaved with the model forward alone
  (the reference; target >= 1,000x real time per core);
* the aligner's WER as a greedy CTC ASR.

By default (``make bench``) it measures the finished mini recipe's ``exp/ctc_aligner`` on its
test set (read only) and checks that the word times equal the recipe's
``exp/align/test/word.ctm``; with ``--work_dir`` or without a finished recipe it builds the
corpus and trains first.

Usage::

    tools/venv/bin/python bench/align.py                      # everything in a temp dir
    tools/venv/bin/python bench/align.py --work_dir /tmp/ab   # keep (and reuse) corpus and model
    tools/venv/bin/python bench/align.py --work_dir /tmp/ab --size 0.3 --train_threads 2

Building the corpus takes ~1-2 minutes and training ~3-10 minutes on 2 CPU cores (the times are
printed); with ``--work_dir`` a second run reuses both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import Bench, add_bench_args, interleaved, one_thread

REPO = Path(__file__).resolve().parents[1]
MINI = REPO / "egs" / "mini_spoken_squad" / "sqa1"


def _run(args: list[str], threads: int) -> None:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, "-m", *args, "--verbose", "0"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")


def build_corpus(work: Path, size: float, seed: int) -> float:
    """The mini corpus in ``work/{db,data,dump}``; returns the seconds it took (0 if reused)."""
    if (work / "dump" / "train" / "cmvn.ark").is_file():
        return 0.0
    t0 = time.time()
    db = work / "db"
    _run(["speechbert.bin.make_mini_corpus", "--out_dir", str(db / "squad"), "--size", str(size),
          "--seed", str(seed)], 1)
    for split, src in (("train", "train-v1.1.json"), ("test", "dev-v1.1.json")):
        _run(["speechbert.bin.synthesize_squad", "--squad_json", str(db / "squad" / src),
              "--out_dir", str(db / "spoken_squad"), "--split", split, "--seed", str(seed)], 1)
    dev_size = (db / "squad" / "dev_paragraphs").read_text().strip()
    _run(["speechbert.bin.prepare_spoken_squad", "--spoken_squad_root", str(db / "spoken_squad"),
          "--squad_root", str(db / "squad"), "--data_dir", str(work / "data"), "--dev_size", dev_size,
          "--max_loss_ratio", "0", "--noisy_test_sets", "false"], 1)
    conf = str(MINI / "conf" / "fbank.yaml")
    for x in ("train", "dev", "test"):
        dump = work / "dump" / x
        dump.mkdir(parents=True, exist_ok=True)
        _run(["speechbert.bin.compute_feats", "--config", conf, "--out_info_dir", str(dump)], 1)
        _run(["speechbert.bin.compute_feats", "--config", conf, "--wav_scp", str(work / "data" / x / "wav.scp"),
              "--out_ark", str(dump / "feats.ark"), "--out_scp", str(dump / "feats.scp"),
              "--out_utt2num_frames", str(dump / "utt2num_frames")], 1)
    _run(["speechbert.bin.compute_cmvn", "--feats_scp", str(work / "dump/train/feats.scp"),
          "--out", str(work / "dump/train/cmvn.ark")], 1)
    return time.time() - t0


def train(work: Path, config: Path, threads: int, extra: list[str]) -> float:
    """Train the aligner into ``work/exp/align_model``; returns the seconds it took (0 if reused)."""
    model_dir = work / "exp" / "align_model"
    if (model_dir / "aligner.yaml").is_file():
        return 0.0
    t0 = time.time()
    _run(["speechbert.bin.align_train", "--config", str(config),
          "--train_data", str(work / "data/train"), "--train_dump", str(work / "dump/train"),
          "--valid_data", str(work / "data/dev"), "--valid_dump", str(work / "dump/dev"),
          "--cmvn", str(work / "dump/train/cmvn.ark"), "--output_dir", str(model_dir), *extra], threads)
    return time.time() - t0


def measure(model_dir: Path, data: Path, dump: Path, repeats: int, bench: Bench,
            reference_ctm: Path | None = None) -> None:
    """Accuracy against eSpeak NG's word times, CPU speed against the model forward alone."""
    from speechbert.align.align_dir import align_dir
    from speechbert.align.aligner import load_aligner
    from speechbert.align.data import FeatureSource
    from speechbert.align.forced import AlignmentSkip, align_words
    from speechbert.align.import_ctm import read_utt2dur
    from speechbert.align.report import compare_ctms
    from speechbert.asr.ctc import transcribe_ctc
    from speechbert.io.ctm import read_ctm
    from speechbert.io.kaldi_table import read_table
    from speechbert.metrics.wer import corpus_wer

    aligner = load_aligner(model_dir)
    text = read_table(data / "text", allow_empty_value=True)
    source = FeatureSource(dump, aligner.cmvn)
    utts = list(text)
    utt2dur = read_utt2dur(data)
    res = align_dir(aligner, text, source, utts, utt2dur)
    rep = compare_ctms(res.ctm, read_ctm(data / "oracle.ctm"))
    asr = transcribe_ctc(aligner, source, utts, utt2dur)
    wer = corpus_wer(text, asr.hyps, keys=utts)
    same_ctm = None
    if reference_ctm is not None and reference_ctm.is_file():
        # Byte-identical to the recipe's CTM (written by the same writer as bin/align.py)?
        from speechbert.io.ctm import write_ctm

        with tempfile.TemporaryDirectory(prefix="bench_align_ctm.") as tmp:
            write_ctm(Path(tmp) / "word.ctm", res.ctm)
            same_ctm = (Path(tmp) / "word.ctm").read_bytes() == reference_ctm.read_bytes()

    # Speed: features loaded first (not timed), then the forward alone (the reference) and the
    # whole alignment (forward + forced_align + word times) in turn, best of N CPU seconds.
    feats = {u: source.load(u) for u in utts if u in source}
    normalized = source.cmvn is not None
    audio_s = sum(len(f) for f in feats.values()) * aligner.frame_shift

    def forward() -> None:
        for f in feats.values():
            aligner.log_probs(f, normalized=normalized)

    def alignment() -> None:
        for u, f in feats.items():
            lp = aligner.log_probs(f, normalized=normalized)
            try:
                align_words(lp, text.get(u, "").split(), aligner.vocab, aligner.output_shift, aligner.rule,
                            utt2dur.get(u, len(f) * aligner.frame_shift))
            except AlignmentSkip:
                pass

    best = interleaved({"forward": forward, "alignment": alignment}, repeats)

    n_params = sum(p.numel() for p in aligner.model.parameters())
    print(f"\naligner {model_dir}: {n_params / 1e6:.2f} M parameters, output frame "
          f"{1000 * aligner.output_shift:.0f} ms, rule {aligner.rule}")
    print(f"test set {data}: {len(utts)} utterances, {audio_s / 60:.1f} min of audio; "
          f"aligned {len(res.ctm)}, skipped {res.n_skipped}\n")
    print(rep.to_markdown(f"Word times vs eSpeak NG ({data.name})"))
    print(f"| throughput (1 thread, CPU time, best of {repeats}) | x real time |\n|---|---:|")
    print(f"| model forward alone (reference) | {audio_s / best['forward']:.0f} |")
    print(f"| forward + forced_align + word times (alignment) | {audio_s / best['alignment']:.0f} |\n")
    print(f"aligner as a greedy CTC ASR: WER {wer.wer:.1f}% ({wer.errors} / {wer.ref_words} words)")
    if same_ctm is not None:
        print(f"CTM byte-identical to {reference_ctm}: {same_ctm}")
    bench.record(params_m=round(n_params / 1e6, 3), audio_s=round(audio_s, 1),
                 xrt=round(audio_s / best["alignment"]), forward_xrt=round(audio_s / best["forward"]),
                 ratio=round(best["alignment"] / best["forward"], 3),
                 start20=round(rep.starts.within(20), 2), start50=round(rep.starts.within(50), 2),
                 end20=round(rep.ends.within(20), 2), end50=round(rep.ends.within(50), 2),
                 wer=round(wer.wer, 2))
    if same_ctm is not None:
        bench.record(same_as_recipe_ctm=same_ctm)
    if same_ctm is not None:
        bench.target("CTM byte-identical to the recipe's", same_ctm, "==", True)
    bench.target("alignment x real time per core", round(audio_s / best["alignment"]), ">=", 1000)
    bench.target("word starts within 20 ms %", round(rep.starts.within(20), 2), ">=", 86)
    bench.target("word starts within 50 ms %", round(rep.starts.within(50), 2), ">=", 99)


def aligner_dump(recipe: Path, model_dir: Path, test_set: str) -> Path:
    """The recipe's dump of ``test_set`` in the features the aligner was trained on: the sibling of
    its recorded ``train_dump`` (``dump/<feature config tag>/<set>``, doc/features.md)."""
    import yaml

    config = yaml.safe_load((model_dir / "config.yaml").read_text(encoding="utf-8")) or {}
    train_dump = Path(config.get("train_dump") or f"dump/fbank/{test_set}")
    if not train_dump.is_absolute():
        train_dump = recipe / train_dump
    return train_dump.parent / test_set


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipe_dir", default=str(MINI),
                   help="use this finished recipe's exp/ctc_aligner and test set when present "
                        "(default: the mini recipe); '' always builds and trains")
    p.add_argument("--work_dir", default=None, help="keep corpus and model here (reused when present)")
    p.add_argument("--size", type=float, default=1.0, help="mini corpus size (1.0 = the recipe's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--config", default=str(MINI / "conf" / "ctc_aligner.yaml"), help="aligner config")
    p.add_argument("--train_threads", type=int, default=1,
                   help="torch threads for training (1 is fastest on a busy machine)")
    p.add_argument("--test_set", default="test")
    add_bench_args(p, repeats=3)
    p.add_argument("train_options", nargs="*", help="extra align_train options, after --")
    args = p.parse_args()
    bench = Bench("align", args)
    recipe = Path(args.recipe_dir) if args.recipe_dir else None
    if recipe is not None and not args.work_dir and (recipe / "exp" / "ctc_aligner" / "aligner.yaml").is_file():
        one_thread()
        print(f"aligner and test set of the finished recipe in {recipe}")
        measure(recipe / "exp" / "ctc_aligner", recipe / "data" / args.test_set,
                aligner_dump(recipe, recipe / "exp" / "ctc_aligner", args.test_set),
                args.repeats, bench, recipe / "exp" / "align" / args.test_set / "word.ctm")
        return bench.finish()
    tmp = None
    if args.work_dir:
        work = Path(args.work_dir).resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_align.")
        work = Path(tmp.name)
    t_corpus = build_corpus(work, args.size, args.seed)
    print(f"corpus: {'reused' if not t_corpus else f'built in {t_corpus:.0f} s'} ({work})")
    t_train = train(work, Path(args.config), args.train_threads, args.train_options)
    print(f"aligner: {'reused' if not t_train else f'trained in {t_train:.0f} s with {args.train_threads} thread(s)'}"
          f" ({Path(args.config).name})")
    one_thread()
    measure(work / "exp" / "align_model", work / "data" / args.test_set, work / "dump" / args.test_set,
            args.repeats, bench)
    if tmp is not None:
        tmp.cleanup()
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
