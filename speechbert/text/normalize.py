"""The one text normalization of the toolkit.

Reference sentences, questions, answers and ASR output are all compared in this form, and the
synthesized corpus *speaks* this form, so the reference ``text`` matches its audio word for word.
The rules, in order (see ``doc/corpora.md``):

1. Unicode is folded to ASCII: compatibility decomposition, combining accents dropped, a few
   letters spelled out (``ß`` → ``ss``, ``æ`` → ``ae``, ``ø`` → ``o``, ...), typographic quotes and
   dashes mapped to ``'`` and ``-``; any other non-ASCII character becomes a space.
2. Lower case.
3. Numbers become words: currency (``$5`` → "five dollars", ``$1.5 million`` → "one point five
   million dollars", ``$3.50`` → "three dollars fifty cents"; also ``£``, ``€``), percentages
   (``50%`` → "fifty percent"), ordinals (``21st`` → "twenty first"), decades (``1990s`` →
   "nineteen nineties"), years (a bare four-digit number from 1100 to 2099: ``1998`` →
   "nineteen ninety eight", ``2005`` → "two thousand five", ``1900`` → "nineteen hundred"),
   decimals (``3.14`` → "three point one four"), cardinals with or without thousands commas
   (``12,500`` → "twelve thousand five hundred"; no "and"), numbers with leading zeros digit by
   digit (``007`` → "zero zero seven"). Digits glued to letters are split off (``b52`` → "b fifty
   two").
4. Periods between letters are deleted (``u.s.`` → "us"); hyphens and every other punctuation mark
   become spaces; an apostrophe is kept only between two letters (``don't``, ``o'neill``).
5. Whitespace is collapsed; the result has only ``[a-z' ]`` with single spaces, no edge spaces.

The function is idempotent: ``normalize_text(normalize_text(x)) == normalize_text(x)``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["normalize_text", "number_to_words", "ordinal_to_words", "year_to_words",
           "RelocatedSpan", "relocate_span"]

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand")]
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                  "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"),
               "£": ("pound", "pounds", "penny", "pence"),
               "€": ("euro", "euros", "cent", "cents")}
_SCALE_WORDS = "thousand|million|billion|trillion"

# Letters that NFKD does not decompose into ASCII.
_SPECIAL_LETTERS = {
    "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i", "ħ": "h", "Ħ": "H",
    "ŋ": "ng", "ſ": "s",
    "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u00b4": "'", "`": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
}
# Currency signs must survive the ASCII fold until the number step.
_KEEP_NON_ASCII = set("£€")


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        if n % 10:
            words.append(_ONES[n % 10])
    elif n > 0:
        words.append(_ONES[n])
    return words


def number_to_words(n: int) -> str:
    """Spell a non-negative integer as American English words without "and".

    Numbers of 10**15 and above are read digit by digit.
    """
    if n < 0:
        raise ValueError(f"negative number {n}")
    if n == 0:
        return "zero"
    if n >= 10**15:
        return " ".join(_ONES[int(d)] for d in str(n))
    words: list[str] = []
    for value, name in _SCALES:
        if n >= value:
            words += _below_thousand(n // value) + [name]
            n %= value
    words += _below_thousand(n)
    return " ".join(words)


def ordinal_to_words(n: int) -> str:
    """Spell ``n`` as an ordinal: 1 → "first", 21 → "twenty first", 100 → "one hundredth"."""
    words = number_to_words(n).split()
    last = words[-1]
    if last in _ORDINAL_WORDS:
        words[-1] = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year_to_words(n: int) -> str:
    """Read a four-digit year the way it is spoken: 1998 → "nineteen ninety eight"."""
    if not 1000 <= n <= 9999:
        return number_to_words(n)
    if 2000 <= n <= 2009 or n % 1000 == 0:
        return number_to_words(n)
    high, low = divmod(n, 100)
    if low == 0:
        return f"{number_to_words(high)} hundred"
    if low < 10:
        return f"{number_to_words(high)} oh {_ONES[low]}"
    return f"{number_to_words(high)} {number_to_words(low)}"


def _decade_to_words(n: int) -> str:
    """1990 (from "1990s") → "nineteen nineties"; 1800 → "eighteen hundreds"."""
    words = (year_to_words(n) if 1000 <= n <= 9999 else number_to_words(n)).split()
    last = words[-1]
    words[-1] = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return " ".join(words)


def _digits_to_words(digits: str) -> str:
    return " ".join(_ONES[int(d)] for d in digits)


def _integer_to_words(digits: str) -> str:
    """Cardinal for an integer string; leading zeros are read digit by digit."""
    digits = digits.replace(",", "")
    if len(digits) > 1 and digits.startswith("0"):
        return _digits_to_words(digits)
    return number_to_words(int(digits))


def _plain_number_to_words(number: str) -> str:
    """Integer (with optional thousands commas) or decimal, not a year."""
    if "." in number:
        whole, frac = number.split(".", 1)
        head = _integer_to_words(whole) if whole else "zero"
        return f"{head} point {_digits_to_words(frac)}"
    return _integer_to_words(number)


_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"

_CURRENCY_RE = re.compile(rf"([$£€])\s?({_NUM})(?:\s+({_SCALE_WORDS})\b)?")
_PERCENT_RE = re.compile(rf"({_NUM})\s?(?:%|\bpercent\b)")
_ORDINAL_RE = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_DECADE_RE = re.compile(r"\b(\d{2}|\d{4})'?s\b")
_NUMBER_RE = re.compile(_NUM)


def _currency(m: re.Match) -> str:
    one, many, sub_one, sub_many = _CURRENCIES[m.group(1)]
    number, scale = m.group(2), m.group(3)
    if scale:
        return f" {_plain_number_to_words(number)} {scale} {many} "
    whole, _, frac = number.partition(".")
    whole_value = int(whole.replace(",", "") or "0")
    unit = one if whole_value == 1 else many
    if frac and len(frac) == 2:
        cents = int(frac)
        head = f"{_integer_to_words(whole) if whole else 'zero'} {unit}"
        if cents == 0:
            return f" {head} "
        return f" {head} {number_to_words(cents)} {sub_one if cents == 1 else sub_many} "
    if frac:
        return f" {_plain_number_to_words(number)} {many} "
    return f" {_integer_to_words(whole)} {unit} "


def _decade(m: re.Match) -> str:
    digits = m.group(1)
    if len(digits) == 2:  # the '90s
        return f" {_decade_to_words(int(digits))} "
    return f" {_decade_to_words(int(digits))} "


def _bare_number(m: re.Match) -> str:
    number = m.group(0)
    if re.fullmatch(r"\d{4}", number) and 1100 <= int(number) <= 2099:
        return f" {year_to_words(int(number))} "
    return f" {_plain_number_to_words(number)} "


def _fold_unicode(text: str) -> str:
    out = []
    for ch in text:
        if ch in _SPECIAL_LETTERS:
            out.append(_SPECIAL_LETTERS[ch])
            continue
        if ord(ch) < 128 or ch in _KEEP_NON_ASCII:
            out.append(ch)
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        kept = "".join(c for c in decomposed if not unicodedata.combining(c))
        kept = "".join(_SPECIAL_LETTERS.get(c, c) for c in kept)
        out.append(kept if kept.isascii() and kept else " ")
    return "".join(out)


def _numbers_to_words(text: str) -> str:
    text = _CURRENCY_RE.sub(_currency, text)
    text = _PERCENT_RE.sub(lambda m: f" {_plain_number_to_words(m.group(1))} percent ", text)
    text = _ORDINAL_RE.sub(lambda m: f" {ordinal_to_words(int(m.group(1)))} ", text)
    text = _DECADE_RE.sub(_decade, text)
    # A digit glued to a letter is read apart: "b52" → "b 52", "3d" → "3 d".
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    return _NUMBER_RE.sub(_bare_number, text)


def normalize_text(text: str) -> str:
    """Normalize ``text`` to the toolkit's spoken form (rules in the module docstring).

    >>> normalize_text("In 1998, the U.S. spent $1.5 million (about 20%) on the 3rd pre-war site.")
    'in nineteen ninety eight the us spent one point five million dollars about twenty percent on the third pre war site'
    """
    text = _fold_unicode(text).lower()
    text = _numbers_to_words(text)
    text = re.sub(r"(?<=[a-z])\.(?=[a-z])", "", text)  # u.s. → us.
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)  # apostrophes only inside words
    text = re.sub(r"[^a-z']+", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class RelocatedSpan:
    """An answer span moved from raw text into its normalized form."""

    text: str          #: the normalized answer, exactly as it stands in the normalized passage
    char_start: int    #: offset of ``text`` in the normalized passage
    exact: bool        #: True if found where the normalized prefix said; False if by search
    widened: bool = False  #: True if the answer was widened to whole words (it cut a word)


# A raw word as normalization keeps it together: letters and digits, joined by an apostrophe
# before a letter ("Manning's", "don't"), by "." or "," between digits ("10,000", "3.5") and by
# "." between letters ("U.S"). Hyphens, dashes and other marks separate words, as in
# normalize_text ("12–4" is two words, "mid-1990s" too).
_RAW_WORD = re.compile(r"[^\W_]+(?:(?:['’](?=[^\W\d_])|(?<=\d)[.,](?=\d)|(?<=[^\W\d_])\.(?=[^\W\d_]))[^\W_]+)*")
# A clitic glued to a normalized word: the possessive "'s" (or "'" + letters, "'d", "'ll").
_CLITIC = re.compile(r"'[a-z]+(?= |$)")


@functools.lru_cache(maxsize=16)
def _raw_words(raw_text: str) -> tuple[tuple[int, int], ...]:
    return tuple(m.span() for m in _RAW_WORD.finditer(raw_text))


def _whole_words(raw_text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` so that it does not cut a raw word (see ``_RAW_WORD``)."""
    for ws, we in _raw_words(raw_text):
        if ws < start < we:
            start = ws
        if ws < end < we:
            end = we
            break
        if ws >= end:
            break
    return start, end


