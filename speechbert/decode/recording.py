"""Answering a question about a new recording with a trained end-to-end model.

Pipeline (doc/answering.md): read the audio (any rate soundfile reads; several channels are mixed
down, with a note) → resample to the training feature rate → the training features (fbank/MFCC,
the recorded feature configuration) → cut into chunks of at most ``max_chunk_seconds`` at the
quietest frame of each chunk's second half → the CTC aligner as a greedy ASR on each chunk gives
words and word times (no transcript needed) → audio word segments prepared as the model's
experiment recorded (``inputs.yaml``: training CMVN, frame pooling, ...) → the SQA model → the
best word span, its passage-time span and the recognised words in it.

A passage may also be given as several recordings (its sentences, in order) with an oracle word
segmentation (a CTM with one utterance per recording): each recording is then one utterance, as
in a data directory, and the model reads exactly what ``sqa_decode`` gives it for that passage.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import soundfile
import torch

from speechbert.align.aligner import Aligner
from speechbert.asr.ctc import recognize
from speechbert.audio.cmvn import GlobalCMVN
from speechbert.audio.frontends import Frontend, frontend_from_dict, frontend_from_type_line, frontend_from_yaml
from speechbert.audio.wav_io import resample, wav_truncation
from speechbert.decode.span_qa import DecodeOptions, decode_questions
from speechbert.tasks.input_pipeline import InputPipeline
from speechbert.errors import ConfigError, DataError
from speechbert.io.atomic import atomic_path
from speechbert.io.ctm import CtmEntry
from speechbert.nets.span_qa_model import SpanQAModel
from speechbert.tasks.word_segments import Passage, SpokenCorpus, build_segments
from speechbert.text.normalize import normalize_text

logger = logging.getLogger(__name__)

CONTEXT_ID = "recording"


# ------------------------------------------------------------------------------------- audio


@dataclass
class Recording:
    """Mono float32 samples in [-1, 1] at the file's own rate, and what was done to them."""

    path: str
    samples: np.ndarray
    sample_rate: int
    notes: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def read_recording(path: str | Path) -> Recording:
    """Read an audio file; several channels are averaged into one (noted).

    Raises:
        DataError: naming the file if it is missing, cannot be decoded, or holds no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("no such audio file", path)
    truncated = wav_truncation(path)
    if truncated:
        raise DataError(f"truncated audio: {truncated}", path)
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise DataError(f"cannot read audio ({e})", path) from None
    if samples.shape[0] == 0:
        raise DataError("empty audio (0 samples)", path)
    rec = Recording(str(path), np.ascontiguousarray(samples[:, 0]), int(rate))
    if samples.shape[1] > 1:
        rec.samples = np.ascontiguousarray(samples.mean(axis=1, dtype=np.float32))
        rec.notes.append(f"mixed {samples.shape[1]} channels down to mono")
    return rec


def write_clip(path: str | Path, rec: Recording, start: float, end: float) -> float:
    """Write ``rec`` from ``start`` to ``end`` seconds to ``path`` (format from its suffix); returns
    the clip's duration."""
    path = Path(path)
    if not path.parent.is_dir():
        # A typo in the directory must not create a tree of directories (even at /).
        raise ConfigError(f"{path}: the directory {path.parent} does not exist")
    fmt = path.suffix.lstrip(".").upper()
    if fmt not in soundfile.available_formats():
        raise ConfigError(f"{path}: unknown audio format {path.suffix!r} (use .wav or .flac)")
    first = max(0, int(round(start * rec.sample_rate)))
    last = min(len(rec.samples), int(round(end * rec.sample_rate)))
    clip = rec.samples[first:max(last, first)]
    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), clip, rec.sample_rate, format=fmt)
    return len(clip) / rec.sample_rate


# ---------------------------------------------------------------------------------- features


def resolve_recorded_path(value: str | None, model_dir: str | Path) -> Path | None:
    """A path recorded in an experiment's config: as given (absolute or from the working
    directory), else relative to the recipe directory (``exp/<name>/..``/..); ``None`` if neither."""
    if not value:
        return None
    p = Path(value)
    if p.exists():
        return p
    if not p.is_absolute():
        q = Path(model_dir).resolve().parent.parent / p
        if q.exists():
            return q
    return None


