"""Decoding a fine-tuned span QA model (end-to-end audio model or the cascade's text model) over
a set of passages into ``predictions.jsonl`` records.

Thin layer over :mod:`speechbert.tasks.sqa_finetune` (windows, span search, word → time
mapping): it adds clear errors for missing model files, job splitting over passages and the
``word_source`` field. The inputs come from the experiment's recorded input pipeline
(``exp/<name>/inputs.yaml``, :mod:`speechbert.tasks.input_pipeline`); a window option given at
decode time must agree with it.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

from speechbert.align.align_dir import job_slice
from speechbert.errors import ConfigError
from speechbert.progress import Progress
from speechbert.tasks.input_pipeline import InputPipeline
from speechbert.tasks.sqa_finetune import (SpanQAModel, answered_records, load_span_model, predict_spans,
                                           prediction_records, uses_vector_table)
from speechbert.tasks.word_segments import SpokenCorpus

logger = logging.getLogger(__name__)


@dataclass
class DecodeOptions:
    """Decode-time options; window options, when set, must equal the model's recorded ones."""

    nbest: int = 5
    max_answer_len: int | None = None
    batch_size: int = 16
    window_units: int | None = None
    window_stride: int | None = None


def pick_device(ngpu: int) -> torch.device:
    """``cpu`` for ``ngpu == 0``, ``cuda`` for 1 (decoding runs on one device)."""
    if ngpu <= 0:
        return torch.device("cpu")
    if ngpu > 1:
        raise ConfigError(f"--ngpu {ngpu}: decoding uses one GPU; split the work with --nj/--job instead")
    if not torch.cuda.is_available():
        raise ConfigError("--ngpu 1 but no CUDA device is available")
    return torch.device("cuda")


