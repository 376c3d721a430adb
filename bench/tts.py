#!/usr/bin/env python3
"""TTS throughput: eSpeak NG synthesis in × real time on one core.

Rows: several voices over the same normalized sentences. Columns: the bare eSpeak call (the
reference, measured in the same run), our full synthesize() (word/phoneme events, word times,
resampling to 16 kHz, noise), and the share of time our additions cost. The mini corpus needs
>= 50× real time per core.

CPU time, each voice's bare eSpeak pass interleaved with its synthesize() pass, best of
``--repeats`` (``bench_common.interleaved``).

Run: tools/venv/bin/python bench/tts.py [--sentences N] [--repeats N] [--json FILE]
"""

from __future__ import annotations

import argparse
import sys

import torch
from bench_common import Bench, add_bench_args, interleaved, one_thread

from speechbert.synth.mini_corpus import generate_mini_corpus
from speechbert.synth.tts import EspeakSynthesizer, Voice
from speechbert.text.normalize import normalize_text
from speechbert.text.sentences import split_sentences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=40, help="sentences per voice")
    add_bench_args(parser, repeats=3)
    args = parser.parse_args()
    one_thread()
    torch.set_num_threads(1)
    bench = Bench("tts", args)
    corpus = generate_mini_corpus(0.2, seed=1)
    sentences = [normalize_text(s) for a in corpus["train"] for p in a.paragraphs
                 for s in split_sentences(p.context)][: args.sentences]
    synth = EspeakSynthesizer()
    lib = synth._lib  # the bare eSpeak call is the reference
    synth.synthesize(sentences[0])  # warm-up: library load, resampling kernels
    print(f"{len(sentences)} sentences per voice, 1 thread, CPU time, best of {args.repeats} interleaved\n")
    print(f"| {'voice':<16} | {'audio s':>8} | {'eSpeak only ×RT':>15} | {'synthesize ×RT':>14} | {'overhead':>8} |")
    print(f"|{'-' * 18}|{'-' * 10}|{'-' * 17}|{'-' * 16}|{'-' * 10}|")
    total_audio = total_full = total_bare = 0.0
    for name in ("en-us", "en-us+m3", "en-us+f2", "en+m3", "en-gb-x-rp+f3"):
        voice = Voice(name, 175, 50)
        audio_s = sum(len(lib.speak(s, voice)[0]) for s in sentences) / 22050

        def bare() -> None:
            for s in sentences:
                lib.speak(s, voice)

        def full() -> None:
            for k, s in enumerate(sentences):
                synth.synthesize(s, voice, seed=k)

        best = interleaved({"bare": bare, "full": full}, args.repeats, warmup=False)
        t_bare, t_full = best["bare"], best["full"]
        total_audio += audio_s
        total_full += t_full
        total_bare += t_bare
        print(f"| {name:<16} | {audio_s:8.1f} | {audio_s / t_bare:15.0f} | {audio_s / t_full:14.0f} | "
              f"{100 * (t_full - t_bare) / t_full:7.0f}% |")
    xrt = total_audio / total_full
    print(f"\noverall: {xrt:.0f}× real time per core (target >= 50×)")
    bench.record(audio_s=round(total_audio, 1), xrt=round(xrt), espeak_xrt=round(total_audio / total_bare),
                 ratio=round(total_full / total_bare, 3))
    bench.target("synthesize x real time per core", round(xrt), ">=", 50)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
