"""Tests for speechbert.text.sentences."""

from __future__ import annotations

import pytest

from speechbert.text.sentences import sentence_spans, split_sentences


def test_rules_split():
    text = ('Mr. Smith met J. K. Rowling at the U.S. Army base in 1998. He left! Did she? '
            '"Yes," she said. The 2nd test (see above). 3 people came.')
    assert split_sentences(text) == [
        "Mr. Smith met J. K. Rowling at the U.S. Army base in 1998.", "He left!", "Did she?",
        '"Yes," she said.', "The 2nd test (see above).", "3 people came."]


def test_spans_point_into_the_text():
    text = "  First one.   Second one.  "
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["First one.", "Second one."]


def test_silent_pieces_are_merged():
    assert split_sentences("... Hello there. ?! Bye.") == ["... Hello there. ?!", "Bye."]
    assert split_sentences("...") == []


def test_period_space_method():
    assert split_sentences("Dr. Who left. Then 5 p.m. came.", "period_space") == ["Dr.", "Who left.", "Then 5 p.m.", "came."]
    with pytest.raises(ValueError, match="unknown"):
        split_sentences("x", "nltk")
