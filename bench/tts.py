#!/usr/bin/env python3
"""TTS throughput: eSpeak NG synthesis in × real time on one core.

Rows: several voices over the same normalized sentences. Columns: the bare eSpeak call (the
reference, measured in the same run), our full synthesize() (word/phoneme events, word times,
resampling to 16 kHz, noise), and the share of time our additions cost. The mini corpus needs
>= 50× real time per core.

Run: tools/venv/bin/python bench/tts.py [--sentences N]
"""

from __future__ import annotations

import argparse
import time

import torch

from speechbert.synth.mini_corpus import generate_mini_corpus
from speechbert.synth.tts import EspeakSynthesizer, Voice
from speechbert.text.normalize import normalize_text
from speechbert.text.sentences import split_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=40, help="sentences per voice")
    args = parser.parse_args()
    torch.set_num_threads(1)
    corpus = generate_mini_corpus(0.2, seed=1)
    sentences = [normalize_text(s) for a in corpus["train"] for p in a.paragraphs
                 for s in split_sentences(p.context)][: args.sentences]
    synth = EspeakSynthesizer()
    lib = synth._lib  # the bare eSpeak call is the reference
    synth.synthesize(sentences[0])  # warm-up: library load, resampling kernels
    print(f"{len(sentences)} sentences per voice, 1 thread\n")
    print(f"| {'voice':<16} | {'audio s':>8} | {'eSpeak only ×RT':>15} | {'synthesize ×RT':>14} | {'overhead':>8} |")
    print(f"|{'-' * 18}|{'-' * 10}|{'-' * 17}|{'-' * 16}|{'-' * 10}|")
    total_audio = total_full = 0.0
    for name in ("en-us", "en-us+m3", "en-us+f2", "en+m3", "en-gb-x-rp+f3"):
        voice = Voice(name, 175, 50)
        t0 = time.perf_counter()
        audio_s = 0.0
        for s in sentences:
            raw, _ = lib.speak(s, voice)
            audio_s += len(raw) / 22050
        t_bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        for k, s in enumerate(sentences):
            synth.synthesize(s, voice, seed=k)
        t_full = time.perf_counter() - t0
        total_audio += audio_s
        total_full += t_full
        print(f"| {name:<16} | {audio_s:8.1f} | {audio_s / t_bare:15.0f} | {audio_s / t_full:14.0f} | "
              f"{100 * (t_full - t_bare) / t_full:7.0f}% |")
    print(f"\noverall: {total_audio / total_full:.0f}× real time per core (target >= 50×)")


if __name__ == "__main__":
    main()
