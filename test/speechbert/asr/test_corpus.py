"""The corpus's own ASR transcript, normalized and timed by forced alignment."""

from __future__ import annotations

import pytest

from speechbert.align.aligner import load_aligner
from speechbert.align.data import FeatureSource
from speechbert.asr.corpus import read_corpus_asr, transcribe_corpus
from speechbert.errors import DataError


def test_text_asr_is_normalized_and_timed(synth_set, tmp_path):
    data = synth_set / "data" / "test"
    with pytest.raises(DataError, match="text.asr"):
        read_corpus_asr(data)
    (tmp_path / "text.asr").write_text("utt1 John likes RED!\nutt2\n")
    asr = read_corpus_asr(tmp_path)
    assert asr == {"utt1": "john likes red", "utt2": ""}
    aligner = load_aligner(synth_set / "exp" / "align")
    out = transcribe_corpus(asr, aligner, FeatureSource(synth_set / "dump" / "test", aligner.cmvn),
                            ["utt1", "utt2", "utt3"], {"utt1": 1.2})
    assert out.hyps == {"utt1": "john likes red", "utt2": ""}
    assert out.skipped == {"no_asr_text": ["utt3"]}
    entries = out.ctm["utt1"]
    assert [e.word for e in entries] == ["john", "likes", "red"]
    assert 0 <= entries[0].start and entries[-1].end <= 1.2 + 1e-6
    assert all(a.end <= b.start + 1e-3 for a, b in zip(entries, entries[1:]))
    assert "utt2" not in out.ctm
