"""Tests for speechbert.text.normalize."""

from __future__ import annotations

import pytest

from speechbert.text.normalize import (normalize_text, number_to_words, ordinal_to_words, relocate_span,
                                       year_to_words)


@pytest.mark.parametrize("raw, norm", [
    ("Hello,   World!", "hello world"),
    ("In 1998 and 2005 and 1905 and 1900 and 2000", "in nineteen ninety eight and two thousand five and "
     "nineteen oh five and nineteen hundred and two thousand"),
    ("the 1990s and the '80s", "the nineteen nineties and the eighties"),
    ("1,234,567 people", "one million two hundred thirty four thousand five hundred sixty seven people"),
    ("3.14 and .5", "three point one four and zero point five"),
    ("the 1st, 2nd, 3rd, 21st and 112th", "the first second third twenty first and one hundred twelfth"),
    ("about 20% or 7 percent", "about twenty percent or seven percent"),
    ("$5, $1, $3.50, $1.5 million, £20", "five dollars one dollar three dollars fifty cents one point "
     "five million dollars twenty pounds"),
    ("U.S. pre-war state-of-the-art", "us pre war state of the art"),
    ("don't 'quote' students' O’Neill", "don't quote students o'neill"),
    ("Beyoncé Knowles café Straße Æsir", "beyonce knowles cafe strasse aesir"),
    ("B52 and 3D and 007", "b fifty two and three d and zero zero seven"),
    ("10:30 – 11:45", "ten thirty eleven forty five"),
    ("", ""),
    ("中文 ...", ""),
])
def test_normalize(raw, norm):
    assert normalize_text(raw) == norm
    assert normalize_text(norm) == norm  # idempotent


def test_number_words():
    assert number_to_words(0) == "zero"
    assert number_to_words(101) == "one hundred one"
    assert number_to_words(2_000_019) == "two million nineteen"
    assert number_to_words(10**15) == "one " + " ".join(["zero"] * 15)
    assert ordinal_to_words(40) == "fortieth"
    assert ordinal_to_words(1000) == "one thousandth"
    assert year_to_words(2015) == "twenty fifteen"
    assert year_to_words(1066) == "ten sixty six"


def test_idempotent_on_messy_text():
    messy = "A ''b'' -c- 'd 'e' f'' 1'000 $.5 5.5.5 3rd-4th ½ ﬁne Ⅻ 1e10"
    once = normalize_text(messy)
    assert normalize_text(once) == once
    assert set(once) <= set("abcdefghijklmnopqrstuvwxyz' ")


def test_relocate_span():
    raw = "The Virgin Mary appeared in 1858 to Saint Bernadette Soubirous in 1858."
    norm = normalize_text(raw)
    span = relocate_span(raw, raw.index("Saint"), "Saint Bernadette Soubirous")
    assert span.exact and norm[span.char_start:span.char_start + len(span.text)] == "saint bernadette soubirous"
    # the second "1858": the nearest occurrence to the expected offset wins
    second = raw.rindex("1858")
    span = relocate_span(raw, second, "1858")
    assert span.text == "eighteen fifty eight" and span.char_start == norm.rindex("eighteen fifty eight")
    # an answer starting inside a word is found by search
    span = relocate_span(raw, raw.index("irgin"), "Virgin Mary")
    assert span is not None and not span.exact and span.char_start == 4
    assert relocate_span(raw, 0, "Lourdes") is None
    assert relocate_span(raw, 0, "...") is None


def test_relocate_possessive_answers():
    # SQuAD answers often stop before a possessive; the relocated span is the whole spoken word
    raw = "Denver took Peyton Manning's shotgun snap and Peyton Manning threw deep."
    norm = normalize_text(raw)
    span = relocate_span(raw, raw.index("Peyton"), "Peyton Manning")
    assert (span.text, span.exact, span.widened) == ("peyton manning's", True, True)
    assert span.char_start == norm.index("peyton")
    assert norm[span.char_start:span.char_start + len(span.text)] == "peyton manning's"
    # the second, plain occurrence stays as it is
    second = raw.rindex("Peyton")
    assert relocate_span(raw, second, "Peyton Manning").char_start == norm.rindex("peyton manning")
    span = relocate_span("Beyoncé's debut album", 0, "Beyoncé")
    assert (span.text, span.char_start) == ("beyonce's", 0)
    # a wrong SQuAD offset: found by search, with the clitic glued to its last word
    span = relocate_span("The team. Later Peyton Manning's pass", 0, "Peyton Manning")
    assert (span.text, span.exact, span.widened) == ("peyton manning's", False, True)
    # a plural possessive is normalized away and needs nothing
    assert relocate_span("the Broncos' defense", 4, "Broncos").text == "broncos"


def test_relocate_numbers_inside_words():
    raw = "The Broncos finished the regular season with a 12–4 record in the 1990s and the 12th week."
    norm = normalize_text(raw)
    assert "a twelve four record" in norm
    # a dash separates words: parts of a hyphenated score are words of their own
    for answer, expected in (("12–4", "twelve four"), ("12", "twelve"), ("4", "four")):
        span = relocate_span(raw, raw.index(answer), answer)
        assert (span.text, span.widened) == (expected, False)
        assert norm[span.char_start:span.char_start + len(span.text)] == expected
    hyphen = raw.replace("–", "-")
    assert relocate_span(hyphen, hyphen.index("12-4"), "12-4").text == "twelve four"
    # an answer that ends inside a word (or a number glued to letters) covers the whole word
    span = relocate_span(raw, raw.index("1990"), "1990")
    assert (span.text, span.char_start, span.widened) == ("nineteen nineties", norm.index("nineteen nineties"), True)
    assert relocate_span(raw, raw.index("12th"), "12").text == "twelfth"
    assert relocate_span("with 10,000 men", 5, "10").text == "ten thousand"
    # and so does one that starts inside a word
    span = relocate_span("in Washington state", len("in Washing"), "ton")
    assert (span.text, span.char_start) == ("washington", 3)
