"""Stage 7: spoken question answering fine-tuning (and the text QA model of the cascade).

Input: ``[CLS] question WordPieces [SEP] passage window [SEP]``; the question is type 0, the
passage type 1. The passage is read as audio word vectors (``--input_modality audio``, the
end-to-end SpeechBERT model) or as WordPiece tokens (``--input_modality text``: the text QA
model; trained on reference text, fed ASR transcripts by the cascade at test time).

A span head (``--span_head``: ``linear``, the default, or ``mlp``; ``--span_head_conf`` its
options; :mod:`speechbert.nets.span_heads`) gives start/end logits, masked to the passage
positions (and ``[CLS]``).
Long passages are cut into windows of at most ``--window_units`` passage units (audio words or
pieces; never more than fit after the question in ``--max_seq_len``), starting
``--window_stride`` units apart. Training target: the first answer's word span
(``answer_word_spans`` of questions.jsonl, written by stage 4); with WordPiece units the start is
the first piece of the first word and the end the last piece of the last word. A window that
does not contain the whole answer points at ``[CLS]`` (``--negative_windows cls``) or is left
out (``drop``).

Decoding (validation and :func:`predict_spans`): in every window the best spans over passage
words (score = start + end logit, at most ``--max_answer_len`` words; with WordPiece units a
word's start logit is its first piece's, its end logit its last piece's), then the windows of
a question are merged keeping each word span's best score.

Validation decodes the validation set the way the decoders do (the decoding policy for
unaligned utterances, every question answered) and scores it the way ``score_sqa`` does
(:func:`validation_metrics`): ``valid.f1``/``valid.em`` are SQuAD text scores of the predicted
words, ``valid.ff1``/``valid.aos`` time-span scores when the passages have times. Decoding the
validation set with ``sqa_decode``/``cascade_decode`` and scoring it with ``score_sqa`` gives
the same numbers (doc/inputs.md, "decode = validation").

Inputs (corpus and window data set) come from the run's :class:`InputPipeline`
(``speechbert.tasks.input_pipeline``), recorded in ``inputs.yaml``; library entry for the
decoding stages: :func:`predict_from_exp`.
"""

from __future__ import annotations

import argparse
import json
import logging
import weakref
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from speechbert.command_line import ArgumentParser, str2bool
from speechbert.errors import ConfigError, DataError
from speechbert.io.sqa_data import read_questions
from speechbert.nets.mixed_encoder import MixedEncoder
from speechbert.nets.span_qa_model import SpanQAModel
from speechbert.progress import Progress
from speechbert.tasks.abs_task import AbsTask
from speechbert.tasks.audio_vector_table import AudioVectorTable
from speechbert.tasks.common import (INHERITED_MODEL_OPTIONS, add_audio_encoder_arguments, add_bert_arguments,
                                     add_corpus_arguments, add_span_head_arguments, build_audio_encoder,
                                     build_span_head, feat_dim_of, inherit_model_options, load_corpus, load_vocab,
                                     pipeline_for_args, read_bert, register_init)
from speechbert.tasks.input_pipeline import write_input_settings
from speechbert.tasks.span_decoding import ScoredSpan, best_spans, merge_spans, units_to_word_logits
from speechbert.tasks.sqa_dataset import MODALITIES, SQADataset, make_sqa_collate
from speechbert.tasks.word_segments import SpokenCorpus

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------- decoding


def uses_vector_table(args: argparse.Namespace) -> bool:
    """Whether a model's options (``--audio_vector_table``; older models: yes) encode the words
    of a frozen audio encoder once per passage."""
    return bool(getattr(args, "audio_vector_table", True))


def attach_vector_table(model: nn.Module, dataset: SQADataset, device: str | torch.device) -> bool:
    """Give an audio dataset the vector table of the model's audio word encoder if it is frozen.

    Returns whether the dataset now reads encoded vectors (never for text QA or a trainable
    encoder, whose vectors change with every update)."""
    encoder = getattr(model, "encoder", None)
    if dataset.modality != "audio" or not isinstance(encoder, MixedEncoder) or encoder.audio_encoder is None \
            or not encoder.freeze_audio_encoder:
        return False
    if dataset.vector_table is None:
        dataset.use_vector_table(AudioVectorTable(dataset.corpus, encoder.audio_encoder, device))
    return True


