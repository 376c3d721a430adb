"""The CTC aligner as a greedy ASR (a hand-set model that hears bursts of sound as the word "a")."""

from __future__ import annotations

import numpy as np
import pytest

import answer_fixture as af
from speechbert.align.aligner import load_aligner
from speechbert.align.data import FeatureSource
from speechbert.asr.ctc import recognize, transcribe_ctc
from speechbert.audio.features import FeatureConfig, FeatureExtractor


def test_each_burst_of_sound_is_one_word_at_its_time(tmp_path):
    rng = np.random.default_rng(0)
    x = 1e-3 * rng.standard_normal(32000).astype(np.float32)
    for s, e in ((4800, 9600), (16000, 22400)):  # 0.3-0.6 s and 1.0-1.4 s
        x[s:e] += 0.3 * rng.standard_normal(e - s).astype(np.float32)
    feats = FeatureExtractor(FeatureConfig(num_mel_bins=af.DIM))(x)
    aligner = load_aligner(af.make_energy_aligner(tmp_path / "al", af.DIM, af.write_cmvn(tmp_path / "c.ark", feats)))
    words = recognize(aligner, feats, duration=2.0)
    assert [w.word for w in words] == ["a", "a"]
    assert [w.start for w in words] == pytest.approx([0.3, 1.0], abs=0.03)
    assert [w.end for w in words] == pytest.approx([0.6, 1.4], abs=0.03)
    assert recognize(aligner, feats[:0]) == []


def test_transcribe_a_synthesized_set(synth_set):
    aligner = load_aligner(synth_set / "exp" / "align")
    source = FeatureSource(synth_set / "dump" / "test", aligner.cmvn)
    out = transcribe_ctc(aligner, source, ["utt1", "utt2", "utt9"], {"utt1": 1.0})
    assert out.skipped == {"no_features": ["utt9"]}
    for utt in ("utt1", "utt2"):
        words = out.hyps[utt].split()
        assert words and set(words) == {"a"}
        entries = out.ctm[utt]
        assert [e.word for e in entries] == words
        assert all(e.dur >= 0 and e.start >= 0 for e in entries)
        assert all(a.end <= b.start + 1e-3 for a, b in zip(entries, entries[1:]))
    assert max(e.end for e in out.ctm["utt1"]) <= 1.0 + 1e-6  # clipped to the given duration
