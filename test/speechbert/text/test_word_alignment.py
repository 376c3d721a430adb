"""Tests for speechbert.text.word_alignment."""

from __future__ import annotations

from speechbert.text.word_alignment import align_words, distribute_words


def test_align_words_ops():
    ops = align_words("a b c d".split(), "a x c d e".split())
    assert [op for op, _, _ in ops] == ["C", "S", "C", "C", "I"]


def test_distribute_words():
    ref = [["the", "cat", "sat"], ["on", "the", "mat"], ["today"]]
    hyp = "uh the hat sat on mat and today".split()
    out = distribute_words(ref, hyp)
    assert out == [["uh", "the", "hat", "sat"], ["on", "mat", "and"], ["today"]]
    assert sum(out, []) == hyp
    assert distribute_words(ref, []) == [[], [], []]
    assert sum(distribute_words([["a"], ["b"]], ["c", "d", "e"]), []) == ["c", "d", "e"]
