"""CMU PocketSphinx (the ``pocketsphinx`` wheel's US English acoustic model, language model and
dictionary) as the cascade's ASR: the kind of recogniser that made the Spoken SQuAD transcripts.

Words and times come from the decoder's best-path segmentation (10 ms frames); fillers
(``<s>``, ``</s>``, ``<sil>``, ``[NOISE]`` ...) are dropped and pronunciation variants
(``and(2)``) are mapped to their word. Measured on eSpeak speech: about 0.2× real time; word
error rate ~84% on clean eSpeak audio (its digital-zero pauses confuse the decoder) but 24–36%
once low Gaussian noise is added, as the synthesizer does (doc/answering.md).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from speechbert.asr.transcript import TimedWord, Transcript, normalize_timed_words
from speechbert.audio.wav_io import WavSource
from speechbert.errors import ConfigError, DataError
from speechbert.progress import track

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
_VARIANT = re.compile(r"\(\d+\)$")


def _is_filler(word: str) -> bool:
    return word.startswith(("<", "[", "+")) or not word


class PocketsphinxRecognizer:
    """A loaded PocketSphinx decoder for 16 kHz mono audio (loading takes about a second)."""

    def __init__(self) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as e:  # pragma: no cover - the wheel is a project dependency
            raise ConfigError(f"--asr pocketsphinx needs the pocketsphinx package ({e})") from None
        self.decoder = Decoder(samprate=SAMPLE_RATE, loglevel="ERROR")
        self.frame_rate = int(self.decoder.config["frate"])

    def recognize(self, samples: np.ndarray) -> list[TimedWord]:
        """Normalized words with utterance-relative times of mono float32 samples at 16 kHz."""
        if samples.ndim != 1:
            raise DataError(f"expected mono samples, got shape {samples.shape}")
        duration = len(samples) / SAMPLE_RATE
        pcm = (np.clip(samples, -1.0, 32767 / 32768) * 32768).astype(np.int16).tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, no_search=False, full_utt=True)
        self.decoder.end_utt()
        if self.decoder.hyp() is None:
            return []
        words = []
        for seg in self.decoder.seg():
            word = _VARIANT.sub("", seg.word)
            if _is_filler(word):
                continue
            start = min(seg.start_frame / self.frame_rate, duration)
            end = min((seg.end_frame + 1) / self.frame_rate, duration)
            words.append(TimedWord(word, start, max(end, start), float(seg.prob)))
        return normalize_timed_words(words)


def transcribe_pocketsphinx(data_dir: str | Path, utts: Sequence[str],
                            recognizer: PocketsphinxRecognizer | None = None) -> Transcript:
    """Recognise ``utts`` of a data dir's ``wav.scp`` (and ``segments``), resampled to 16 kHz."""
    data_dir = Path(data_dir)
    segments = data_dir / "segments"
    source = WavSource(data_dir / "wav.scp", segments if segments.is_file() else None, sample_rate=SAMPLE_RATE)
    known = set(source.keys())
    recognizer = recognizer or PocketsphinxRecognizer()
    out = Transcript()
    for utt in track(utts, "recognizing utterances (pocketsphinx)", log=logger):
        if utt not in known:
            out.skip(utt, "no_audio", "not in wav.scp/segments")
            continue
        samples, _ = source.load(utt)
        out.add(utt, recognizer.recognize(samples))
    return out
