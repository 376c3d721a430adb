"""Word alignment and WER: hand-computed cases, tie-breaking, and agreement of the batched path."""

from __future__ import annotations

import random
from functools import lru_cache

import numpy as np
import pytest

from speechbert.metrics.wer import align_words, corpus_wer, edit_distance, error_marks, word_errors


def test_align_hand_cases() -> None:
    assert align_words([], []) == []
    assert align_words([], ["x", "y"]) == [("I", None, 0), ("I", None, 1)]
    assert align_words(["a", "b"], []) == [("D", 0, None), ("D", 1, None)]
    assert align_words(["a", "b", "c"], ["a", "x", "c"]) == [("C", 0, 0), ("S", 1, 1), ("C", 2, 2)]
    assert align_words(["a", "b", "c"], ["a", "c"]) == [("C", 0, 0), ("D", 1, None), ("C", 2, 1)]
    assert align_words(["a", "c"], ["a", "b", "c"]) == [("C", 0, 0), ("I", None, 1), ("C", 1, 2)]


def test_align_tie_breaking_is_deterministic() -> None:
    # Equal-cost choices resolved from the end: diagonal, then deletion, then insertion.
    assert align_words(["a", "b"], ["b"]) == [("D", 0, None), ("C", 1, 0)]
    assert align_words(["a", "a"], ["a"]) == [("D", 0, None), ("C", 1, 0)]
    assert align_words(["a"], ["x", "y"]) == [("I", None, 0), ("S", 0, 1)]
    assert align_words(["a", "b"], ["x"]) == [("D", 0, None), ("S", 1, 0)]


def test_align_prefers_correct_words_among_minimum_error_alignments() -> None:
    ref = "the cat sat on the mat".split()
    hyp = "the cat sat in mat today".split()
    ops = align_words(ref, hyp)
    # 3 errors either way; this alignment keeps "mat" correct instead of S S S.
    assert [o for o, _, _ in ops] == ["C", "C", "C", "D", "S", "C", "I"]
    assert ops[5] == ("C", 5, 4)
    assert edit_distance(ref, hyp) == 3


def _best(ref: tuple, hyp: tuple) -> tuple[int, int]:
    """Brute force: (fewest errors, -most correct words) over all alignments."""
    @lru_cache(None)
    def f(i: int, j: int) -> tuple[int, int]:
        if i == len(ref):
            return len(hyp) - j, 0
        if j == len(hyp):
            return len(ref) - i, 0
        same = ref[i] == hyp[j]
        d = f(i + 1, j + 1)
        return min((d[0] + (not same), d[1] - same), (f(i + 1, j)[0] + 1, f(i + 1, j)[1]),
                   (f(i, j + 1)[0] + 1, f(i, j + 1)[1]))
    return f(0, 0)


def test_align_is_optimal_and_complete_on_random_pairs() -> None:
    rng = random.Random(0)
    for _ in range(300):
        ref = tuple(rng.choice("abc") for _ in range(rng.randint(0, 8)))
        hyp = tuple(rng.choice("abc") for _ in range(rng.randint(0, 8)))
        ops = align_words(ref, hyp)
        errors, neg_correct = _best(ref, hyp)
        assert sum(o != "C" for o, _, _ in ops) == errors == edit_distance(ref, hyp)
        assert -sum(o == "C" for o, _, _ in ops) == neg_correct
        assert [i for _, i, _ in ops if i is not None] == list(range(len(ref)))
        assert [j for _, _, j in ops if j is not None] == list(range(len(hyp)))
        for op, i, j in ops:
            if op == "C":
                assert ref[i] == hyp[j]
            if op == "S":
                assert ref[i] != hyp[j]


def test_align_long_passage() -> None:
    rng = random.Random(1)
    ref = [f"w{rng.randrange(50)}" for _ in range(700)]
    hyp = [w if rng.random() > 0.2 else "x" for w in ref]
    ops = align_words(ref, hyp)
    assert sum(o != "C" for o, _, _ in ops) == edit_distance(ref, hyp) == sum(w == "x" for w in hyp)


def test_error_marks_match_align_words() -> None:
    rng = random.Random(2)
    pairs = [([rng.choice("abcd") for _ in range(rng.randint(0, 12))],
              [rng.choice("abcd") for _ in range(rng.randint(0, 12))]) for _ in range(400)]
    pairs += [(["a"], ["a"]), ([], []), ([], ["z"]), (["a", "b"], [])]
    # Long pairs: their batches need the int32 table, the short ones' fit int16 (both checked).
    pairs += [([rng.choice("abcdefgh") for _ in range(rng.randint(100, 160))],
               [rng.choice("abcdefgh") for _ in range(rng.randint(100, 160))]) for _ in range(6)]
    for max_cells in (10, 4_000_000):  # one pair per batch, and everything in a few batches
        for (ref, hyp), marks in zip(pairs, error_marks(pairs, max_cells=max_cells)):
            wrong = np.zeros(len(ref), dtype=bool)
            ins = np.zeros(len(ref) + 1, dtype=int)
            pending = 0
            for op, i, _ in align_words(ref, hyp):
                if op == "I":
                    pending += 1
                    continue
                ins[i] += pending
                pending = 0
                wrong[i] = op != "C"
            ins[len(ref)] += pending
            assert marks.errors == edit_distance(ref, hyp)
            assert marks.wrong.tolist() == wrong.tolist()
            assert marks.ins_before.tolist() == ins.tolist()


def test_word_errors_and_corpus_wer() -> None:
    assert word_errors("a b c d".split(), "a x c".split()) == (2, 4)
    refs = {"u1": "a b c d", "u2": "e f", "u3": "g h i"}
    hyps = {"u1": "a x c", "u2": "e f g", "extra": "zzz"}
    stats = corpus_wer(refs, hyps)
    # u1: 2 errors, u2: 1 insertion, u3: missing -> 3 deletions; 6 / 9 words.
    assert (stats.errors, stats.ref_words, stats.utterances, stats.missing) == (6, 9, 3, 1)
    assert stats.wer == pytest.approx(100 * 6 / 9)
    assert corpus_wer({"u": ""}, {"u": ""}).wer == 0.0
