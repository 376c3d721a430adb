"""The span QA data set: question x passage-window examples for training (with targets) and decoding.

Built by :meth:`speechbert.tasks.input_pipeline.InputPipeline.sqa_dataset` for every consumer
(training, validation, ``sqa_decode``, ``cascade_decode``, ``answer``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from speechbert.errors import ConfigError, DataError
from speechbert.tasks.mixed_inputs import collate_mixed
from speechbert.tasks.span_decoding import make_windows
from speechbert.tasks.word_segments import SpokenCorpus
from speechbert.text.piece_vocab import PieceVocab

if TYPE_CHECKING:
    from speechbert.tasks.audio_vector_table import AudioVectorTable

logger = logging.getLogger(__name__)

MODALITIES = ("audio", "text")

@dataclass
class WindowExample:
    """One window of one question's passage."""

    question: int  # index into SQADataset.questions
    start: int  # first passage unit of the window
    end: int  # one past the last unit
    target: tuple[int, int] | None  # sequence positions of the answer ((0, 0): [CLS]); None in eval


@dataclass
class PassageUnits:
    """A passage as model units: WordPiece ids (text) or one placeholder per word (audio)."""

    ids: list[int]
    unit_words: np.ndarray  # passage word index of every unit


class SQADataset(Dataset):
    """Question × passage-window examples, for training (with targets) or decoding (all windows)."""

    def __init__(self, corpus: SpokenCorpus, questions: Sequence[dict], vocab: PieceVocab, *, modality: str,
                 max_seq_len: int, max_question_len: int, window_units: int, window_stride: int,
                 train: bool, negative_windows: str = "cls") -> None:
        if modality not in MODALITIES:
            raise ConfigError(f"--input_modality {modality!r}: expected one of {MODALITIES}")
        if negative_windows not in ("cls", "drop"):
            raise ConfigError(f"--negative_windows {negative_windows!r}: expected 'cls' or 'drop'")
        if max_question_len + 4 > max_seq_len:
            raise ConfigError(f"--max_question_len {max_question_len} leaves no room for the passage in "
                              f"--max_seq_len {max_seq_len}")
        self.corpus, self.vocab, self.modality, self.train = corpus, vocab, modality, train
        self.max_seq_len, self.max_question_len = max_seq_len, max_question_len
        self.negative_windows = negative_windows
        self.questions: list[dict] = []
        self.question_ids: list[list[int]] = []
        self.units: dict[str, PassageUnits] = {}
        self.examples: list[WindowExample] = []
        self.lengths: list[int] = []
        #: a frozen encoder's vectors (audio modality): items then carry them instead of frames
        self.vector_table: AudioVectorTable | None = None
        skipped = {"no passage": 0, "unaligned passage": 0, "no answer word span": 0, "empty passage": 0}
        for q in questions:
            cid = q["context_id"]
            if cid not in corpus.passages:
                skipped["no passage"] += 1
                continue
            seg = corpus.segments[cid]
            if modality == "audio" and not seg.complete:
                skipped["unaligned passage"] += 1
                continue
            if seg.num_words == 0:
                skipped["empty passage"] += 1
                continue
            answer = first_answer_span(q, seg.num_words) if train else None
            if train and answer is None:
                skipped["no answer word span"] += 1
                continue
            units = self._passage_units(cid)
            q_ids = vocab.text_ids(q["question"], max_question_len)
            offset = len(q_ids) + 2
            window = max_seq_len - offset - 1
            if window_units > 0:
                window = min(window, window_units)
            stride = max(1, min(window_stride, window))
            qi = len(self.questions)
            self.questions.append(q)
            self.question_ids.append(q_ids)
            for s, e in make_windows(len(units.ids), window, stride):
                target = None
                if train:
                    u0, u1 = answer_units(units.unit_words, answer)
                    if s <= u0 and u1 < e:
                        target = (offset + u0 - s, offset + u1 - s)
                    elif negative_windows == "cls":
                        target = (0, 0)
                    else:
                        continue
                self.examples.append(WindowExample(qi, s, e, target))
                self.lengths.append(offset + (e - s) + 1)
        for why, n in skipped.items():
            if n:
                logger.warning("%s: left out %d question(s): %s", "training" if train else "decoding", n, why)

    def _passage_units(self, cid: str) -> PassageUnits:
        if cid not in self.units:
            words = self.corpus.passages[cid].words
            ids: list[int] = []
            owner: list[int] = []
            for w, word in enumerate(words):
                pieces = self.vocab.word_ids(word)
                if self.modality == "audio":
                    pieces = pieces[:1]
                ids.extend(pieces)
                owner.extend([w] * len(pieces))
            self.units[cid] = PassageUnits(ids, np.asarray(owner, dtype=np.int64))
        return self.units[cid]

    def __len__(self) -> int:
        return len(self.examples)

    def context_ids(self) -> list[str]:
        """The passages the examples read, in first-use order."""
        return list(dict.fromkeys(self.questions[ex.question]["context_id"] for ex in self.examples))

    def use_vector_table(self, table: AudioVectorTable) -> None:
        """Hand the model ``table``'s vectors instead of frames from now on, filled for every
        passage now (before any DataLoader worker starts, so that they share one table)."""
        if self.modality != "audio":
            raise ConfigError("a text QA dataset has no audio words to encode")
        table.fill(self.context_ids())
        self.vector_table = table

    def __getitem__(self, index: int) -> dict:
        ex = self.examples[index]
        q = self.questions[ex.question]
        cid = q["context_id"]
        units = self._passage_units(cid)
        q_ids = self.question_ids[ex.question]
        v = self.vocab
        offset = len(q_ids) + 2
        n = ex.end - ex.start
        ids = [v.cls_id, *q_ids, v.sep_id, *units.ids[ex.start:ex.end], v.sep_id]
        item = {"id": f"{q['id']}:{ex.start}", "input_ids": ids,
                "token_type_ids": [0] * offset + [1] * (n + 1), "passage_offset": offset, "n_units": n,
                "audio_positions": [], "audio_feats": []}
        if self.modality == "audio":
            item["audio_positions"] = list(range(offset, offset + n))
            words = units.unit_words[ex.start:ex.end].tolist()
            if self.vector_table is not None:
                del item["audio_feats"]
                item["audio_vectors"] = self.vector_table.vectors(cid, words)
            else:
                item["audio_feats"] = self.corpus.word_feats(cid, words)
        if ex.target is not None:
            item["start"], item["end"] = ex.target
        return item