@torch.no_grad()
def predict_spans(model: SpanQAModel, dataset: SQADataset, *, n_best: int = 5, max_answer_len: int = 30,
                  batch_size: int = 16, device: str | torch.device = "cpu",
                  vector_table: bool = True, progress: Progress | None = None) -> dict[str, list[ScoredSpan]]:
    """Best word spans per question id (n-best, best first) over all windows of its passage.

    ``vector_table``: encode the words of a frozen audio encoder once per passage
    (:func:`attach_vector_table`); pass the model's own option (:func:`uses_vector_table`) so
    that decoding reads the vectors validation read. ``progress``: a
    :class:`speechbert.progress.Progress` counting the windows decoded (the caller closes it)."""
    model.eval()
    device = torch.device(device)
    if vector_table:
        attach_vector_table(model, dataset, device)
    collate = make_sqa_collate(dataset.vocab.pad_id, allow_cls=False)
    per_question: dict[int, list[list[ScoredSpan]]] = {}
    for first in range(0, len(dataset), batch_size):
        idx = list(range(first, min(first + batch_size, len(dataset))))
        items = [dataset[i] for i in idx]
        batch = collate(items)
        batch.pop("ids")
        batch.pop("start_positions", None)
        batch.pop("end_positions", None)
        batch = {k: v.to(device) for k, v in batch.items()}
        start, end = model.logits(**batch)
        start, end = start.float().cpu().numpy(), end.float().cpu().numpy()
        if progress is not None:
            progress.update(len(idx))
        for row, (i, it) in enumerate(zip(idx, items)):
            ex = dataset.examples[i]
            units = dataset.units[dataset.questions[ex.question]["context_id"]]
            off, n = it["passage_offset"], it["n_units"]
            s_log, e_log = start[row, off:off + n], end[row, off:off + n]
            lo, w_start, w_end = units_to_word_logits(s_log, e_log, units.unit_words, ex.start)
            spans = best_spans(w_start, w_end, np.ones(len(w_start), dtype=bool), max_answer_len, n_best)
            per_question.setdefault(ex.question, []).append(
                [ScoredSpan(s.first + lo, s.last + lo, s.score) for s in spans])
    return {dataset.questions[qi]["id"]: merge_spans(lists, n_best) for qi, lists in per_question.items()}


def prediction_records(dataset: SQADataset, predictions: dict[str, list[ScoredSpan]]) -> list[dict]:
    """``predictions.jsonl`` records (doc/design.md): word span, words, passage times, n-best."""
    out = []
    for q in dataset.questions:
        cid = q["context_id"]
        seg = dataset.corpus.segments[cid]
        words = seg.passage.words

        def entry(s: ScoredSpan) -> dict:
            has_time = bool(seg.aligned[s.first] or seg.frames[s.first, 1] > seg.frames[s.first, 0]) and \
                bool(seg.aligned[s.last] or seg.frames[s.last, 1] > seg.frames[s.last, 0])
            return {"word_span": [s.first, s.last], "words": " ".join(words[s.first:s.last + 1]),
                    "start": round(float(seg.times[s.first, 0]), 3) if has_time else None,
                    "end": round(float(seg.times[s.last, 1]), 3) if has_time else None,
                    "score": float(s.score)}

        nbest = [entry(s) for s in predictions.get(q["id"], [])]
        best = nbest[0] if nbest else {"word_span": None, "words": "", "start": None, "end": None,
                                       "score": float("-inf")}
        out.append({"id": q["id"], "context_id": cid, **best, "nbest": nbest})
    return out


def load_span_model(exp_dir: str | Path, model_file: str = "model.avg.pt",
                    device: str | torch.device = "cpu") -> tuple[SpanQAModel, argparse.Namespace]:
    """A trained fine-tuning (or text QA) model and its options, ready for decoding."""
    return SQATask.load_from_exp(exp_dir, file=model_file, device=device)


def predict_from_exp(exp_dir: str | Path, data_dir: str | Path, *, dump_dir: str | Path | None = None,
                     ctm: str | Path | None = None, cmvn: str | Path | None = None, text_name: str = "text",
                     model_file: str = "model.avg.pt", n_best: int = 5, max_answer_len: int | None = None,
                     batch_size: int = 16, device: str | torch.device = "cpu",
                     model: tuple[SpanQAModel, argparse.Namespace] | None = None) -> list[dict]:
    """Decode a data set with a trained model: one ``predictions.jsonl`` record per question.

    The inputs are built by the experiment's recorded :class:`InputPipeline`
    (``exp_dir/inputs.yaml``). Audio models need ``dump_dir`` and the word ``ctm`` (utterances
    without alignment get evenly split segments so that every question is answered); ``cmvn``
    defaults to the training run's and must have its bytes. Text models read the passage words
    of ``data_dir/<text_name>``; with a ``ctm`` of those words the records get passage times.
    ``model``: an already loaded ``(model, args)`` from :func:`load_span_model`.
    """
    from speechbert.tasks.input_pipeline import InputPipeline

    net, args = model if model is not None else load_span_model(exp_dir, model_file, device)
    pipeline = InputPipeline.from_exp(exp_dir)
    if pipeline.settings.modality == "audio" and (dump_dir is None or ctm is None):
        raise ConfigError("an audio (end-to-end) model needs the data set's features (dump_dir) and word CTM")
    corpus = pipeline.corpus(data_dir, dump_dir, ctm, train=False, text_name=text_name, cmvn=cmvn)
    questions = read_questions(Path(data_dir) / "questions.jsonl")
    dataset = pipeline.sqa_dataset(corpus, questions, train=False)
    spans = predict_spans(net, dataset, n_best=n_best,
                          max_answer_len=max_answer_len or int(args.max_answer_len),
                          batch_size=batch_size, device=device, vector_table=uses_vector_table(args))
    return prediction_records(dataset, spans)


