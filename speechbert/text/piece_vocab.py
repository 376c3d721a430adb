"""WordPiece ids of passage words and the special token ids, from a BERT ``vocab.txt`` (cached per file)."""

from __future__ import annotations

from pathlib import Path

from speechbert.text.wordpiece import WordPieceTokenizer


class PieceVocab:
    """WordPiece ids of passage words and the special token ids, from a BERT ``vocab.txt``.

    Thin adapter over :mod:`speechbert.text.wordpiece`; word → ids is cached because passages
    repeat words a lot.
    """

    def __init__(self, vocab_file: str | Path) -> None:
        self.vocab_file = Path(vocab_file)
        self.tokenizer = WordPieceTokenizer.from_vocab_file(self.vocab_file)
        tok = self.tokenizer
        self.vocab_size = tok.vocab_size
        self.pad_id, self.unk_id, self.cls_id = tok.pad_id, tok.unk_id, tok.cls_id
        self.sep_id, self.mask_id = tok.sep_id, tok.mask_id
        self._cache: dict[str, list[int]] = {}

    def word_ids(self, word: str) -> list[int]:
        """The WordPiece ids of one (normalized) word; never empty (``[UNK]`` at worst)."""
        ids = self._cache.get(word)
        if ids is None:
            ids = self.tokenizer.convert_tokens_to_ids(self.tokenizer.word_to_pieces(word)) or [self.unk_id]
            self._cache[word] = ids
        return ids

    def text_ids(self, text: str, max_len: int | None = None) -> list[int]:
        """Ids of a whitespace-separated text (no specials), truncated to ``max_len`` pieces."""
        out: list[int] = []
        for w in text.split():
            out.extend(self.word_ids(w))
        return out if max_len is None else out[:max_len]


_VOCABS: dict[str, PieceVocab] = {}


def load_vocab_file(path: str | Path) -> PieceVocab:
    """The (cached) :class:`PieceVocab` of a ``vocab.txt``."""
    key = str(path)
    if key not in _VOCABS:
        _VOCABS[key] = PieceVocab(path)
    return _VOCABS[key]