def first_answer_span(q: dict, num_words: int) -> tuple[int, int] | None:
    """The first answer's inclusive word span, or None when stage 4 gave none."""
    for span in q.get("answer_word_spans") or []:
        if span is None:
            continue
        a0, a1 = int(span[0]), int(span[1])
        if not 0 <= a0 <= a1 < num_words:
            raise DataError(f"answer word span {span} is outside the passage of {num_words} words",
                            key=q.get("id"))
        return a0, a1
    return None


def answer_units(unit_words: np.ndarray, span: tuple[int, int]) -> tuple[int, int]:
    """First unit of the span's first word and last unit of its last word."""
    first = int(np.searchsorted(unit_words, span[0], side="left"))
    last = int(np.searchsorted(unit_words, span[1], side="right")) - 1
    return first, last


def make_sqa_collate(pad_id: int, allow_cls: bool) -> Callable[[list], dict]:
    """Collate for :class:`SQADataset` items (targets included when the items have them)."""

    def collate(items: list[dict]) -> dict:
        batch = collate_mixed(items, pad_id)
        batch["ids"] = [it["id"] for it in items]
        mask = torch.zeros_like(batch["attention_mask"])
        for b, it in enumerate(items):
            mask[b, it["passage_offset"]: it["passage_offset"] + it["n_units"]] = True
            if allow_cls:
                mask[b, 0] = True
        batch["span_mask"] = mask
        if items and "start" in items[0]:
            batch["start_positions"] = torch.tensor([it["start"] for it in items], dtype=torch.long)
            batch["end_positions"] = torch.tensor([it["end"] for it in items], dtype=torch.long)
        return batch

    return collate