def answered_records(records: Sequence[dict]) -> list[dict]:
    """The records that hold a span: what decoders write to ``predictions.jsonl``."""
    return [r for r in records if r["word_span"] is not None]


def validation_metrics(data_dir: str | Path, records: Sequence[dict]) -> dict[str, float]:
    """Score decoded records exactly as ``score_sqa`` scores a ``predictions.jsonl`` of them.

    Returns ``f1`` and ``em`` (SQuAD text scores of the predicted words, x100) and, when the
    records carry times, ``ff1`` and ``aos``: the numbers ``score_sqa`` reports as ``overall``
    for the same predictions, so decoding the validation set reproduces the trainer's metrics.
    """

    from speechbert.io.sqa_data import load_sqa_set
    from speechbert.metrics.sqa_scoring import parse_prediction, score_sqa

    sqa = load_sqa_set(data_dir)
    path = Path(data_dir) / "(validation predictions)"
    preds = {}
    for n, rec in enumerate(answered_records(records), start=1):
        # The JSON round trip makes the numbers those of a written predictions.jsonl.
        p = parse_prediction(json.loads(json.dumps(rec)), path, n)
        preds[p.id] = p
    result, _ = score_sqa(sqa, preds, bootstrap_samples=0)  # the means are what validation needs
    overall = result["overall"]
    out = {k: float(overall[k]) for k in ("f1", "em") if overall.get(k) is not None}
    if any(p.start is not None for p in preds.values()):
        out.update({k: float(overall[k]) for k in ("ff1", "aos") if overall.get(k) is not None})
    return out


# ------------------------------------------------------------------------------------- task


