"""Sentence splitting of SQuAD passages, deterministic and rule based.

A passage is spoken one sentence per audio file, so the synthesizer and the importer must split
it the same way. Both call ``split_sentences``.

``rules`` (the function's default) ends a sentence at ``.``, ``!`` or ``?`` (plus any closing quotes or
brackets) followed by whitespace and then an upper-case letter, a digit or an opening quote or
bracket — except after a known abbreviation (``Mr.``, ``Dr.``, ``St.``, ``e.g.``, ...), a single
capital initial (``J. K. Rowling``) or a dotted acronym (``U.S. Army``). ``period_space`` is the
plain split at every ``". "``: the Spoken SQuAD release numbered its wavs that way (its ASR
contexts hold one ``.`` per wav, and the piece counts match this split, not ``rules``: "James
J. Hill" is two wavs there), so it is ``RELEASE_SPLIT_METHOD``, the synthesizer's and the
importer's default.

``dot_pieces`` and ``join_dot_pieces`` read and write the release's ASR context convention: the
text of wav ``k`` is the ``k``-th ``.``-separated piece.

Every returned sentence normalizes to at least one word: a piece that would be silent (``"..."``)
is merged into its neighbour.
"""

from __future__ import annotations

import re

from speechbert.text.normalize import normalize_text

__all__ = ["split_sentences", "sentence_spans", "SPLIT_METHODS", "RELEASE_SPLIT_METHOD", "dot_pieces",
           "join_dot_pieces"]

SPLIT_METHODS = ("rules", "period_space")
#: How the Spoken SQuAD release split its paragraphs into wavs.
RELEASE_SPLIT_METHOD = "period_space"

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "col", "capt", "lt",
    "sgt", "gov", "sen", "rep", "rev", "hon", "pres", "vs", "etc", "eg", "ie", "cf", "al", "approx",
    "no", "nos", "vol", "pp", "fig", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "ca", "c", "b", "d", "est", "op", "ed",
}
# Abbreviations that still end a sentence when the next word is capitalised.
_SENTENCE_FINAL_ABBREVIATIONS = {"etc", "inc", "ltd", "co", "corp"}

_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")


def _token_before(text: str, end: int) -> str:
    """The whitespace-delimited token ending at ``end`` (exclusive), without the final dots."""
    start = text.rfind(" ", 0, end) + 1
    return text[start:end]


def _is_boundary(text: str, match: re.Match) -> bool:
    mark = match.group(0)
    if mark[0] != ".":
        return True  # ! and ? always end a sentence
    token = _token_before(text, match.start() + 1).lstrip("\"'“‘([")
    bare = token.rstrip(".").replace(".", "").lower()
    if re.fullmatch(r"[A-Za-z]\.", token):  # a single initial: "J. K. Rowling"
        return False
    if re.fullmatch(r"(?:[A-Za-z]\.){2,}", token):  # "U.S." / "e.g.": an acronym mid-sentence
        return bare in _SENTENCE_FINAL_ABBREVIATIONS
    if bare in _ABBREVIATIONS and bare not in _SENTENCE_FINAL_ABBREVIATIONS:
        return False
    return True


def sentence_spans(text: str, method: str = "rules") -> list[tuple[int, int]]:
    """``(start, end)`` character spans of the sentences of ``text`` (whitespace trimmed).

    Raises:
        ValueError: for an unknown ``method``.
    """
    if method not in SPLIT_METHODS:
        raise ValueError(f"unknown sentence split method {method!r} (choose from {SPLIT_METHODS})")
    cuts = []
    if method == "rules":
        cuts = [m.end() for m in _BOUNDARY.finditer(text) if _is_boundary(text, m)]
    else:
        cuts = [m.start() + 1 for m in re.finditer(r"\. ", text)]
    spans = []
    start = 0
    for cut in cuts + [len(text)]:
        piece = text[start:cut]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        if trail > lead:
            spans.append((start + lead, start + trail))
        start = cut
    # Merge pieces that would be silent into the previous (or, for the first, the next) one.
    merged: list[tuple[int, int]] = []
    pending_start: int | None = None
    for s, e in spans:
        if pending_start is not None:
            s, pending_start = pending_start, None
        if not normalize_text(text[s:e]):
            if merged:
                merged[-1] = (merged[-1][0], e)
            else:
                pending_start = s
            continue
        merged.append((s, e))
    if pending_start is not None and merged:
        merged[-1] = (pending_start, merged[-1][1])
    return merged


def split_sentences(text: str, method: str = "rules") -> list[str]:
    """The sentences of ``text`` as raw (unnormalized) strings; see the module docstring."""
    return [text[s:e] for s, e in sentence_spans(text, method)]


def dot_pieces(context: str) -> list[str]:
    """The ``.``-separated pieces of a Spoken SQuAD (ASR) context, one per wav, stripped.

    The release ends the text of every wav with a ``.``, so a final empty piece after the last
    ``.`` is not a piece; an empty piece inside (``"a. . b."``: a wav with no recognized word) is.
    An empty context has no pieces.
    """
    pieces = context.split(".")
    if not pieces[-1].strip():
        pieces.pop()
    return [p.strip() for p in pieces]


def join_dot_pieces(pieces: list[str]) -> str:
    """The release convention: ``"piece one. piece two."`` (``dot_pieces`` inverts it).

    Raises:
        ValueError: if a piece holds a ``.`` itself (it would read back as two pieces).
    """
    for k, p in enumerate(pieces):
        if "." in p:
            raise ValueError(f"piece {k} contains a '.': {p[:60]!r}")
    return " ".join(f"{p}." for p in pieces)
