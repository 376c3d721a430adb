"""BERT WordPiece tokenizer from a ``vocab.txt`` (our implementation; agrees with HF's BertTokenizer).

Public API::

    tok = WordPieceTokenizer.from_vocab_file("bert_dir/vocab.txt")   # do_lower_case=True default
    tok.tokenize("Héllo, world!")        # ['hello', ',', 'world', '!']
    tok.word_to_pieces("Héllo,")         # pieces of ONE whitespace word: ['hello', ',']
    tok.encode("a question")             # [cls_id, ..., sep_id]; add_special_tokens=False: pieces only
    tok.convert_tokens_to_ids(pieces); tok.convert_ids_to_tokens(ids); tok.decode(ids)
    tok.cls_id, tok.sep_id, tok.pad_id, tok.mask_id, tok.unk_id, tok.vocab_size

Pipeline (as BERT's): special tokens written literally in the text (``[CLS]``, ``[SEP]``,
``[PAD]``, ``[MASK]``, ``[UNK]``) are kept whole; the rest is cleaned (NUL, U+FFFD and control
characters dropped, whitespace characters become spaces), CJK ideographs get spaces around them,
NFC-normalised, split on whitespace, lower-cased and accent-stripped (NFD, combining marks
dropped), split on punctuation (ASCII symbols count as punctuation); then each token is cut
greedily into the longest vocabulary pieces, continuation pieces prefixed ``##``; a token
longer than 100 characters, or one that cannot be cut, becomes ``[UNK]``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

from speechbert.errors import DataError
from speechbert.text.piece_tokenizer import SPECIAL_TOKENS, PieceTokenizer


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    # ASCII non-letter/number symbols ("$", "^", "`", ...) count as punctuation, as in BERT.
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _split_punctuation(text: str) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    for char in text:
        if _is_punctuation(char):
            if current:
                out.append("".join(current))
                current = []
            out.append(char)
        else:
            current.append(char)
    if current:
        out.append("".join(current))
    return out


class BasicTokenizer:
    """BERT's pre-tokenizer: cleaning, CJK spacing, lower-casing/accent stripping, punctuation split."""

    def __init__(self, do_lower_case: bool = True, strip_accents: bool | None = None,
                 tokenize_cjk: bool = True) -> None:
        self.do_lower_case = do_lower_case
        # None follows do_lower_case, as in BERT.
        self.strip_accents = do_lower_case if strip_accents is None else strip_accents
        self.tokenize_cjk = tokenize_cjk

    def _clean(self, text: str) -> str:
        out = []
        for char in text:
            cp = ord(char)
            if cp == 0 or cp == 0xFFFD or _is_control(char):
                continue
            if _is_whitespace(char):
                out.append(" ")
            elif self.tokenize_cjk and _is_cjk(cp):
                out.append(f" {char} ")
            else:
                out.append(char)
        return "".join(out)

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFC", self._clean(text))
        tokens: list[str] = []
        for token in text.split():
            if self.do_lower_case:
                token = token.lower()
            if self.strip_accents:
                token = _strip_accents(token)
            tokens.extend(_split_punctuation(token))
        # Accent stripping can leave empty pieces; drop them (whitespace re-split).
        return [t for piece in tokens for t in piece.split()]


class WordPieceTokenizer(PieceTokenizer):
    """Basic tokenization + greedy longest-match-first WordPiece (see the module docstring)."""

    max_input_chars_per_word = 100

    def __init__(self, vocab: Sequence[str], do_lower_case: bool = True, strip_accents: bool | None = None,
                 unk_token: str = "[UNK]", source: str = "<vocab>") -> None:
        self.vocab: dict[str, int] = {}
        for index, token in enumerate(vocab):
            self.vocab.setdefault(token, index)
        self.ids_to_tokens = list(vocab)
        self.unk_token = unk_token
        missing = [t for t in SPECIAL_TOKENS if t not in self.vocab]
        if missing:
            raise DataError(f"vocabulary lacks special token(s) {missing}", path=source)
        self.basic = BasicTokenizer(do_lower_case=do_lower_case, strip_accents=strip_accents)
        self.pad_id = self.vocab["[PAD]"]
        self.unk_id = self.vocab["[UNK]"]
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.mask_id = self.vocab["[MASK]"]
        self._special_re = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")
        self._wordpiece = lru_cache(maxsize=65536)(self._wordpiece_uncached)

    @classmethod
    def from_vocab_file(cls, path: str | Path, do_lower_case: bool = True,
                        strip_accents: bool | None = None) -> "WordPieceTokenizer":
        """Read ``vocab.txt`` (one token a line; the line number is the id)."""
        path = Path(path)
        try:
            with open(path, encoding="utf-8") as f:
                vocab = [line.rstrip("\n").rstrip("\r") for line in f]
        except FileNotFoundError:
            raise DataError("vocabulary file does not exist", path=path) from None
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 ({exc})", path=path) from None
        if vocab and vocab[-1] == "":
            vocab.pop()
        if not vocab:
            raise DataError("empty vocabulary", path=path)
        return cls(vocab, do_lower_case=do_lower_case, strip_accents=strip_accents, source=str(path))

    @property
    def vocab_size(self) -> int:
        return len(self.ids_to_tokens)

    def _wordpiece_uncached(self, token: str) -> tuple[str, ...]:
        if len(token) > self.max_input_chars_per_word:
            return (self.unk_token,)
        pieces = []
        start = 0
        while start < len(token):
            end = len(token)
            while end > start:
                piece = token[start:end] if start == 0 else "##" + token[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            else:
                return (self.unk_token,)
            pieces.append(piece)
            start = end
        return tuple(pieces)

    def _tokenize_plain(self, text: str) -> list[str]:
        return [p for token in self.basic.tokenize(text) for p in self._wordpiece(token)]

    def tokenize(self, text: str) -> list[str]:
        """Text → WordPiece tokens (special tokens written in the text stay whole)."""
        out: list[str] = []
        for i, chunk in enumerate(self._special_re.split(text)):
            if i % 2:
                out.append(chunk)
            elif chunk:
                out.extend(self._tokenize_plain(chunk))
        return out

    def convert_tokens_to_ids(self, tokens: Iterable[str]) -> list[int]:
        return [self.vocab.get(t, self.unk_id) for t in tokens]

    def convert_ids_to_tokens(self, ids: Iterable[int]) -> list[str]:
        return [self.ids_to_tokens[int(i)] for i in ids]

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """Text → ids; with ``add_special_tokens``: ``[CLS] ... [SEP]``."""
        ids = self.convert_tokens_to_ids(self.tokenize(text))
        return [self.cls_id, *ids, self.sep_id] if add_special_tokens else ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Ids → text, joining ``##`` continuations (lower-cased, punctuation spaced)."""
        special = {self.pad_id, self.cls_id, self.sep_id, self.mask_id} if skip_special_tokens else set()
        tokens = self.convert_ids_to_tokens(i for i in ids if int(i) not in special)
        return " ".join(tokens).replace(" ##", "").strip()
