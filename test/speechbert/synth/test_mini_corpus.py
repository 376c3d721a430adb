"""Tests for speechbert.synth.mini_corpus."""

from __future__ import annotations

import collections
import re

import pytest

from speechbert.synth.mini_corpus import MINI_SIZES, generate_mini_corpus, load_templates
from speechbert.text.normalize import normalize_text
from speechbert.text.sentences import split_sentences


@pytest.fixture(scope="module")
def corpus():
    return generate_mini_corpus(0.5, seed=4)


def _paragraphs(arts):
    return [p for a in arts for p in a.paragraphs]


def test_sizes_and_seed(corpus):
    # the sizes are MINI_SIZES scaled, whatever MINI_SIZES is
    sizes = {k: len(_paragraphs(v)) for k, v in corpus.items()}
    assert sizes == {k: round(n * 0.5) for k, n in MINI_SIZES.items()}
    again = generate_mini_corpus(0.5, seed=4)
    assert [p.context for p in _paragraphs(again["test"])] == [p.context for p in _paragraphs(corpus["test"])]
    other = generate_mini_corpus(0.5, seed=5)
    assert [p.context for p in _paragraphs(other["test"])] != [p.context for p in _paragraphs(corpus["test"])]
    ids = [q.id for v in corpus.values() for p in _paragraphs(v) for q in p.qas]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[0-9a-f]{24}", i) for i in ids)


def test_passages_and_questions(corpus):
    pars = _paragraphs(corpus["train"])
    n_questions = sum(len(p.qas) for p in pars)
    assert 2.5 * len(pars) < n_questions < 3.5 * len(pars)
    first_words = collections.Counter()
    answer_sentence = collections.Counter()
    for p in pars:
        sentences = split_sentences(p.context)
        assert 3 <= len(sentences) <= 6
        assert 2 <= len(p.qas) <= 4
        for q in p.qas:
            a = q.answers[0]
            assert p.context[a.answer_start:a.answer_start + len(a.text)] == a.text
            assert len(re.findall(r"(?<![\w$])" + re.escape(a.text) + r"(?!\w)", p.context)) == 1
            assert f" {normalize_text(a.text)} " not in f" {normalize_text(q.question)} "
            first_words[q.question.split()[0].lower()] += 1
            answer_sentence[p.context[:a.answer_start].count(". ")] += 1
    for kind in ("what", "how", "which", "where", "who", "when"):
        assert first_words[kind] >= 10, first_words
    # answers are spread over the sentences, not at one position
    assert max(answer_sentence.values()) < 0.4 * n_questions


def test_same_type_distractors(corpus):
    # a question about a year or a colour nearly always has another year / colour in its passage
    years = colours = with_year = with_colour = 0
    for p in _paragraphs(corpus["train"]):
        for q in p.qas:
            text = q.answers[0].text
            if re.fullmatch(r"1[78]\d\d|19\d\d|20[01]\d", text):
                years += 1
                with_year += len(re.findall(r"\b(1[7-9]\d\d|20[01]\d)\b", p.context)) >= 2
            if text in ("red", "blue", "green", "yellow", "purple", "white", "black", "grey", "brown", "pink"):
                colours += 1
                with_colour += sum(bool(re.search(rf"\b{c}\b", p.context)) for c in ("red", "blue", "green", "yellow", "purple",
                                                                    "white", "black", "grey", "brown", "pink",
                                                                    "orange", "silver", "golden", "violet")) >= 2
    assert years >= 20 and with_year / years > 0.75
    assert colours >= 10 and with_colour / colours > 0.6


def test_templates_parse_and_reject_bad_lines():
    kinds = load_templates()
    assert set(kinds) == {"town", "person", "organisation"}
    assert all(len(k.facts) >= 8 and k.intros for k in kinds.values())
    with pytest.raises(ValueError, match="line 3"):
        load_templates("== town\nS {town} is big.\nQ how big? = size\n")
