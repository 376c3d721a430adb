"""Read utterance audio the Kaldi way: ``wav.scp`` entries (paths or ``cmd |`` pipes), optional
``segments``, channel selection and resampling to the rate the features want.

Every error names the utterance (and the file) at fault, so one bad recording in ten thousand
can be found from the log line alone.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from speechbert.errors import DataError
from speechbert.io.kaldi_table import iter_table, read_table
from speechbert.io.pipes import run_pipe

logger = logging.getLogger(__name__)

# How far (seconds) a segment may end past its recording before it is an error rather than a
# rounding difference; Kaldi's extract-segments allows the same kind of overshoot.
MAX_SEGMENT_OVERSHOOT = 0.5

# Sample formats read as 16-bit integers and scaled to [-1, 1) here.
_INT16_SUBTYPES = frozenset({"PCM_16", "PCM_S8", "PCM_U8", "ULAW", "ALAW"})


@dataclass(frozen=True)
class Segment:
    """One line of a Kaldi ``segments`` file: ``<utt> <recording> <start> <end>`` (seconds).

    ``end`` is ``None`` for Kaldi's ``-1`` ("to the end of the recording").
    """

    utt: str
    recording: str
    start: float
    end: float | None


def read_segments(path: str | Path) -> list[Segment]:
    """Parse and validate a ``segments`` file.

    Raises:
        DataError: naming the file and line for a malformed entry, a negative start or an end
            not after the start.
    """
    segments = []
    for lineno, utt, value in iter_table(path):
        parts = value.split()
        if len(parts) != 3:
            raise DataError(f"expected '<utt> <recording> <start> <end>', got {len(parts) + 1} fields",
                            path, lineno)
        rec, start_s, end_s = parts
        try:
            start, end = float(start_s), float(end_s)
        except ValueError:
            raise DataError(f"start/end must be numbers, got {start_s!r} {end_s!r}", path, lineno) from None
        if not np.isfinite(start) or start < 0:
            raise DataError(f"bad segment start {start_s!r}", path, lineno)
        if end == -1:
            segments.append(Segment(utt, rec, start, None))
            continue
        if not np.isfinite(end) or end <= start:
            raise DataError(f"segment end {end_s} is not after its start {start_s}", path, lineno)
        segments.append(Segment(utt, rec, start, end))
    return segments


def read_audio(source: str, *, utt: str, channel: int | None = None,
               where: str | Path | None = None) -> tuple[np.ndarray, int]:
    """Read one ``wav.scp`` value as mono float32 samples in ``[-1, 1]`` and its sample rate.

    Args:
        source: a file path, or a shell command ending in ``|`` whose stdout is a sound file.
        utt: the utterance (or recording) id, used in error messages.
        channel: 0-based channel to keep from multi-channel audio; ``None`` makes
            multi-channel audio an error.
        where: the file the entry came from (``wav.scp``), used in error messages.

    Raises:
        DataError: for a missing file, a failing command, undecodable, empty or multi-channel
            audio (without ``channel``), or a ``channel`` the audio does not have.
    """
    source = source.strip()
    if source.endswith("|"):
        data = _run_pipe(source[:-1].strip(), utt=utt, where=where)
        name = f"output of '{source}'"
        fobj: io.BytesIO | str = io.BytesIO(data)
    else:
        if not os.path.isfile(source):
            raise DataError(f"no such audio file: {source}", where, key=utt)
        name = source
        fobj = source
    if isinstance(fobj, str):
        truncated = wav_truncation(fobj)
        if truncated:
            raise DataError(f"truncated audio ({name}): {truncated}", where, key=utt)
    try:
        with soundfile.SoundFile(fobj) as snd:
            rate = snd.samplerate
            # libsndfile's own int16 -> float conversion is several times slower than reading
            # the integers and scaling them with NumPy (it was ~15% of the feature stage).
            int16 = snd.subtype in _INT16_SUBTYPES
            samples = snd.read(dtype="int16" if int16 else "float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        # libsndfile's message names the file object ("<_io.BytesIO object at 0x...>" for a pipe);
        # keep only its reason, the name is ours.
        why = e.error_string if isinstance(e, soundfile.LibsndfileError) else str(e)
        raise DataError(f"cannot decode audio ({name}): {why}", where, key=utt) from None
    if samples.shape[0] == 0:
        raise DataError(f"empty audio, 0 samples ({name})", where, key=utt)
    num_channels = samples.shape[1]
    if channel is None:
        if num_channels != 1:
            raise DataError(f"audio has {num_channels} channels; features need mono "
                            f"(pick one with --channel) ({name})", where, key=utt)
        channel = 0
    elif not 0 <= channel < num_channels:
        raise DataError(f"--channel {channel} requested but the audio has {num_channels} channel(s) "
                        f"({name})", where, key=utt)
    mono = samples[:, channel]
    if int16:
        out = mono.astype(np.float32)
        out *= 1.0 / 32768.0
        return out, int(rate)
    return np.ascontiguousarray(mono), int(rate)


def wav_truncation(path: str | Path) -> str | None:
    """Why a RIFF/WAVE file holds less audio than its header declares, or ``None``.

    libsndfile quietly reads what is there and adjusts its frame count, so a file cut short
    (an interrupted copy or download) would pass as a shorter recording. Other formats, and
    streamed WAVs with a placeholder size (0 or 0xFFFFFFFF), are not checked.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        chunk, length = head[pos:pos + 4], int.from_bytes(head[pos + 4:pos + 8], "little")
        if chunk == b"data":
            if length in (0, 0xFFFFFFFF):
                return None
            have = size - (pos + 8)
            if have < length:
                return f"its header declares {length} bytes of audio data, the file holds {have}"
            return None
        pos += 8 + length + (length & 1)
    return None


