"""Decoding spans into passage time with known logits and hand-built word times."""

from __future__ import annotations

import pytest

from hand_data import FixedSpanModel, text_model_args, text_pipeline
from speechbert.decode.span_qa import DecodeOptions, decode_questions, job_questions, load_qa_model, pick_device
from speechbert.errors import ConfigError
from speechbert.io.sqa_data import read_questions


def test_word_span_becomes_start_of_first_word_to_end_of_last_word(two_sentence_data):
    pipeline = text_pipeline()
    corpus = pipeline.corpus(two_sentence_data, None, two_sentence_data / "word.ctm", train=False)
    questions = read_questions(two_sentence_data / "questions.jsonl")
    # words: the cat sat | near the river; span "sat near the river" crosses the utterance boundary
    recs = decode_questions(FixedSpanModel(2, 5), text_model_args(), pipeline, corpus, questions, DecodeOptions(nbest=3),
                            "reference")
    assert len(recs) == 1
    r = recs[0]
    assert (r["id"], r["context_id"], r["word_span"], r["words"]) == ("q1", "c1", [2, 5], "sat near the river")
    assert r["start"] == pytest.approx(0.70)        # u1-relative start of "sat"
    assert r["end"] == pytest.approx(1.5 + 1.20)    # u2 starts at utt2dur[u1]; "river" ends at 1.20
    assert r["score"] == pytest.approx(5.0)
    assert r["word_source"] == "reference"
    assert len(r["nbest"]) == 3 and r["nbest"][0]["word_span"] == [2, 5]
    assert all(e["score"] < 5.0 for e in r["nbest"][1:])
    # a span inside the second sentence
    r = decode_questions(FixedSpanModel(4, 4), text_model_args(), pipeline, corpus, questions, DecodeOptions(nbest=1),
                         "reference")[0]
    assert (r["words"], r["start"], r["end"]) == ("the", pytest.approx(2.05), pytest.approx(2.15))
    assert len(r["nbest"]) == 1


def test_max_answer_len_limits_the_span(two_sentence_data):
    pipeline = text_pipeline()
    corpus = pipeline.corpus(two_sentence_data, None, two_sentence_data / "word.ctm", train=False)
    questions = read_questions(two_sentence_data / "questions.jsonl")
    r = decode_questions(FixedSpanModel(0, 5), text_model_args(), pipeline, corpus, questions,
                         DecodeOptions(nbest=1, max_answer_len=3), "reference")[0]
    assert r["word_span"][1] - r["word_span"][0] + 1 <= 3


def test_job_split_keeps_passages_whole():
    qs = [{"id": f"q{i}", "context_id": f"c{i % 3}"} for i in range(7)]
    jobs = [job_questions(qs, 2, j) for j in (1, 2)]
    assert sorted(q["id"] for j in jobs for q in j) == sorted(q["id"] for q in qs)
    assert not ({q["context_id"] for q in jobs[0]} & {q["context_id"] for q in jobs[1]})


def test_missing_model_pieces_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such model directory"):
        load_qa_model(tmp_path / "nope")
    with pytest.raises(ConfigError, match="no config.yaml"):
        load_qa_model(tmp_path)
    (tmp_path / "config.yaml").write_text("input_modality: text\n")
    with pytest.raises(ConfigError, match="model.avg.pt: no such model file"):
        load_qa_model(tmp_path)
    with pytest.raises(ConfigError, match="one GPU"):
        pick_device(2)
