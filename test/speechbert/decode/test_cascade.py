"""The cascade's passages: ASR words mapped to passage time through the ASR word times."""

from __future__ import annotations

import pytest

from hand_data import FixedSpanModel, text_model_args, text_pipeline, write_ctm
from speechbert.decode.cascade import asr_corpus
from speechbert.decode.span_qa import DecodeOptions, decode_questions
from speechbert.errors import DataError
from speechbert.io.sqa_data import read_questions

ASR_CTM = {"u1": [("the", 0.10, 0.30), ("cat", 0.35, 0.60), ("sad", 0.70, 1.00)],
           "u2": [("ear", 0.05, 0.15), ("near", 0.20, 0.50), ("the", 0.55, 0.65), ("river", 0.70, 1.20)]}


def asr_dir(tmp_path, text: dict[str, str], ctm: dict):
    d = tmp_path / "asr"
    d.mkdir()
    (d / "text").write_text("".join(f"{u} {t}\n" for u, t in sorted(text.items())))
    write_ctm(d / "word.ctm", ctm)
    return d


def decode(data, asr, first: int, last: int) -> dict:
    corpus = asr_corpus(data, asr)
    recs = decode_questions(FixedSpanModel(first, last), text_model_args(), text_pipeline(), corpus,
                            read_questions(data / "questions.jsonl"), DecodeOptions(nbest=2), "asr")
    assert len(recs) == 1
    return recs[0]


def test_asr_word_span_maps_to_asr_times_across_an_utterance_boundary(two_sentence_data, tmp_path):
    d = asr_dir(tmp_path, {"u1": "the cat sad", "u2": "ear near the river"}, ASR_CTM)
    r = decode(two_sentence_data, d, 2, 4)  # "sad ear near": ASR words 2..4
    assert (r["word_span"], r["words"], r["word_source"]) == ([2, 4], "sad ear near", "asr")
    assert r["start"] == pytest.approx(0.70)
    assert r["end"] == pytest.approx(1.5 + 0.50)


def test_untimed_and_missing_asr_utterances(two_sentence_data, tmp_path):
    # u1 has no ASR line (nothing recognised); u2's words have no CTM lines: spread over its 2 s
    d = asr_dir(tmp_path, {"u2": "ear near the river"}, {})
    r = decode(two_sentence_data, d, 1, 2)  # "near the"
    assert r["words"] == "near the"
    assert (r["start"], r["end"]) == (pytest.approx(1.5 + 0.5), pytest.approx(1.5 + 1.5))


def test_asr_ctm_must_match_the_asr_text(two_sentence_data, tmp_path):
    d = asr_dir(tmp_path, {"u1": "the cat sat", "u2": "ear near the river"}, ASR_CTM)
    with pytest.raises(DataError, match="CTM words do not match text"):
        asr_corpus(two_sentence_data, d)