def _run_pipe(command: str, *, utt: str, where: str | Path | None) -> bytes:
    """Run a wav.scp pipe command with bash and return its stdout."""
    return run_pipe(command, where=where, key=utt)


def resample(samples: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    """Band-limited (windowed sinc) resampling of mono float32 samples."""
    if orig_rate == new_rate:
        return samples
    import torch
    import torchaudio.functional

    out = torchaudio.functional.resample(torch.from_numpy(samples), orig_rate, new_rate)
    return out.numpy()


class WavSource:
    """Utterance audio from a data dir's ``wav.scp`` (and ``segments`` if given).

    ``keys()`` lists the utterances (segment ids when ``segments`` is given, else the wav.scp
    keys) in file order; ``load(utt)`` returns mono float32 samples at ``sample_rate`` (or the
    file's own rate when ``sample_rate`` is ``None``). Audio that needs resampling is resampled
    and counted in ``num_resampled``; the first occurrence of each source rate is logged.

    With segments, the most recent recording is kept in memory, so segments sorted by
    recording (the usual case) decode each recording once.
    """

    def __init__(self, wav_scp: str | Path, segments: str | Path | None = None, *,
                 channel: int | None = None, sample_rate: int | None = None) -> None:
        self.wav_scp = str(wav_scp)
        self.channel = channel
        self.sample_rate = sample_rate
        self.num_resampled = 0
        self._entries = read_table(wav_scp)
        self._segments: dict[str, Segment] | None = None
        self.segments_path = None if segments is None else str(segments)
        if segments is not None:
            segs = read_segments(segments)
            for seg in segs:
                if seg.recording not in self._entries:
                    raise DataError(f"segment {seg.utt} refers to recording {seg.recording!r}, "
                                    f"which is not in {wav_scp}", segments, key=seg.utt)
            self._segments = {s.utt: s for s in segs}
        self._cache_key: str | None = None
        self._cache: tuple[np.ndarray, int] | None = None
        self._logged_rates: set[int] = set()

    def keys(self) -> list[str]:
        """Utterance ids in file order."""
        return list(self._segments if self._segments is not None else self._entries)

    def __len__(self) -> int:
        return len(self._segments if self._segments is not None else self._entries)

    def load(self, utt: str) -> tuple[np.ndarray, int]:
        """Return ``(samples, sample_rate)`` of utterance ``utt``.

        Raises:
            DataError: naming the utterance, for unreadable audio or a segment that lies
                outside its recording.
        """
        if self._segments is None:
            if utt not in self._entries:
                raise DataError("no such utterance", self.wav_scp, key=utt)
            return self._read_recording(utt, utt)
        seg = self._segments.get(utt)
        if seg is None:
            raise DataError("no such segment", self.segments_path, key=utt)
        samples, rate = self._read_recording(seg.recording, utt)
        return self._cut(samples, rate, seg), rate

    def _read_recording(self, rec: str, utt: str) -> tuple[np.ndarray, int]:
        if self._cache_key == rec and self._cache is not None:
            return self._cache
        samples, rate = read_audio(self._entries[rec], utt=utt, channel=self.channel, where=self.wav_scp)
        if self.sample_rate is not None and rate != self.sample_rate:
            if rate not in self._logged_rates:
                self._logged_rates.add(rate)
                logger.info("%s: resampling %d Hz audio to %d Hz (further %d Hz files are resampled "
                            "without a message)", utt, rate, self.sample_rate, rate)
            logger.debug("%s: resampling %d Hz -> %d Hz", utt, rate, self.sample_rate)
            samples = resample(samples, rate, self.sample_rate)
            rate = self.sample_rate
            self.num_resampled += 1
        if self._segments is not None:
            self._cache_key, self._cache = rec, (samples, rate)
        return samples, rate

    def _cut(self, samples: np.ndarray, rate: int, seg: Segment) -> np.ndarray:
        duration = len(samples) / rate
        end = duration if seg.end is None else seg.end
        if end > duration + MAX_SEGMENT_OVERSHOOT or seg.start >= duration:
            raise DataError(f"segment [{seg.start}, {seg.end}] s lies outside recording "
                            f"{seg.recording!r} ({duration:.3f} s)", self.segments_path, key=seg.utt)
        first = int(round(seg.start * rate))
        last = min(int(round(end * rate)), len(samples))
        return samples[first:last]
