"""PocketSphinx on one short synthesized utterance."""

from __future__ import annotations

import soundfile

from speechbert.asr.pocketsphinx_asr import transcribe_pocketsphinx


def test_words_and_times_are_well_formed(synth_set):
    data = synth_set / "data" / "test"
    out = transcribe_pocketsphinx(data, ["utt2", "nope"])
    assert out.skipped == {"no_audio": ["nope"]}
    words = out.hyps["utt2"].split()
    assert words, "pocketsphinx recognised nothing"
    assert all(w == w.lower() and "(" not in w and not w.startswith("<") for w in words)
    entries = out.ctm["utt2"]
    assert [e.word for e in entries] == words
    duration = soundfile.info(data / "utt2.wav").duration
    assert all(0 <= e.start <= e.end <= duration + 1e-3 for e in entries)
    assert all(a.start <= b.start for a, b in zip(entries, entries[1:]))