def _expected_offset(raw_text: str, char_start: int) -> int:
    prefix = normalize_text(raw_text[:char_start])
    return len(prefix) + (1 if prefix else 0)


def relocate_span(raw_text: str, char_start: int, answer: str,
                  normalized_text: str | None = None) -> RelocatedSpan | None:
    """Move the answer ``raw_text[char_start:char_start+len(answer)]`` into normalized text.

    The relocated answer is always a run of whole words of the normalized passage:

    1. **Whole words.** When the answer (at ``char_start``) starts or ends inside a raw word, it is
       widened to that whole word first: "Peyton Manning" in "Peyton Manning's shotgun" becomes
       "peyton manning's", "1990" in "the 1990s" becomes "nineteen nineties", "12" in "12th"
       "twelfth", "ton" in "Washington" "washington". A hyphen or dash separates words, so "12"
       in "12–4" stays "twelve" and "12–4" is "twelve four" (``widened`` tells).
    2. **Expected offset.** The widened answer, else the answer as given, is taken where the
       normalized prefix says: ``len(normalize_text(raw_text[:start]))`` (+1 for the space).
    3. **Search.** Otherwise (a wrong SQuAD offset, or ``normalized_text`` built differently, e.g.
       sentence by sentence) the occurrence nearest to the expected offset is used, either at word
       boundaries or followed by a clitic glued to its last word ("manning" + "'s"), which is then
       part of the span.

    Args:
        raw_text: the original passage.
        char_start: answer offset in ``raw_text`` (SQuAD ``answer_start``); clipped to the text.
        answer: the answer text as given (SQuAD ``text``).
        normalized_text: the normalized passage to locate into; ``normalize_text(raw_text)`` by
            default.

    Returns:
        The relocated span, or ``None`` when the normalized answer is empty or absent.
    """
    norm_passage = normalize_text(raw_text) if normalized_text is None else normalized_text
    norm_answer = normalize_text(answer)
    if not norm_answer:
        return None
    char_start = max(0, min(char_start, len(raw_text)))
    end = min(char_start + len(answer), len(raw_text))
    # (normalized answer, expected offset, widened), most trusted first
    variants: list[tuple[str, int, bool]] = []
    if normalize_text(raw_text[char_start:end]) == norm_answer:  # the offset does point at the answer
        start, wide_end = _whole_words(raw_text, char_start, end)
        if (start, wide_end) != (char_start, end):
            wide = normalize_text(raw_text[start:wide_end])
            if wide and wide != norm_answer:
                variants.append((wide, _expected_offset(raw_text, start), True))
    variants.append((norm_answer, _expected_offset(raw_text, char_start), False))
    for text, expected, widened in variants:
        if _is_word_span(norm_passage, expected, text):
            return RelocatedSpan(text, expected, True, widened)
    best: tuple[tuple[int, int, bool], RelocatedSpan] | None = None
    for rank, (text, expected, widened) in enumerate(variants):
        pos = norm_passage.find(text)
        while pos >= 0:
            found = None
            if _is_word_span(norm_passage, pos, text):
                found = text
            elif pos == 0 or norm_passage[pos - 1] == " ":
                clitic = _CLITIC.match(norm_passage, pos + len(text))
                if clitic:
                    found = text + clitic.group(0)
            if found is not None:
                key = (abs(pos - expected), rank, found != text)
                if best is None or key < best[0]:
                    best = key, RelocatedSpan(found, pos, False, widened or found != text)
            pos = norm_passage.find(text, pos + 1)
    return None if best is None else best[1]


def _is_word_span(passage: str, start: int, answer: str) -> bool:
    end = start + len(answer)
    return (passage[start:end] == answer
            and (start == 0 or passage[start - 1] == " ")
            and (end == len(passage) or passage[end] == " "))
