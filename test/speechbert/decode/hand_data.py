"""A hand-built data set with known word times, and a span model with known logits."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

TEXT = {"u1": "the cat sat", "u2": "near the river"}
DUR = {"u1": 1.5, "u2": 2.0}
# utterance-relative reference word times
REF_CTM = {"u1": [("the", 0.10, 0.30), ("cat", 0.35, 0.60), ("sat", 0.70, 1.00)],
           "u2": [("near", 0.20, 0.50), ("the", 0.55, 0.65), ("river", 0.70, 1.20)]}


def write_ctm(path: Path, ctm: dict[str, list[tuple[str, float, float]]]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for utt in sorted(ctm):
            for w, s, e in ctm[utt]:
                f.write(f"{utt} 1 {s:.3f} {e - s:.3f} {w} 1.000\n")
    return path


def write_two_sentence_data(data: Path) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    (data / "text").write_text("".join(f"{u} {t}\n" for u, t in TEXT.items()))
    (data / "utt2dur").write_text("".join(f"{u} {d}\n" for u, d in DUR.items()))
    (data / "contexts").write_text("c1 u1 u2\n")
    q = {"id": "q1", "context_id": "c1", "question": "where did the cat sit",
         "answers": [{"text": "near the river", "char_start": 12}], "answer_word_spans": [[3, 5]],
         "answer_time_spans": [[1.7, 2.7]]}
    (data / "questions.jsonl").write_text(json.dumps(q) + "\n")
    write_ctm(data / "word.ctm", REF_CTM)
    return data


def text_model_args() -> argparse.Namespace:
    """The options a text QA model's config.yaml would give the decoder."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
    import sqa_fixture as fx

    return argparse.Namespace(bert_dir=fx.bert_dir(), input_modality="text", max_seq_len=64, max_question_len=16,
                              window_units=0, window_stride=16, negative_windows="cls", max_answer_len=10,
                              max_word_frames=0)


def text_pipeline():  # noqa: ANN201 - an InputPipeline
    """The input pipeline a text QA model with :func:`text_model_args` records."""
    from speechbert.tasks.input_pipeline import InputPipeline, settings_from_args

    return InputPipeline(settings_from_args(text_model_args(), "text", windows=True))


class FixedSpanModel(torch.nn.Module):
    """Start logit ``start_score`` on passage unit ``first``, end logit ``end_score`` on ``last``
    (counted from the first passage position of every input), -20 elsewhere."""

    def __init__(self, first: int, last: int, start_score: float = 3.0, end_score: float = 2.0) -> None:
        super().__init__()
        self.first, self.last = first, last
        self.start_score, self.end_score = start_score, end_score

    def logits(self, input_ids, token_type_ids, attention_mask, span_mask, **audio):  # noqa: ANN001
        start = torch.full(span_mask.shape, -20.0)
        end = torch.full(span_mask.shape, -20.0)
        for b in range(span_mask.shape[0]):
            p0 = int(span_mask[b].nonzero()[0])
            start[b, p0 + self.first] = self.start_score
            end[b, p0 + self.last] = self.end_score
        return start, end
