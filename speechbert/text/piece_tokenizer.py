"""What the WordPiece and SentencePiece tokenizers share: BERT's special tokens and word → pieces."""

from __future__ import annotations

from typing import Iterable

# BERT's special tokens; both tokenizers expose their ids as pad_id, unk_id, cls_id, sep_id, mask_id.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


class PieceTokenizer:
    """Base of the subword tokenizers; a subclass defines ``tokenize`` and ``vocab_size``."""

    def tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        return self.vocab_size

    def word_to_pieces(self, word: str) -> list[str]:
        """The pieces of one whitespace-delimited word (WordPiece: punctuation inside it splits it further)."""
        return self.tokenize(word)

    def words_to_pieces(self, words: Iterable[str]) -> tuple[list[str], list[int]]:
        """Pieces of a word sequence and, for each piece, the index of the word it came from."""
        pieces: list[str] = []
        owners: list[int] = []
        for index, word in enumerate(words):
            word_pieces = self.word_to_pieces(word)
            pieces.extend(word_pieces)
            owners.extend([index] * len(word_pieces))
        return pieces, owners