def load_qa_model(model_dir: str | Path, model_file: str = "model.avg.pt", device: str | torch.device = "cpu",
                  modality: str | None = None, tool: str = "") -> tuple[SpanQAModel, argparse.Namespace]:
    """Load a fine-tuned span QA model from its experiment directory (``config.yaml`` + weights).

    ``model_file`` is a file name inside ``model_dir`` or a path to a model file. With
    ``modality``, a model trained on the other input (``audio``/``text``) is refused before its
    weights are read (``tool`` names the entry point that decodes the other kind).

    Raises:
        ConfigError: naming the missing directory, ``config.yaml`` or model file, or the modality.
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ConfigError(f"{model_dir}: no such model directory")
    if not (model_dir / "config.yaml").is_file():
        raise ConfigError(f"{model_dir}: no config.yaml (not a training experiment directory)")
    file = Path(model_file)
    if not file.is_absolute() and not (model_dir / file).is_file() and file.is_file():
        file = file.resolve()  # a path relative to the working directory
    path = file if file.is_absolute() else model_dir / file
    if not path.is_file():
        raise ConfigError(f"{path}: no such model file (train the model first, or pick one with --model_file)")
    if modality is not None:
        from speechbert.tasks.sqa_finetune import SQATask
        from speechbert.train.model_io import load_exp_args

        trained = load_exp_args(model_dir, SQATask).input_modality
        if trained != modality:
            raise ConfigError(f"{model_dir} is a model with {trained} input; this tool needs one with {modality} "
                              f"input" + (f" (decode it with {tool})" if tool else ""))
    model, args = load_span_model(model_dir, str(path if file.is_absolute() else file), device)
    logger.info("loaded %s (%s input, %d parameters)", path, args.input_modality,
                sum(p.numel() for p in model.parameters()))
    return model, args


def job_questions(questions: Sequence[dict], nj: int, job: int) -> list[dict]:
    """The questions of job ``job`` of ``nj``: whole passages, split in context-id order."""
    cids = sorted({q["context_id"] for q in questions})
    mine = set(job_slice(cids, nj, job))
    return [q for q in questions if q["context_id"] in mine]


def decode_questions(model: SpanQAModel, args: argparse.Namespace, pipeline: InputPipeline,
                     corpus: SpokenCorpus, questions: Sequence[dict], opts: DecodeOptions, word_source: str,
                     device: str | torch.device = "cpu", nj: int = 1, job: int = 1,
                     job_record: str | Path | None = None) -> list[dict]:
    """Predict the n-best word spans of ``questions`` and map them to passage time.

    ``corpus`` must come from ``pipeline`` (the model's recorded inputs). Questions the model
    cannot read (no passage, an empty passage) get no record; they are counted in the log.
    ``nj``/``job``: only job ``job``'s share (:func:`speechbert.decode.jobs.job_share`: the
    records a single job would write for those questions, bit for bit); ``job_record``: where
    to write the share for ``merge_predictions``.
    """
    from speechbert.decode.jobs import job_share, write_job_record

    pipeline.check_window_options(opts.window_units, opts.window_stride)
    full = pipeline.sqa_dataset(corpus, questions, train=False)
    share = job_share(full, nj, job, opts.batch_size)
    dataset = share.examples_view(full)
    if nj > 1:
        questions = [full.questions[q] for q in share.questions]
        logger.info("job %d of %d: %d of %d questions, windows %d-%d of %d", job, nj, len(questions), share.total,
                    share.first_example, share.end_example, len(full))
    with Progress(len(dataset), f"decoding windows ({len(questions)} questions)", log=logger) as progress:
        spans = predict_spans(model, dataset, n_best=opts.nbest,
                              max_answer_len=opts.max_answer_len or int(args.max_answer_len),
                              batch_size=opts.batch_size, device=device, vector_table=uses_vector_table(args),
                              progress=progress)
    own = {full.questions[q]["id"] for q in share.questions}
    records = []
    for rec in answered_records(prediction_records(full, {q: s for q, s in spans.items() if q in own})):
        rec["word_source"] = word_source
        records.append(rec)
    if job_record is not None:
        write_job_record(job_record, share, full, len(records))
    missing = len(questions) - len(records)
    if missing:
        logger.warning("%d of %d questions have no prediction (see the warnings above)", missing, len(questions))
    return records


@dataclass
class Decoder:
    """A loaded span QA model with its options and recorded input pipeline."""

    model: SpanQAModel
    margs: argparse.Namespace
    pipeline: InputPipeline
    opts: DecodeOptions
    device: torch.device

    def decode_to_file(self, out: str | Path, corpus: SpokenCorpus, questions: Sequence[dict],
                       word_source: str, nj: int = 1, job: int = 1, job_record: str | Path | None = None) -> int:
        """:func:`decode_to_file` with this decoder."""
        return decode_to_file(out, self.model, self.margs, self.pipeline, corpus, questions, self.opts,
                              word_source, self.device, nj=nj, job=job, job_record=job_record)


def load_decoder(args: argparse.Namespace, modality: str, tool: str) -> Decoder:
    """The start of ``sqa_decode`` and ``cascade_decode``: torch threads, the validated decoding
    options, the device, the model and its input pipeline of parsed
    :func:`add_decode_arguments` options ``args``.

    ``modality`` and ``tool`` are those of :func:`load_qa_model`.
    """
    torch.set_num_threads(args.num_threads)
    opts = decode_options_from_args(args)
    device = pick_device(args.ngpu)
    model, margs = load_qa_model(args.model_dir, args.model_file, device, modality=modality, tool=tool)
    return Decoder(model, margs, InputPipeline.from_exp(args.model_dir), opts, device)


def decode_to_file(out: str | Path, model: SpanQAModel, args: argparse.Namespace, pipeline: InputPipeline,
                   corpus: SpokenCorpus, questions: Sequence[dict], opts: DecodeOptions, word_source: str,
                   device: str | torch.device = "cpu", nj: int = 1, job: int = 1,
                   job_record: str | Path | None = None) -> int:
    """:func:`decode_questions`, then the records written to ``out`` (``predictions.jsonl``).

    Returns the number of predictions written.
    """
    from speechbert.decode.predictions import write_predictions

    records = decode_questions(model, args, pipeline, corpus, questions, opts, word_source, device, nj=nj, job=job,
                               job_record=job_record)
    n = write_predictions(out, records)
    logger.info("wrote %d predictions for %d questions to %s", n, len(questions), out)
    return n


def add_decode_arguments(parser) -> None:  # noqa: ANN001 - a speechbert.command_line.ArgumentParser
    """The options shared by ``sqa_decode`` and ``cascade_decode`` (sqa.sh's ``decode_args``)."""
    a = parser.add_argument
    a("--model_dir", required=True, help="fine-tuning experiment directory (config.yaml + model file)")
    a("--model_file", default="model.avg.pt", help="model file inside --model_dir (or a path)")
    a("--data", required=True, help="data directory (contexts, text, utt2dur, questions.jsonl)")
    a("--out", required=True, help="predictions.jsonl to write")
    a("--nbest", type=int, default=5, help="spans kept per question")
    a("--max_answer_len", type=int, default=None, help="longest answer in words (default: the model's)")
    a("--window_units", type=int, default=None,
      help="passage units per window; must equal the model's (recorded in its inputs.yaml)")
    a("--window_stride", type=int, default=None,
      help="units between window starts; must equal the model's (recorded in its inputs.yaml)")
    a("--batch_size", type=int, default=16, help="windows per forward pass")
    a("--ngpu", type=int, default=0, help="0: CPU, 1: one GPU")
    a("--nj", type=int, default=1,
      help="split the decoding into this many jobs (on single-job batch bounds: merged, the bytes of one job)")
    a("--job", type=int, default=1, help="which job (1-based) to decode")
    a("--job_record", default=None,
      help="write the job's share here (split_dir/job.<k>.json, next to --out split_dir/predictions.<k>.jsonl) "
           "for speechbert.bin.merge_predictions")
    a("--num_threads", type=int, default=1, help="torch CPU threads")


def decode_options_from_args(args: argparse.Namespace) -> DecodeOptions:
    """:class:`DecodeOptions` of parsed :func:`add_decode_arguments` options (validated)."""
    if args.nbest < 1:
        raise ConfigError(f"--nbest must be at least 1, got {args.nbest}")
    if args.max_answer_len is not None and args.max_answer_len < 1:
        raise ConfigError(f"--max_answer_len must be at least 1, got {args.max_answer_len}")
    if args.batch_size < 1:
        raise ConfigError(f"--batch_size must be at least 1, got {args.batch_size}")
    return DecodeOptions(nbest=args.nbest, max_answer_len=args.max_answer_len, batch_size=args.batch_size,
                         window_units=args.window_units, window_stride=args.window_stride)
