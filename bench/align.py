#!/usr/bin/env python3
"""How accurate and how fast is the CTC aligner? Word times vs eSpeak NG's, on the mini test set.

Builds the mini corpus (``make_mini_corpus`` -> ``synthesize_squad`` -> ``prepare_spoken_squad``
-> ``compute_feats`` + ``compute_cmvn``), trains the aligner with the mini recipe's config
(``align_train``), aligns the test set and prints:

* word start / end errors against the synthesizer's word times (targets: >= 90% of starts
  within 50 ms, >= 70% within 20 ms);
* alignment throughput in x real time on one CPU thread: model forward + ``forced_align``,
  next to the model forward alone measured in the same run (target >= 100x);
* the aligner's WER as a greedy CTC ASR.

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


def measure(work: Path, test_set: str) -> None:
    import torch

    from speechbert.align.align_dir import align_dir
    from speechbert.align.aligner import load_aligner
    from speechbert.align.data import FeatureSource
    from speechbert.align.import_ctm import read_utt2dur
    from speechbert.align.report import compare_ctms
    from speechbert.asr.ctc import transcribe_ctc
    from speechbert.io.ctm import read_ctm
    from speechbert.io.kaldi_table import read_table
    from speechbert.metrics.wer import corpus_wer

    torch.set_num_threads(1)
    aligner = load_aligner(work / "exp" / "align_model")
    data, dump = work / "data" / test_set, work / "dump" / test_set
    text = read_table(data / "text", allow_empty_value=True)
    source = FeatureSource(dump, aligner.cmvn)
    utts = list(text)
    # warm-up (first-call allocations), then the timed run
    align_dir(aligner, text, source, utts[:5], read_utt2dur(data))
    res = align_dir(aligner, text, source, utts, read_utt2dur(data))
    rep = compare_ctms(res.ctm, read_ctm(data / "oracle.ctm"))
    asr = transcribe_ctc(aligner, source, utts, read_utt2dur(data))
    wer = corpus_wer(text, asr.hyps, keys=utts)

    n_params = sum(p.numel() for p in aligner.model.parameters())
    print(f"\naligner: {n_params / 1e6:.2f} M parameters, output frame {1000 * aligner.output_shift:.0f} ms, "
          f"rule {aligner.rule}")
    print(f"test set: {len(utts)} utterances, {res.audio_seconds / 60:.1f} min of audio; "
          f"aligned {len(res.ctm)}, skipped {res.n_skipped}\n")
    print(rep.to_markdown(f"Word times vs eSpeak NG ({test_set})"))
    total = res.forward_seconds + res.align_seconds
    print("| throughput (1 thread) | x real time |\n|---|---:|")
    print(f"| model forward alone | {res.audio_seconds / res.forward_seconds:.0f} |")
    print(f"| forward + forced_align (alignment) | {res.audio_seconds / total:.0f} |")
    print(f"| forced_align + word times alone | {res.audio_seconds / res.align_seconds:.0f} |\n")
    print(f"aligner as a greedy CTC ASR: WER {wer.wer:.1f}% ({wer.errors} / {wer.ref_words} words)\n")
    checks = [("word starts within 50 ms >= 90%", rep.starts.within(50) >= 90),
              ("word starts within 20 ms >= 70%", rep.starts.within(20) >= 70),
              ("alignment >= 100x real time per core", res.audio_seconds / total >= 100)]
    for name, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work_dir", default=None, help="keep corpus and model here (reused when present)")
    p.add_argument("--size", type=float, default=1.0, help="mini corpus size (1.0 = the recipe's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--config", default=str(MINI / "conf" / "ctc_aligner.yaml"), help="aligner config")
    p.add_argument("--train_threads", type=int, default=1,
                   help="torch threads for training (1 is fastest on a busy machine)")
    p.add_argument("--test_set", default="test")
    p.add_argument("train_options", nargs="*", help="extra align_train options, after --")
    args = p.parse_args()
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
    measure(work, args.test_set)
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
