"""Tests for speechbert.synth.tts (eSpeak NG through ctypes)."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from speechbert.synth.tts import (DEFAULT_VOICES, EspeakSynthesizer, SynthesisError, Voice, _split_group,
                                  pick_voice, stable_seed)

torch.set_num_threads(1)
SENTENCE = "the capital of the country is paris and it was founded in nineteen ninety eight"


@pytest.fixture(scope="module")
def clean():
    return EspeakSynthesizer(noise_level=0.0).synthesize(SENTENCE, Voice("en-us", 175, 50))


def test_one_time_per_word_in_order(clean):
    assert clean.sample_rate == 16000 and clean.audio.dtype == np.float32
    assert [w.word for w in clean.words] == SENTENCE.split()
    for a, b in zip(clean.words, clean.words[1:]):
        assert a.start < a.end <= b.start + 1e-9
    assert clean.words[-1].end <= clean.duration
    # 14 words at 175 wpm: about 4.8 s; word times span nearly all of it
    assert 3.0 < clean.duration < 7.0
    assert clean.words[-1].end - clean.words[0].start > 0.85 * clean.duration


def test_words_cover_the_sound_and_gaps_are_silent(clean):
    x, sr = clean.audio, clean.sample_rate
    # eSpeak's first word event is at sample 0; the start is moved past the leading silence
    assert clean.words[0].start > 0.0
    assert np.max(np.abs(x[: int(clean.words[0].start * sr) - 8])) < 1e-3
    for w in clean.words:
        seg = x[int(w.start * sr):int(w.end * sr)]
        assert np.sqrt(np.mean(seg ** 2)) > 0.01, w  # speech inside every word
    for a, b in zip(clean.words, clean.words[1:]):
        gap = x[int(a.end * sr) + 8:int(b.start * sr) - 8]  # resampling smears a few samples
        if len(gap):
            assert np.max(np.abs(gap)) < 0.02, (a, b)


def test_shared_event_is_split_at_a_phoneme(clean):
    # eSpeak gives "of the" a single word event: both words are estimated and split in between
    of, the = clean.words[2], clean.words[3]
    assert (of.word, the.word) == ("of", "the")
    assert of.estimated and the.estimated
    assert of.end <= the.start and 0.04 < of.end - of.start < 0.3
    assert not clean.words[1].estimated and not clean.words[4].estimated


def test_noise_is_seeded_and_at_the_requested_level():
    synth = EspeakSynthesizer(noise_level=3e-3)
    a = synth.synthesize("hello there", seed=7)
    b = synth.synthesize("hello there", seed=8)
    lead = a.audio[: int(a.words[0].start * a.sample_rate) - 4]
    assert len(lead) > 50
    assert 2e-3 < lead.std() < 4e-3
    assert not np.allclose(a.audio[:200], b.audio[:200])


def test_split_group_proportional():
    # "of the": 4 phonemes (starts at 10, 20, 30, 40 plus the group start 0) -> cut at the 3rd
    assert _split_group(["of", "the"], 0, 50, [10, 20, 30, 40]) == [(0, 20), (20, 50)]
    # no phoneme inside: cut time by letters
    assert _split_group(["ab", "cd"], 0, 100, []) == [(0, 50), (50, 100)]


def test_bad_input():
    synth = EspeakSynthesizer()
    with pytest.raises(SynthesisError, match="empty"):
        synth.synthesize("   ")
    with pytest.raises(SynthesisError, match="no voice"):
        synth.synthesize("hello", Voice("xx-nonexistent"))


def test_pick_voice_is_seeded():
    v1 = pick_voice(random.Random(stable_seed(1, "train", "0_3")))
    v2 = pick_voice(random.Random(stable_seed(1, "train", "0_3")))
    assert v1 == v2 and v1.name in DEFAULT_VOICES and 150 <= v1.rate <= 200
    assert stable_seed("a", 1) == stable_seed("a", 1) != stable_seed("a", 2)


# A sentence with many voiced frames, so that eSpeak's breath noise (en-us+f2) has room to differ.
BREATHY = Voice("en-us+f2", 170, 55)
_SPEAK_IN_CHILD = """
import hashlib, sys
from speechbert.synth.tts import EspeakSynthesizer, Voice
synth = EspeakSynthesizer(sample_rate=22050, noise_level=0.0)  # 22,050 Hz: no resampling, no torch
if sys.argv[1] == "after_other":  # something else first: its eSpeak state must not reach the target
    synth.synthesize("a different sentence spoken first", Voice("en-gb-x-rp+m2", 190, 40), seed=3)
