"""The aligner's character vocabulary and the mapping of a transcript to CTC targets.

Targets of an utterance are ``| w o r d | w o r d |``: a word-boundary token before every word
and after the last one, so every word has a boundary token in front of it (word starts are
measured from its end, see ``doc/alignment.md``).
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, field

BLANK = "<blank>"
WORD_BOUNDARY = "|"
TOKENS: tuple[str, ...] = (BLANK, WORD_BOUNDARY, "'") + tuple(string.ascii_lowercase)


@dataclass
class Targets:
    """CTC targets of one transcript.

    Attributes:
        ids: token ids, boundary tokens included.
        word_token_ranges: for each word, ``(first, last)`` indexes into ``ids`` of its
            characters, or ``None`` for a word with no character in the vocabulary.
        dropped_chars: characters that are not in the vocabulary (after folding accents).
    """

    ids: list[int]
    word_token_ranges: list[tuple[int, int] | None]
    dropped_chars: list[str] = field(default_factory=list)


class CharVocab:
    """Letters a-z, apostrophe, word boundary ``|`` and the CTC blank (id 0)."""

    def __init__(self, tokens: tuple[str, ...] = TOKENS) -> None:
        self.tokens = tuple(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.blank = self.index[BLANK]
        self.boundary = self.index[WORD_BOUNDARY]

    def __len__(self) -> int:
        return len(self.tokens)

    def fold(self, word: str) -> str:
        """Lower-case ``word`` and strip accents ("Café" -> "cafe"); the result may still
        hold characters outside the vocabulary."""
        decomposed = unicodedata.normalize("NFKD", word.lower())
        return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("\u2019", "'")

    def encode(self, words: list[str]) -> Targets:
        """Map the words of a transcript to CTC targets (see the module docstring)."""
        ids = [self.boundary]
        ranges: list[tuple[int, int] | None] = []
        dropped: list[str] = []
        for word in words:
            chars = []
            for c in self.fold(word):
                i = self.index.get(c)
                if i is None or i in (self.blank, self.boundary):
                    dropped.append(c)
                else:
                    chars.append(i)
            if not chars:
                ranges.append(None)
                continue
            ranges.append((len(ids), len(ids) + len(chars) - 1))
            ids.extend(chars)
            ids.append(self.boundary)
        return Targets(ids=ids, word_token_ranges=ranges, dropped_chars=dropped)

    def decode(self, ids: list[int]) -> str:
        """Token ids (no blanks) back to a string, ``|`` kept."""
        return "".join(self.tokens[i] for i in ids if i != self.blank)


def min_frames(ids: list[int]) -> int:
    """Fewest CTC frames that can emit ``ids``: one per token plus a blank between repeats."""
    repeats = sum(1 for a, b in zip(ids, ids[1:]) if a == b)
    return len(ids) + repeats
