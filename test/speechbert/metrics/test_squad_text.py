"""The official SQuAD v1.1 normalization, EM and F1."""

from __future__ import annotations

import pytest

from speechbert.metrics.squad_text import best_em_f1, exact_match, normalize_answer, token_f1


def test_normalize_answer() -> None:
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert normalize_answer("an apple, a pear & the plum") == "apple pear plum"
    assert normalize_answer("Theatre, another thing") == "theatre another thing"  # words only
    assert normalize_answer("U.S.A.") == "usa"
    assert normalize_answer("  ") == ""


def test_exact_match() -> None:
    assert exact_match("the Denver Broncos", "Denver Broncos") == 1.0
    assert exact_match("Denver Broncos.", "denver broncos") == 1.0
    assert exact_match("Broncos", "Denver Broncos") == 0.0


def test_token_f1() -> None:
    # pred {denver, broncos, team}, ref {denver, broncos}: P 2/3, R 1, F1 0.8.
    assert token_f1("the Denver Broncos team", "Denver Broncos") == pytest.approx(0.8)
    # Repeated tokens count with multiplicity: pred [a1, a1], ref [a1]: P 1/2, R 1, F1 2/3.
    assert token_f1("one one", "one") == pytest.approx(2 / 3)
    assert token_f1("the", "Denver") == 0.0  # empty after normalization
    assert token_f1("", "") == 0.0           # SQuAD v1.1: no common token -> 0


def test_best_over_references() -> None:
    em, f1 = best_em_f1("Santa Clara", ["Levi's Stadium", "Santa Clara, California", "Santa Clara"])
    assert em == 1.0 and f1 == 1.0
    em, f1 = best_em_f1("Santa Clara stadium", ["Levi's Stadium", "Santa Clara, California"])
    # vs ref 1: {stadium} -> P 1/3, R 1/2, F1 0.4; vs ref 2: {santa, clara} -> P 2/3, R 2/3.
    assert em == 0.0 and f1 == pytest.approx(2 / 3)
    assert best_em_f1("x", []) == (0.0, 0.0)
