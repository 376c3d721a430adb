"""SentencePiece tokenizer for new vocabularies, with the same interface as the WordPiece one.

Public API::

    tok = SentencePieceTokenizer.train("data/train/text.txt", "exp/spm/bpe1000", vocab_size=1000,
                                       model_type="bpe")        # writes <prefix>.model/.vocab
    tok = SentencePieceTokenizer("exp/spm/bpe1000.model")
    tok.tokenize("super bowl")            # ['▁super', '▁bow', 'l']
    tok.word_to_pieces("bowl")            # pieces of one whitespace word
    tok.encode("super bowl")              # [cls_id, ..., sep_id]
    tok.decode(ids)                       # 'super bowl'
    tok.cls_id, tok.sep_id, tok.pad_id, tok.mask_id, tok.unk_id, tok.vocab_size

Trained models reserve the BERT special tokens at fixed ids: ``[PAD]`` 0, ``[UNK]`` 1, ``[CLS]``
2, ``[SEP]`` 3, ``[MASK]`` 4 (no BOS/EOS); the three user-defined ones stay whole when written
in the text. The input is one sentence a line (already normalised: no further lower-casing).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

from speechbert.errors import ConfigError, DataError
from speechbert.text.piece_tokenizer import SPECIAL_TOKENS, PieceTokenizer


class SentencePieceTokenizer(PieceTokenizer):
    """A trained SentencePiece model with BERT-style special token ids."""

    def __init__(self, model_file: str | Path) -> None:
        import sentencepiece as spm

        model_file = Path(model_file)
        if not model_file.is_file():
            raise DataError("sentencepiece model does not exist", path=model_file)
        self.model_file = model_file
        try:
            self.sp = spm.SentencePieceProcessor(model_file=str(model_file))
        except (OSError, RuntimeError) as exc:
            raise DataError(f"cannot load sentencepiece model ({exc})", path=model_file) from None
        ids = {t: self.sp.piece_to_id(t) for t in SPECIAL_TOKENS}
        unk = self.sp.unk_id()
        missing = [t for t, i in ids.items() if i == unk and t != self.sp.id_to_piece(unk)]
        if missing:
            raise DataError(f"model lacks special token(s) {missing} (train it with SentencePieceTokenizer.train)",
                            path=model_file)
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (ids[t] for t in SPECIAL_TOKENS)

    @classmethod
    def train(cls, text_file: str | Path, model_prefix: str | Path, vocab_size: int,
              model_type: str = "unigram", character_coverage: float = 1.0, num_threads: int = 1,
              max_sentence_length: int = 8192) -> "SentencePieceTokenizer":
        """Train on ``text_file``; write ``<model_prefix>.model`` and ``.vocab`` atomically."""
        import sentencepiece as spm

        text_file, model_prefix = Path(text_file), Path(model_prefix)
        if model_type not in ("unigram", "bpe", "char", "word"):
            raise ConfigError(f"sentencepiece model_type={model_type!r}: expected unigram, bpe, char or word")
        if vocab_size <= len(SPECIAL_TOKENS):
            raise ConfigError(f"sentencepiece vocab_size={vocab_size} leaves no room beside the special tokens")
        if not text_file.is_file():
            raise DataError("training text does not exist", path=text_file)
        with open(text_file, encoding="utf-8", errors="strict") as f:
            try:
                if not any(line.strip() for line in f):
                    raise DataError("training text is empty", path=text_file)
            except UnicodeDecodeError as exc:
                raise DataError(f"not UTF-8 ({exc})", path=text_file) from None
        model_prefix.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{model_prefix.name}.", dir=model_prefix.parent))
        try:
            tmp_prefix = tmp_dir / model_prefix.name
            try:
                spm.SentencePieceTrainer.train(
                    input=str(text_file), model_prefix=str(tmp_prefix), vocab_size=vocab_size,
                    model_type=model_type, character_coverage=character_coverage, num_threads=num_threads,
                    pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, pad_piece="[PAD]", unk_piece="[UNK]",
                    user_defined_symbols=list(SPECIAL_TOKENS[2:]), max_sentence_length=max_sentence_length,
                    minloglevel=2)
            except RuntimeError as exc:
                raise DataError(f"sentencepiece training failed ({exc})", path=text_file) from None
            for suffix in (".vocab", ".model"):
                os.replace(f"{tmp_prefix}{suffix}", f"{model_prefix}{suffix}")
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        return cls(f"{model_prefix}.model")

    @property
    def vocab_size(self) -> int:
        return self.sp.get_piece_size()

    def tokenize(self, text: str) -> list[str]:
        return self.sp.encode(text, out_type=str)

    def convert_tokens_to_ids(self, tokens: Iterable[str]) -> list[int]:
        return [self.sp.piece_to_id(t) for t in tokens]

    def convert_ids_to_tokens(self, ids: Iterable[int]) -> list[str]:
        return [self.sp.id_to_piece(int(i)) for i in ids]

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        ids = self.sp.encode(text, out_type=int)
        return [self.cls_id, *ids, self.sep_id] if add_special_tokens else ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        special = {self.pad_id, self.cls_id, self.sep_id, self.mask_id}
        ids = [int(i) for i in ids if not (skip_special_tokens and int(i) in special)]
        return self.sp.decode(ids)