def find_feature_config(model_dir: str | Path, margs: argparse.Namespace, explicit: str | None = None,
                        aligner: Aligner | None = None, pipeline: InputPipeline | None = None,
                        device: Any = "cpu") -> tuple[Frontend, str]:
    """The feature frontend the model was trained with, and where it was found.

    Order: ``explicit`` (``--feats_config``); the copy in the experiment's input record
    (``pipeline``); the YAML config ``steps/make_feats.sh`` copies to
    ``<train_dump>/conf/``; ``<train_dump>/feats_type`` + ``frame_shift``; the aligner's
    ``feats_type``. The last two assume the toolkit's default options for everything but the
    type and dimension (logged), and only work for fbank/MFCC. A config may be in the
    ``frontend: ... frontend_conf: ...`` form or the older flat one; a relative SSL checkpoint
    path in it is looked up from the working directory, then from the recipe directory. The
    frontend runs on ``device``.
    """
    base_dir = Path(model_dir).resolve().parent.parent  # the recipe directory of exp/<name>
    if explicit:
        return frontend_from_yaml(explicit, device=device, base_dir=base_dir), explicit
    if pipeline is not None and pipeline.settings.feats_config:
        return frontend_from_dict(pipeline.settings.feats_config, pipeline.source, device=device,
                                  base_dir=base_dir), pipeline.source
    dump = resolve_recorded_path(getattr(margs, "train_dump", None), model_dir)
    if dump is not None:
        from speechbert.io.dump_dir import read_dump_facts

        facts = read_dump_facts(dump)
        if facts["feats_config_file"]:
            conf = dump / "conf" / facts["feats_config_file"]
            return frontend_from_yaml(conf, device=device, base_dir=base_dir), str(conf)
        if facts["feats_type"]:
            frontend = frontend_from_type_line(facts["feats_type"], facts["frame_shift"] or 0.01)
            logger.warning("%s has no feature config copy: assuming the default %s options (%s); pass "
                           "--feats_config if the training features used others", dump / "conf", frontend.name,
                           facts["feats_type"])
            return frontend, str(dump / "feats_type")
    if aligner is not None and aligner.feats_type:
        frontend = frontend_from_type_line(aligner.feats_type, aligner.frame_shift)
        logger.warning("using the aligner's feature type %r with default options; pass --feats_config to be sure",
                       aligner.feats_type)
        return frontend, "aligner.yaml"
    raise ConfigError(f"cannot tell which features {model_dir} was trained on (its train_dump "
                      f"{getattr(margs, 'train_dump', None)!r} is not here): pass --feats_config conf/fbank.yaml")


