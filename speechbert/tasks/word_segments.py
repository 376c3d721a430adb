"""Spoken passages as audio word segments.

A passage's words come from ``data/<set>/contexts`` + ``text`` (the reference passage words,
numbered from 0), their times from ``exp/align/<set>/word.ctm`` (the k-th CTM word of an
utterance is the k-th word of its text), and their frames are sliced at load time from
``dump/<set>/feats.scp`` (raw features, the train-set global CMVN applied on load). No per-word
archive is ever written.

A word spanning ``[start, end)`` seconds of its utterance covers frames
``[round(start / shift), round(end / shift))`` (at least one frame, clipped to the utterance).

Utterances absent from the CTM (not aligned) are handled by the ``unaligned`` policy:
``drop`` marks their words as unaligned (training skips them, or the whole passage where word
positions matter); ``uniform`` splits the utterance's frames evenly over its words so every
passage keeps every word (used when a prediction is needed for every question).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from speechbert.errors import ConfigError, DataError
from speechbert.io.ctm import CtmEntry, read_ctm, validate_ctm
from speechbert.io.dump_dir import read_frame_shift
from speechbert.io.feats import FeatsReader
from speechbert.io.kaldi_table import read_table
from speechbert.io.sqa_data import read_contexts, read_utt2dur

UNALIGNED_POLICIES = ("drop", "uniform")


@dataclass
class Passage:
    """One passage: its sentences (utterances) and its words, numbered across the passage."""

    context_id: str
    utts: list[str]
    words: list[str]
    word_utt: list[int]  # index into ``utts`` of each word's utterance

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass
class PassageSegments:
    """Where each word of a passage lies in the features (and in passage time)."""

    passage: Passage
    frames: np.ndarray  # (n_words, 2) int64: utterance-relative frame range [begin, end)
    times: np.ndarray  # (n_words, 2) float64: passage-time [start, end) seconds
    aligned: np.ndarray  # (n_words,) bool: times come from the CTM (not a uniform guess)

    @property
    def context_id(self) -> str:
        return self.passage.context_id

    @property
    def num_words(self) -> int:
        return len(self.passage.words)

    @property
    def complete(self) -> bool:
        """Every word has a segment (aligned, or guessed under the ``uniform`` policy)."""
        return bool(np.all(self.frames[:, 1] > self.frames[:, 0])) if self.num_words else False


def read_passages(data_dir: str | Path, text_name: str = "text") -> dict[str, Passage]:
    """Read the passages of a data directory from ``contexts`` and ``text`` (or ``text.asr``).

    Raises:
        DataError: for a context naming an utterance that has no text.
    """
    data_dir = Path(data_dir)
    contexts = read_contexts(data_dir / "contexts")
    text = read_table(data_dir / text_name, allow_empty_value=True)
    out: dict[str, Passage] = {}
    for cid, utts in contexts.items():
        words: list[str] = []
        word_utt: list[int] = []
        for k, utt in enumerate(utts):
            if utt not in text:
                raise DataError(f"context {cid!r} names utterance {utt!r}, which is not in "
                                f"{data_dir / text_name}", data_dir / "contexts", key=cid)
            ws = text[utt].split()
            words.extend(ws)
            word_utt.extend([k] * len(ws))
        out[cid] = Passage(cid, utts, words, word_utt)
    return out


def time_to_frame(t: float, shift: float) -> int:
    """The frame index of time ``t`` (``round(t / shift)``, as doc/design.md fixes)."""
    return int(round(t / shift))


def word_frame_range(start: float, end: float, shift: float, num_frames: int) -> tuple[int, int]:
    """Frames ``[begin, end)`` of a word spanning ``[start, end)`` s: at least one, inside the utterance."""
    b = min(max(time_to_frame(start, shift), 0), max(num_frames - 1, 0))
    e = min(max(time_to_frame(end, shift), b + 1), num_frames)
    return b, e


def _uniform_ranges(num_words: int, num_frames: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, num_frames, num_words + 1)
    out = []
    for k in range(num_words):
        b = min(int(round(edges[k])), max(num_frames - 1, 0))
        e = max(int(round(edges[k + 1])), b + 1)
        out.append((b, min(e, max(num_frames, 1))))
    return out


def build_segments(passages: Mapping[str, Passage], ctm: Mapping[str, list[CtmEntry]],
                   utt2num_frames: Mapping[str, int] | None, frame_shift: float,
                   utt2dur: Mapping[str, float] | None = None,
                   unaligned: str = "drop") -> dict[str, PassageSegments]:
    """Locate every passage word in the features and in passage time.

    ``ctm`` must already be validated against the passages' text (silences removed): the k-th
    entry of an utterance is its k-th word. Utterance offsets in passage time come from
    ``utt2dur`` when given, else from the frame counts. Without ``utt2num_frames`` (text-only
    use) frame ranges are computed from times but not clipped to the utterance.
    """
    if unaligned not in UNALIGNED_POLICIES:
        raise ConfigError(f"unaligned policy must be one of {UNALIGNED_POLICIES}, got {unaligned!r}")
    out: dict[str, PassageSegments] = {}
    n_missing_utts = 0
    for cid, p in passages.items():
        n = len(p.words)
        frames = np.zeros((n, 2), dtype=np.int64)
        times = np.zeros((n, 2), dtype=np.float64)
        aligned = np.zeros(n, dtype=bool)
        offset = 0.0
        w = 0
        counts = np.bincount(np.asarray(p.word_utt, dtype=np.int64), minlength=len(p.utts))
        for k, utt in enumerate(p.utts):
            n_utt = int(counts[k])
            if utt2num_frames is not None and utt not in utt2num_frames:
                raise DataError(f"utterance {utt!r} of context {cid!r} has no features", key=utt)
            if utt2dur is not None and utt in utt2dur:
                dur = float(utt2dur[utt])
            elif utt2num_frames is not None:
                dur = int(utt2num_frames[utt]) * frame_shift
            else:
                dur = None
            nf = int(utt2num_frames[utt]) if utt2num_frames is not None else (
                time_to_frame(dur, frame_shift) if dur is not None else 2**62)
            entries = ctm.get(utt)
            if entries is not None and len(entries) == n_utt:
                for j, e in enumerate(entries):
                    frames[w + j] = word_frame_range(e.start, e.end, frame_shift, nf)
                    times[w + j] = (offset + e.start, offset + e.end)
                    aligned[w + j] = True
            else:
                if entries is not None:
                    raise DataError(f"CTM has {len(entries)} words for utterance {utt!r}, its text has {n_utt}",
                                    key=utt)
                n_missing_utts += 1
                if unaligned == "uniform" and (utt2num_frames is not None or dur is not None):
                    for j, (b, e) in enumerate(_uniform_ranges(n_utt, nf)):
                        frames[w + j] = (b, e)
                        times[w + j] = (offset + b * frame_shift, offset + e * frame_shift)
            if dur is None:
                dur = float(times[w + n_utt - 1, 1] - offset) if n_utt and aligned[w + n_utt - 1] else 0.0
            offset += float(dur)
            w += n_utt
        out[cid] = PassageSegments(p, frames, times, aligned)
    if n_missing_utts and ctm:
        logging.warning("%d utterance(s) have no word alignment (policy: %s)", n_missing_utts, unaligned)
    return out


def pool_frames(mat: np.ndarray, k: int) -> np.ndarray:
    """Average every ``k`` consecutive frames (the last group may be shorter); ``k <= 1``: as is."""
    if k <= 1 or len(mat) <= 1:
        return mat
    n = len(mat)
    full = n // k
    parts = []
    if full:
        parts.append(mat[: full * k].reshape(full, k, -1).mean(1))
    if n % k:
        parts.append(mat[full * k:].mean(0, keepdims=True))
    return np.concatenate(parts).astype(mat.dtype, copy=False)


def subsample_frames(mat: np.ndarray, max_frames: int) -> np.ndarray:
    """Keep at most ``max_frames`` evenly spaced frames of a segment (0: keep all)."""
    if max_frames <= 0 or len(mat) <= max_frames:
        return mat
    idx = np.round(np.linspace(0, len(mat) - 1, max_frames)).astype(np.int64)
    return mat[idx]


@dataclass
class SpokenCorpus:
    """Everything needed to cut one data set's passages into audio word segments.

    ``feats`` is ``None`` for a text-only corpus (text QA): words and, with a CTM, times.
    """

    passages: dict[str, Passage]
    segments: dict[str, PassageSegments]
    feats: FeatsReader | None
    frame_shift: float
    max_word_frames: int = 0
    frame_pooling: int = 1

    @classmethod
    def load(cls, data_dir: str | Path, dump_dir: str | Path | None, ctm_path: str | Path | None,
             cmvn: str | Path | None, unaligned: str = "drop", max_word_frames: int = 0,
             text_name: str = "text", frame_pooling: int = 1) -> "SpokenCorpus":
        """Read a data dir, its dump dir (``None``: text only) and word CTM (``None``: no times).

        ``text_name`` picks the passage words: ``text`` (reference) or ``text.asr`` (with the ASR
        CTM, for the cascade).
        """
        data_dir = Path(data_dir)
        passages = read_passages(data_dir, text_name)
        text = {u: w for p in passages.values() for u, w in _utt_texts(p).items()}
        ctm: dict[str, list[CtmEntry]] = {}
        if ctm_path is not None:
            ctm = validate_ctm(read_ctm(ctm_path), text, ctm_path)
        feats = None
        shift = 0.01
        utt2num_frames = None
        if dump_dir is not None:
            dump_dir = Path(dump_dir)
            feats = FeatsReader(dump_dir / "feats.scp", cmvn)
            shift = read_frame_shift(dump_dir)
            utt2num_frames = _read_num_frames(dump_dir, feats)
        utt2dur = read_utt2dur(data_dir, required=False)
        segments = build_segments(passages, ctm, utt2num_frames, shift, utt2dur, unaligned)
        return cls(passages, segments, feats, shift, max_word_frames, frame_pooling)

    def word_feats(self, context_id: str, word_indexes: Iterable[int] | None = None) -> list[np.ndarray]:
        """The (CMVN-normalised) frames of the given passage words (all if ``None``), in order.

        Every ``frame_pooling`` frames are averaged into one, then a word longer than
        ``max_word_frames`` keeps that many evenly spaced (pooled) frames.
        """
        if self.feats is None:
            raise ConfigError("this corpus was loaded without features (text only)")
        seg = self.segments[context_id]
        p = seg.passage
        idx = range(seg.num_words) if word_indexes is None else word_indexes
        out = []
        for w in idx:
            b, e = (int(x) for x in seg.frames[w])
            if e <= b:
                raise DataError(f"word {w} ({p.words[w]!r}) of context {context_id!r} has no segment "
                                "(its utterance is not aligned)", key=context_id)
            utt = p.utts[p.word_utt[w]]
            frames = self.feats.load(utt, b, e)
            if not np.isfinite(frames).all():
                # NaN/Inf would reach the model and turn every score of the passage into NaN.
                raise DataError(f"features contain NaN/Inf in frames [{b}, {e}) (word {w}, {p.words[w]!r}, "
                                f"of context {context_id!r})", self.feats.feats_scp, key=utt)
            mat = pool_frames(frames, self.frame_pooling)
            out.append(subsample_frames(mat, self.max_word_frames))
        return out

    @property
    def feat_dim(self) -> int:
        if self.feats is None:
            raise ConfigError("this corpus was loaded without features (text only)")
        return int(self.feats.dim())


def _utt_texts(p: Passage) -> dict[str, str]:
    out: dict[str, list[str]] = {u: [] for u in p.utts}
    for w, k in zip(p.words, p.word_utt):
        out[p.utts[k]].append(w)
    return {u: " ".join(ws) for u, ws in out.items()}


def _read_num_frames(dump_dir: Path, feats: FeatsReader) -> dict[str, int]:
    path = dump_dir / "utt2num_frames"
    if path.is_file():
        out = {}
        for k, v in read_table(path).items():
            try:
                out[k] = int(v)
            except ValueError:
                raise DataError(f"frame count {v!r} of {k!r} is not an integer", path, key=k) from None
        return out
    logging.warning("%s is missing: reading every matrix to count frames", path)
    return {u: feats.num_frames(u) for u in feats.keys()}
