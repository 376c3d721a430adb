"""Tests for speechbert.text.sentences."""

from __future__ import annotations

import pytest

from speechbert.text.sentences import (RELEASE_SPLIT_METHOD, dot_pieces, join_dot_pieces, sentence_spans,
                                       split_sentences)


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


def test_release_split_differs_from_rules_with_the_same_count():
    # The Spoken SQuAD release splits at every ". ": an initial ends a wav there.
    text = "Who financed the Great Northern line? James J. Hill did, in 1893."
    assert RELEASE_SPLIT_METHOD == "period_space"
    assert split_sentences(text, "period_space") == ["Who financed the Great Northern line? James J.",
                                                     "Hill did, in 1893."]
    assert split_sentences(text, "rules") == ["Who financed the Great Northern line?", "James J. Hill did, in 1893."]


def test_dot_pieces():
    assert dot_pieces("who financed it james j. hill did.") == ["who financed it james j", "hill did"]
    assert dot_pieces("a b. c") == ["a b", "c"]
    assert dot_pieces("a. . b.") == ["a", "", "b"]  # a wav with no recognized word
    assert dot_pieces("") == [] and dot_pieces("no dot") == ["no dot"]
    pieces = ["one two", "", "three"]
    assert join_dot_pieces(pieces) == "one two. . three."
    assert dot_pieces(join_dot_pieces(pieces)) == pieces
    with pytest.raises(ValueError, match="piece 1"):
        join_dot_pieces(["a", "b.c"])
