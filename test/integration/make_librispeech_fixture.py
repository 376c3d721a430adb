#!/usr/bin/env python3
"""Write a small corpus in the LibriSpeech layout, spoken by eSpeak NG, for the integration test.

Usage: make_librispeech_fixture.py TEXT ROOT [--subset dev-clean] [--utts 24]

The sentences are the first ``--utts`` lines of a Kaldi ``text`` file (the mini recipe's
``data/train/text``), read by two speakers in two chapters each:
``ROOT/<subset>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac`` + ``<spk>-<chapter>.trans.txt``
(upper-case transcripts, as LibriSpeech has them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import soundfile

SPEAKERS = (("19", "198", "en-us+m3"), ("19", "227", "en-us+m3"), ("103", "1240", "en-us+f2"),
            ("103", "1241", "en-us+f2"))


def main(argv: list[str] | None = None) -> int:
    from speechbert.synth.tts import EspeakSynthesizer, Voice

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text")
    parser.add_argument("root")
    parser.add_argument("--subset", default="dev-clean")
    parser.add_argument("--utts", type=int, default=24)
    args = parser.parse_args(argv)
    lines = [x.split(maxsplit=1)[1] for x in Path(args.text).read_text(encoding="utf-8").splitlines()
             if len(x.split(maxsplit=1)) == 2][: args.utts]
    syn = EspeakSynthesizer(sample_rate=16000)
    per_chapter = -(-len(lines) // len(SPEAKERS))
    for k, (spk, chapter, voice) in enumerate(SPEAKERS):
        chunk = lines[k * per_chapter:(k + 1) * per_chapter]
        if not chunk:
            continue
        d = Path(args.root) / args.subset / spk / chapter
        d.mkdir(parents=True, exist_ok=True)
        trans = []
        for n, sentence in enumerate(chunk):
            sid = f"{spk}-{chapter}-{n:04d}"
            audio = syn.synthesize(sentence, Voice(voice), seed=1000 * k + n).audio
            soundfile.write(str(d / f"{sid}.flac"), audio, 16000, format="FLAC", subtype="PCM_16")
            trans.append(f"{sid} {sentence.upper()}\n")
        (d / f"{spk}-{chapter}.trans.txt").write_text("".join(trans), encoding="utf-8")
    print(f"wrote {len(lines)} utterances under {Path(args.root) / args.subset}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