def frame_energy(samples: np.ndarray, shift: int, num_frames: int) -> np.ndarray:
    """Log energy of each ``shift``-sample block (one per feature frame)."""
    n = min(num_frames, len(samples) // max(shift, 1))
    blocks = samples[:n * shift].reshape(n, shift).astype(np.float64)
    energy = np.log(np.sum(blocks * blocks, axis=1) + 1e-10)
    if n < num_frames:
        energy = np.concatenate([energy, np.full(num_frames - n, energy[-1] if n else 0.0)])
    return energy


def chunk_bounds(energy: np.ndarray, max_frames: int) -> list[tuple[int, int]]:
    """Cut ``len(energy)`` frames into chunks of at most ``max_frames``, each cut at the quietest
    frame of the second half of the chunk it ends."""
    if max_frames < 2:
        raise ConfigError(f"chunks must hold at least 2 frames, got {max_frames}")
    n = len(energy)
    out, start = [], 0
    while n - start > max_frames:
        lo, hi = start + max_frames // 2, start + max_frames
        cut = lo + int(np.argmin(energy[lo:hi]))
        out.append((start, cut))
        start = cut
    out.append((start, n))
    return out


# -------------------------------------------------------------------------------- segmenting


class InMemoryFeats:
    """The part of :class:`speechbert.io.feats.FeatsReader` that audio word segments use."""

    def __init__(self, mats: dict[str, np.ndarray]) -> None:
        self.mats = mats

    def load(self, utt: str, start_frame: int | None = None, end_frame: int | None = None) -> np.ndarray:
        return self.mats[utt][start_frame:end_frame].copy()

    def dim(self) -> int:
        return int(next(iter(self.mats.values())).shape[1])


@dataclass
class SegmentedRecording:
    """The recording as a one-passage corpus of recognised audio words."""

    corpus: SpokenCorpus
    chunks: list[tuple[int, int]]
    words: list[str]


def segment_recording(feats: np.ndarray, duration: float, aligner: Aligner, cmvn: GlobalCMVN | None,
                      frame_shift: float, chunks: Sequence[tuple[int, int]],
                      pipeline: InputPipeline) -> SegmentedRecording:
    """Recognise every chunk with the aligner and build the audio-word corpus of the recording.

    ``feats`` are raw features ``(T, D)``; the aligner applies its own CMVN, the audio words get
    ``cmvn`` (the SQA model's training stats) and the word-segment settings of ``pipeline``.
    """
    ctm: dict[str, list[CtmEntry]] = {}
    mats: dict[str, np.ndarray] = {}
    utt2dur: dict[str, float] = {}
    for k, (f0, f1) in enumerate(chunks):
        utt = f"chunk-{k:04d}"
        dur = (duration - f0 * frame_shift) if k == len(chunks) - 1 else (f1 - f0) * frame_shift
        ctm[utt] = recognized_entries(aligner, utt, feats[f0:f1], dur)
        mats[utt] = feats[f0:f1]
        utt2dur[utt] = dur
    return segmented_passage(mats, utt2dur, ctm, cmvn, frame_shift, pipeline, list(chunks))


def recognized_entries(aligner: Aligner, utt: str, feats: np.ndarray, duration: float) -> list[CtmEntry]:
    """The words the aligner, as a greedy ASR, recognises in ``feats``, as CTM entries of ``utt``."""
    return [CtmEntry(utt, w.start, w.end - w.start, w.word, w.conf) for w in recognize(aligner, feats, duration)]


def segmented_passage(mats: Mapping[str, np.ndarray], utt2dur: Mapping[str, float],
                      ctm: Mapping[str, Sequence[CtmEntry]], cmvn: GlobalCMVN | None, frame_shift: float,
                      pipeline: InputPipeline, chunks: list[tuple[int, int]] | None = None) -> SegmentedRecording:
    """A one-passage corpus of the utterances ``mats`` (raw features, in passage order) with the
    words and times of ``ctm``, normalised with ``cmvn`` and cut as ``pipeline`` records."""
    words: list[str] = []
    word_utt: list[int] = []
    utts = list(mats)
    for k, utt in enumerate(utts):
        ws = [e.word for e in ctm.get(utt, [])]
        words.extend(ws)
        word_utt.extend([k] * len(ws))
    passages = {CONTEXT_ID: Passage(CONTEXT_ID, utts, words, word_utt)}
    utt2num_frames = {u: len(m) for u, m in mats.items()}
    segments = build_segments(passages, {u: list(ctm.get(u, [])) for u in utts}, utt2num_frames, frame_shift,
                              dict(utt2dur), unaligned="uniform")
    normed = {u: (cmvn(m) if cmvn is not None else m) for u, m in mats.items()}
    corpus = SpokenCorpus(passages, segments, InMemoryFeats(normed), frame_shift)  # type: ignore[arg-type]
    pipeline.apply_segment_settings(corpus)
    return SegmentedRecording(corpus, chunks if chunks is not None else [(0, len(m)) for m in mats.values()], words)


# ---------------------------------------------------------------------------------- answering


@dataclass
class AnswerSetup:
    """Everything loaded once to answer questions about recordings."""

    model: SpanQAModel
    margs: argparse.Namespace
    pipeline: InputPipeline
    aligner: Aligner | None
    frontend: Frontend  # the training features' frontend (find_feature_config)
    cmvn: GlobalCMVN | None
    device: torch.device = torch.device("cpu")

    def check(self) -> None:
        """Raise ConfigError when the features, the aligner and the model do not fit together."""
        dim = self.frontend.dim
        shift = self.frontend.frame_shift
        s = self.pipeline.settings
        if s.feat_dim is not None and int(s.feat_dim) != dim:
            raise ConfigError(f"the feature config gives {dim}-dim features but the model was trained on "
                              f"{s.feat_dim}-dim ones ({self.pipeline.source}): pass the training --feats_config")
        if s.frame_shift is not None and abs(s.frame_shift - shift) > 1e-9:
            raise ConfigError(f"the feature config has a {shift} s frame shift, the "
                              f"model was trained on {s.frame_shift} s ({self.pipeline.source})")
        if self.aligner is not None:
            if self.aligner.model.config.input_dim != dim:
                raise ConfigError(f"the aligner reads {self.aligner.model.config.input_dim}-dim features, the "
                                  f"feature config gives {dim}: use the aligner trained on these features")
            if abs(self.aligner.frame_shift - shift) > 1e-6:
                raise ConfigError(f"the aligner expects a {self.aligner.frame_shift} s frame shift, the features "
                                  f"have {shift} s")
        if self.cmvn is not None and self.cmvn.dim != dim:
            raise ConfigError(f"the CMVN stats are {self.cmvn.dim}-dim, the features {dim}-dim")


def recording_features(setup: AnswerSetup, rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    """The samples at the feature rate (resampled if needed, noted) and their raw features."""
    rate = setup.frontend.sample_rate
    samples = rec.samples
    if rec.sample_rate != rate:
        samples = resample(samples, rec.sample_rate, rate)
        rec.notes.append(f"resampled {rec.sample_rate} Hz to {rate} Hz")
    return samples, setup.frontend(samples, rec.path)


def answer_recording(setup: AnswerSetup, recs: Recording | Sequence[Recording], question: str, *,
                     opts: DecodeOptions, max_chunk_seconds: float = 30.0,
                     ctm: Mapping[str, Sequence[CtmEntry]] | None = None) -> dict:
    """Answer ``question`` about a passage spoken in ``recs`` (one recording, or its sentences in
    order): a ``predictions.jsonl``-style record plus recording facts.

    Without ``ctm`` the aligner recognises the words (one recording is chunked at quiet frames,
    several are recognised one by one); with ``ctm`` (``{recording stem: entries}``, one
    utterance per recording) the given words and times are used instead (oracle segmentation).

    Raises:
        ConfigError: for an empty question, or a CTM without a recording's words.
        DataError: when the audio is too short for one frame or no word is recognised.
    """
    q = normalize_text(question)
    if not q:
        raise ConfigError(f"the question {question!r} is empty (no word after normalization)")
    recs = [recs] if isinstance(recs, Recording) else list(recs)
    if not recs:
        raise ConfigError("no recording to answer from")
    if ctm is None and setup.aligner is None:
        raise ConfigError("no aligner to recognise the words (give an aligner or a CTM)")
    frontend = setup.frontend
    shift = frontend.frame_shift
    audio = [recording_features(setup, rec) for rec in recs]
    feats = [f for _, f in audio]
    notes = [n for rec in recs for n in rec.notes]
    if ctm is not None:
        mats, durs, entries = {}, {}, {}
        for rec, mat in zip(recs, feats):
            utt = Path(rec.path).stem
            if utt in mats:
                raise ConfigError(f"two recordings are called {utt!r}: the CTM cannot tell them apart")
            if utt not in ctm:
                raise ConfigError(f"the CTM has no words for recording {rec.path} (utterance {utt!r})")
            mats[utt], durs[utt], entries[utt] = mat, rec.duration, list(ctm[utt])
        seg = segmented_passage(mats, durs, entries, setup.cmvn, shift, setup.pipeline)
        source = "ctm"
    elif len(recs) == 1:
        rec = recs[0]
        energy = frame_energy(audio[0][0], frontend.shift_samples, len(feats[0]))
        chunks = chunk_bounds(energy, max(2, int(round(max_chunk_seconds / shift))))
        if len(chunks) > 1:
            notes.append(f"split into {len(chunks)} chunks of at most {max_chunk_seconds:g} s at quiet frames")
        seg = segment_recording(feats[0], rec.duration, setup.aligner, setup.cmvn, shift, chunks, setup.pipeline)
        source = "asr"
    else:
        mats, durs, entries = {}, {}, {}
        for k, (rec, mat) in enumerate(zip(recs, feats)):
            utt = f"utt-{k:04d}"
            mats[utt], durs[utt] = mat, rec.duration
            entries[utt] = recognized_entries(setup.aligner, utt, mat, rec.duration)
        seg = segmented_passage(mats, durs, entries, setup.cmvn, shift, setup.pipeline)
        source = "asr"
    if not seg.words:
        raise DataError("no word was recognised in the recording: nothing to answer from", recs[0].path)
    limit = setup.pipeline.settings.max_question_len
    if limit is not None:
        from speechbert.text.piece_vocab import load_vocab_file

        n_pieces = len(load_vocab_file(setup.pipeline.vocab_path()).text_ids(q))
        if n_pieces > int(limit):
            # The model reads the first max_question_len pieces, as in training; say so.
            note = (f"the question has {n_pieces} WordPieces; the model reads the first {limit} "
                    "(max_question_len of its training)")
            logger.warning("%s", note)
            notes.append(note)
    questions = [{"id": "question", "context_id": CONTEXT_ID, "question": q}]
    records = decode_questions(setup.model, setup.margs, setup.pipeline, seg.corpus, questions, opts, source,
                               setup.device)
    if not records:
        raise DataError("the model gave no answer span for this recording", recs[0].path)
    out = records[0]
    duration = sum(rec.duration for rec in recs)
    return {"audio": recs[0].path if len(recs) == 1 else [rec.path for rec in recs],
            "duration": round(duration, 3), "sample_rate": recs[0].sample_rate,
            "question": question, "normalized_question": q, "start": out["start"], "end": out["end"],
            "words": out["words"], "score": out["score"], "word_span": out["word_span"],
            "word_source": source, "nbest": out["nbest"], "recognized_words": len(seg.words),
            "transcript": " ".join(seg.words), "chunks": len(seg.chunks), "notes": notes}