class SQATask(AbsTask):
    """Stage 7: fine-tune on SQA (audio passages), or train the cascade's text QA model."""

    name = "sqa_finetune"
    prog = "sqa_train"  # speechbert.bin.sqa_train: the entry point of SQATask
    _eval_sets: "weakref.WeakKeyDictionary[nn.Module, dict[tuple, SQADataset]]" = weakref.WeakKeyDictionary()

    @classmethod
    def add_task_arguments(cls, parser: ArgumentParser) -> None:
        add_bert_arguments(parser, inherit=True)
        add_corpus_arguments(parser, inherit=True)
        add_audio_encoder_arguments(parser, inherit=True)
        add_span_head_arguments(parser)
        a = parser.add_argument
        a("--input_modality", default="audio", choices=list(MODALITIES),
          help="passage as audio word vectors (end-to-end) or as WordPiece tokens (text QA for the cascade)")
        a("--feat_dim", type=int, default=None, help="feature dimension (default: inherited or from the features)")
        a("--init_model", default=None,
          help="pre-trained model (exp/pretrain/model.avg.pt) whose encoder.* initialises ours "
               "(text modality: only its transformer)")
        a("--init_audio_encoder", default=None,
          help="joint-embedding model whose audio_encoder.* initialises ours (when not pre-trained)")
        a("--freeze_audio_encoder", type=str2bool, default=False, help="keep the audio word encoder fixed")
        a("--max_seq_len", type=int, default=384, help="longest input sequence (positions)")
        a("--max_question_len", type=int, default=64, help="question WordPieces kept")
        a("--window_units", type=int, default=0,
          help="passage units (audio words or pieces) per window (0: as many as fit after the question)")
        a("--window_stride", type=int, default=128, help="units between the starts of consecutive windows")
        a("--negative_windows", default="cls", choices=["cls", "drop"],
          help="training windows without the whole answer: target [CLS], or leave them out")
        a("--max_answer_len", type=int, default=30, help="longest predicted answer, in words")
        a("--n_best", type=int, default=5, help="spans kept per question when decoding")
        a("--eval_batch_size", type=int, default=16, help="windows per batch in validation decoding")
        a("--audio_vector_table", type=str2bool, default=True,
          help="with --freeze_audio_encoder: encode every passage word once (training, validation and "
               "decoding read the stored vectors; one float vector per word in host memory) instead of "
               "running the frozen encoder for every window")

    @classmethod
    def _resolve(cls, args: argparse.Namespace) -> None:
        init = args.init_model or args.init_audio_encoder
        names = INHERITED_MODEL_OPTIONS if args.init_model else tuple(n for n in INHERITED_MODEL_OPTIONS
                                                                       if n != "bert_layers")
        inherit_model_options(args, init, names=names)
        if args.bert_layers is None:
            args.bert_layers = 0

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> nn.Module:
        cls._resolve(args)
        pre = read_bert(args)
        awe = None
        if args.input_modality == "audio":
            awe = build_audio_encoder(args, feat_dim_of(args), pre.config.hidden_size)
        encoder = MixedEncoder(pre.encoder, awe, freeze_audio_encoder=args.freeze_audio_encoder)
        head = build_span_head(args, pre.config.hidden_size, pre.config.initializer_range)
        if pre.span_state:
            if getattr(head, "accepts_hf_qa_outputs", False):
                head.load_hf_state_dict(pre.span_state)
            else:
                logger.warning("span head %r cannot take the checkpoint's qa_outputs weights: it starts from "
                               "random weights", args.span_head)
        model = SpanQAModel(encoder, head)
        if args.init_model:
            register_init(args, args.init_model, "encoder" if awe is not None else "encoder.bert",
                          "encoder" if awe is not None else "encoder.bert")
        if args.init_audio_encoder and awe is not None:
            register_init(args, args.init_audio_encoder, "audio_encoder", "encoder.audio_encoder")
        return model

    @classmethod
    def write_input_record(cls, args: argparse.Namespace, output_dir: Path) -> None:
        cls._resolve(args)
        write_input_settings(output_dir, pipeline_for_args(args, args.input_modality, windows=True).settings)

    @classmethod
    def _corpus(cls, args: argparse.Namespace, split: str, train: bool) -> SpokenCorpus | None:
        return load_corpus(args, split, train=train, modality=args.input_modality, windows=True)

    @classmethod
    def build_dataset(cls, args: argparse.Namespace, split: str) -> Dataset | None:
        cls._resolve(args)
        corpus = cls._corpus(args, split, train=True)
        if corpus is None:
            return None
        questions = read_questions(Path(getattr(args, f"{split}_data")) / "questions.jsonl")
        ds = pipeline_for_args(args, args.input_modality, windows=True).sqa_dataset(corpus, questions, train=True)
        if not len(ds):
            raise DataError(f"no {split} question has an answer word span (answer_word_spans from stage 4)",
                            Path(getattr(args, f"{split}_data")) / "questions.jsonl")
        return ds

    @classmethod
    def attach_model(cls, model: nn.Module, dataset: Dataset, args: argparse.Namespace,
                     device: torch.device) -> None:
        if isinstance(dataset, SQADataset) and uses_vector_table(args):
            attach_vector_table(model, dataset, device)

    @classmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[[list], dict]:
        return make_sqa_collate(load_vocab(args.bert_dir).pad_id, allow_cls=args.negative_windows == "cls")

    @classmethod
    def validate(cls, model: nn.Module, args: argparse.Namespace, device: torch.device) -> dict[str, float]:
        """Decode the validation set as the decoders do and score it as ``score_sqa`` does."""
        if not args.valid_data:
            return {}
        cls._resolve(args)
        pipeline = pipeline_for_args(args, args.input_modality, windows=True)
        # One decoding set per model and inputs, built at the first validation: its vector table
        # holds that model's (frozen) encoder's vectors, so it must never serve another model.
        key = (json.dumps(pipeline.settings.as_dict(), sort_keys=True, default=str),
               args.valid_data, args.valid_dump, args.valid_ctm)
        sets = cls._eval_sets.setdefault(model, {})
        if key not in sets:
            corpus = cls._corpus(args, "valid", train=False)
            questions = read_questions(Path(args.valid_data) / "questions.jsonl")
            sets[key] = pipeline.sqa_dataset(corpus, questions, train=False)
        ds = sets[key]
        preds = predict_spans(model, ds, n_best=1, max_answer_len=args.max_answer_len,
                              batch_size=args.eval_batch_size, device=device, vector_table=uses_vector_table(args))
        return validation_metrics(args.valid_data, prediction_records(ds, preds))


FinetuneTask = SQATask
