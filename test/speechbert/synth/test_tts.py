"""Tests for speechbert.synth.tts (eSpeak NG through ctypes)."""

from __future__ import annotations

import random

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