res = synth.synthesize(sys.argv[2], Voice("en-us+f2", 170, 55), seed=int(sys.argv[3]))
print(hashlib.sha256(res.audio.tobytes()).hexdigest(), [(w.start, w.end) for w in res.words])
"""


def _speak_in_child(mode: str, seed: int) -> str:
    out = subprocess.run([sys.executable, "-c", _SPEAK_IN_CHILD, mode, SENTENCE, str(seed)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_same_seed_same_bytes_in_separate_processes():
    # eSpeak seeds its breath noise from the clock and keeps synthesis state between sentences;
    # both are pinned, so two processes (one of which spoke something else first) agree exactly.
    first = _speak_in_child("alone", 7)
    assert first == _speak_in_child("after_other", 7)
    assert first.split()[0] != _speak_in_child("alone", 8).split()[0]


def test_seed_drives_only_the_breath_noise():
    synth = EspeakSynthesizer(noise_level=0.0)
    a, b = synth.synthesize(SENTENCE, BREATHY, seed=7), synth.synthesize(SENTENCE, BREATHY, seed=7)
    assert a.audio.tobytes() == b.audio.tobytes() and a.words == b.words
    c = synth.synthesize(SENTENCE, BREATHY, seed=8)
    n = min(len(a.audio), len(c.audio))
    assert np.mean(a.audio[:n] != c.audio[:n]) > 0.5
    # a voice without breath noise does not draw from eSpeak's generator at all
    plain = Voice("en-us", 170, 55)
    assert (synth.synthesize(SENTENCE, plain, seed=7).audio.tobytes()
            == synth.synthesize(SENTENCE, plain, seed=8).audio.tobytes())


def test_sentence_does_not_depend_on_what_came_before():
    synth = EspeakSynthesizer()
    targets = [("hello there how are you today", Voice(v, 160 + 5 * i, 40 + 5 * i), 11 + i)
               for i, v in enumerate(("en-us", "en-us+m1", "en-us+f3", "en+f2", "en-gb-x-rp+m2"))]

    def speak(order):
        out = {}
        for i in order:
            res = synth.synthesize(*targets[i][:2], seed=targets[i][2])
            out[i] = (res.audio.tobytes(), res.words)
        return out

    forward = speak(range(len(targets)))
    synth.synthesize(SENTENCE, Voice("en-us+m7", 200, 65), seed=99)  # an unrelated predecessor
    assert speak(reversed(range(len(targets)))) == forward


def test_library_without_rand_seed_is_refused(monkeypatch):
    import _ctypes

    import espeakng_loader

    from speechbert.synth.tts import _Library

    if not getattr(_ctypes, "__file__", None):  # pragma: no cover - a Python with a built-in _ctypes
        pytest.skip("needs a shared library without eSpeak NG's symbols")
    monkeypatch.setattr(espeakng_loader, "get_library_path", lambda: _ctypes.__file__)
    with pytest.raises(SynthesisError, match="espeak_ng_SetRandSeed"):
        _Library()


def test_private_copy_without_memfd(monkeypatch):
    # where os.memfd_create is missing (not Linux) the library copy goes to a temporary file
    from speechbert.synth.tts import _Library

    voice = Voice("en-us+f3", 165, 45)
    reference = _Library.get().speak("hello there", voice, seed=5)[0]
    monkeypatch.delattr("os.memfd_create", raising=False)
    lib = _Library()
    assert not lib._path.startswith("/proc/")
    assert lib.speak("hello there", voice, seed=5)[0].tobytes() == reference.tobytes()
