"""eSpeak NG text-to-speech with oracle word times, through ctypes.

The library and its data come from the ``espeakng-loader`` wheel (no system install). One
sentence is synthesized per call in eSpeak's synchronous mode; a callback collects the 22,050 Hz
samples and the events:

* a **word** event (type 1) gives the sample where a written word starts (its ``text_position``
  says which word);
* **phoneme** events (type 7, enabled at initialisation) give phoneme starts; a phoneme whose name
  starts with ``_`` is a pause.

Word times (``WordTime``, seconds from the start of the returned audio):

* start = the word event's sample; the first word's event is always at sample 0, so its start is
  moved forward over the leading digital silence;
* end = the first pause phoneme after the start or the next word's start, whichever comes first,
  moved back over digital silence (so a following stop closure is not counted);
* several events for one written word (letter-by-letter readings) are merged: the first counts;
* one event covering several written words (eSpeak sometimes fuses short function-word pairs such
  as "of the") is split at phoneme boundaries in proportion to the words' letter counts; those
  words get ``estimated=True``.

The audio is resampled to 16 kHz (``torchaudio.functional.resample``). eSpeak's pauses and stop
closures are exact digital zeros, which no recording has and which make ASR and alignment
unrealistically easy or brittle; seeded white Gaussian noise of standard deviation
``noise_level`` × full scale (3e-3 by default, about 29 dB below typical eSpeak speech) is added.

Reproducibility: a call depends only on its text, voice, seed and the synthesizer's options, not
on the process or on what it synthesized before, so the same arguments give the same bytes (audio
and word times) on the same machine and eSpeak NG build. Two things make it so:

* eSpeak's own noise generator (the breath noise of variants such as ``+f2`` and ``+f3``), which
  ``espeak_Initialize`` seeds from the clock, is reseeded from ``seed`` before every sentence
  (``espeak_ng_SetRandSeed``);
* eSpeak keeps synthesis state in C statics that neither setting the voice and parameters nor
  ``espeak_Terminate`` + ``espeak_Initialize`` resets (pitch-flutter phase, gain control, formant
  and intonation state), so every sentence is spoken by a fresh instance of the library, loaded
  from a private copy and unloaded again (``_Library``). That adds about 4 ms of CPU per sentence,
  mostly eSpeak's scan of its voice files when a voice is set by name, and eSpeak leaks a few KB
  per instance (its voice-list array lives in a static pointer that it never frees).
"""

from __future__ import annotations

import _ctypes
import atexit
import ctypes
import os
import random
import shutil
import tempfile
import threading
import zlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from speechbert.errors import SpeechbertError

__all__ = ["Voice", "WordTime", "SynthResult", "EspeakSynthesizer", "DEFAULT_VOICES", "pick_voice",
           "stable_seed"]

ESPEAK_RATE = 22050
# Voice variants that speak clear American/British English; the whisper and robot variants are
# left out because they are far from any ASR training condition.
DEFAULT_VOICES = ("en-us", "en-us+m1", "en-us+m2", "en-us+m3", "en-us+m4", "en-us+m7",
                  "en-us+f1", "en-us+f2", "en-us+f3", "en-us+f4", "en+m3", "en+f2",
                  "en-gb-x-rp+m2", "en-gb-x-rp+f3")

# espeak_ng constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EV_LIST_TERMINATED, _EV_WORD, _EV_PHONEME = 0, 1, 7
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4
_REQUIRED_SYMBOLS = ("espeak_ng_SetRandSeed", "espeak_Initialize", "espeak_SetSynthCallback",
                     "espeak_SetVoiceByName", "espeak_SetParameter", "espeak_Synth", "espeak_Terminate")
# Samples at or below this absolute int16 value count as silence when trimming word edges.
_SILENCE = 16


class SynthesisError(SpeechbertError):
    """eSpeak NG could not be loaded or could not synthesize a sentence."""


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Voice:
    """An eSpeak voice (``language[+variant]``) with speaking rate (wpm) and pitch (0-100)."""

    name: str = "en-us"
    rate: int = 175
    pitch: int = 50

    def __str__(self) -> str:
        return f"{self.name}@{self.rate}wpm/p{self.pitch}"


@dataclass(frozen=True)
class WordTime:
    """One written word and where it is heard, in seconds from the start of the audio."""

    word: str
    start: float
    end: float
    estimated: bool = False  #: split out of an event shared with a neighbouring word


@dataclass
class SynthResult:
    """Audio of one sentence (float32 in [-1, 1]) and the times of its words."""

    audio: np.ndarray
    sample_rate: int
    words: list[WordTime]
    voice: Voice

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


def stable_seed(*parts: object) -> int:
    """A seed from ``parts`` that is the same in every process (unlike ``hash``)."""
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode("utf-8"))


def pick_voice(rng: random.Random, voices: Sequence[str] = DEFAULT_VOICES,
               rate_range: tuple[int, int] = (150, 200), pitch_range: tuple[int, int] = (35, 65)) -> Voice:
    """Draw one speaker: a voice variant, a rate and a pitch."""
    if not voices:
        raise SynthesisError("no voices to choose from")
    return Voice(rng.choice(list(voices)), rng.randint(*rate_range), rng.randint(*pitch_range))


def _private_copy(source: str) -> str:
    """A path to a copy of the shared library ``source`` that nothing else in the process loads.

    Where the OS has them (Linux), an anonymous in-memory file (``memfd``): it vanishes with the
    process, even a killed one. Elsewhere a file in a temporary directory removed at exit.

    Raises:
        SynthesisError: if ``source`` cannot be read or the copy cannot be written.
    """
    try:
        with open(source, "rb") as f:
            image = f.read()
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("libespeak-ng-speechbert")  # never closed: the path names it
            with os.fdopen(os.dup(fd), "wb") as f:
                f.write(image)
            return f"/proc/self/fd/{fd}"
        tmp = tempfile.mkdtemp(prefix="speechbert-espeak-")
        atexit.register(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, os.path.basename(source))
        with open(path, "wb") as f:
            f.write(image)
        return path
    except OSError as e:
        raise SynthesisError(f"cannot copy eSpeak NG library {source}: {e}") from e


class _Library:
    """eSpeak NG on a fresh instance of the C library for every sentence (see the module docstring).

    Each call loads a private copy of the library (``_private_copy``), initialises it, speaks one
    sentence, terminates it (which frees most of its heap) and unloads it, so the next load starts
    from the file's pristine data: no C static survives from one sentence to the next. The copy is
    private so that nothing else in the process (another user of the wheel's library) can keep it
    loaded, and every unload is checked.
    """

    _instance: "_Library | None" = None
    _create_lock = threading.Lock()

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as e:  # pragma: no cover - a hard dependency
            raise SynthesisError("the espeakng-loader package is not installed") from e
        try:
            self.source = espeakng_loader.get_library_path()
            self.data = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as e:
            raise SynthesisError(f"cannot find eSpeak NG in espeakng-loader: {e}") from e
        self._path = _private_copy(self.source)
        self.lock = threading.Lock()
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[int, int, int, bytes]] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced: C holds the pointer
        with self.lock:  # an unfit library fails here, not in the middle of a corpus
            self._close(self._open())

    @classmethod
    def get(cls) -> "_Library":
        with cls._create_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _open(self) -> ctypes.CDLL:
        """Load a fresh instance of the private library copy."""
        try:
            lib = ctypes.CDLL(self._path, mode=os.RTLD_LOCAL)
        except OSError as e:
            raise SynthesisError(f"cannot load eSpeak NG ({self.source} copied to {self._path}): {e}") from e
        missing = [name for name in _REQUIRED_SYMBOLS if not hasattr(lib, name)]
        if missing:
            self._close(lib)
            if "espeak_ng_SetRandSeed" in missing:
                raise SynthesisError(
                    f"eSpeak NG at {self.source} does not export espeak_ng_SetRandSeed, so voices with "
                    "breath noise (en-us+f2, +f3, ...) cannot be synthesized reproducibly; install an "
                    "espeakng-loader whose libespeak-ng has it (1.52 does)")
            raise SynthesisError(f"{self.source} is not a usable eSpeak NG library: "
                                 f"it lacks {', '.join(missing)}")
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_uint),
                                     ctypes.c_void_p]
        # espeak_ng_STATUS espeak_ng_SetRandSeed(long seed) in eSpeak NG 1.52; it keeps 32 bits.
        lib.espeak_ng_SetRandSeed.restype = ctypes.c_int
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        return lib

    def _close(self, lib: ctypes.CDLL) -> None:
        """Unload ``lib`` and check that it is gone (else its state would reach the next call)."""
        _ctypes.dlclose(lib._handle)
        try:
            handle = _ctypes.dlopen(self._path, os.RTLD_NOW | os.RTLD_NOLOAD)
        except OSError:
            return  # not loaded any more: the next _open starts afresh
        _ctypes.dlclose(handle)
        raise SynthesisError(f"{self._path} stayed loaded after dlclose, so eSpeak NG state would carry "
                             "over from one sentence to the next")

    def _collect(self, wav, num_samples, events) -> int:  # noqa: ANN001 - ctypes signature
        if num_samples > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        i = 0
        while events[i].type != _EV_LIST_TERMINATED:
            ev = events[i]
            if ev.type in (_EV_WORD, _EV_PHONEME):
                name = bytes(ev.id).split(b"\0", 1)[0] if ev.type == _EV_PHONEME else b""
                self.events.append((ev.type, ev.text_position, ev.sample, name))
            i += 1
        return 0

    def speak(self, text: str, voice: Voice,
              seed: int = 0) -> tuple[np.ndarray, list[tuple[int, int, int, bytes]]]:
        """Synthesize ``text``; return int16 samples at 22,050 Hz and the word/phoneme events.

        ``seed`` seeds eSpeak's own noise generator (the breath noise of ``+f2``-like variants),
        which ``espeak_Initialize`` would otherwise seed from the clock.
        """
        with self.lock:
            lib = self._open()
            try:
                rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 500, self.data.encode(),
                                             _INIT_PHONEME_EVENTS | _INIT_DONT_EXIT)
                if rate != ESPEAK_RATE:
                    raise SynthesisError(f"eSpeak NG initialisation failed (returned {rate}, "
                                         f"data {self.data})")
                try:
                    return self._speak(lib, text, voice, seed)
                finally:
                    lib.espeak_Terminate()
            finally:
                self._close(lib)

    def _speak(self, lib: ctypes.CDLL, text: str, voice: Voice,
               seed: int) -> tuple[np.ndarray, list[tuple[int, int, int, bytes]]]:
        lib.espeak_SetSynthCallback(self._callback)
        if lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            raise SynthesisError(f"eSpeak NG has no voice {voice.name!r}")
        for param, value in ((_PARAM_RATE, voice.rate), (_PARAM_PITCH, voice.pitch),
                             (_PARAM_VOLUME, 100), (_PARAM_RANGE, 50)):
            lib.espeak_SetParameter(param, int(value), 0)
        # Last before speaking: nothing in between may draw from eSpeak's generator. eSpeak keeps
        # 32 bits of the seed; reducing it here keeps any Python int in a C long.
        status = lib.espeak_ng_SetRandSeed(seed % 2**32)
        if status != 0:
            raise SynthesisError(f"espeak_ng_SetRandSeed failed (status {status})")
        self.chunks, self.events = [], []
        data = text.encode("utf-8") + b"\0"
        status = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise SynthesisError(f"eSpeak NG failed (status {status}) on {text[:60]!r}")
        audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        events, self.chunks, self.events = self.events, [], []
        return audio, events


class EspeakSynthesizer:
    """Speak normalized sentences with eSpeak NG; return 16 kHz audio and word times.

    Args:
        sample_rate: output sample rate (eSpeak's 22,050 Hz is resampled).
        noise_level: standard deviation of the added Gaussian noise, relative to full scale
            (0 for none).
    """

    def __init__(self, sample_rate: int = 16000, noise_level: float = 3e-3) -> None:
        if sample_rate <= 0 or noise_level < 0:
            raise ValueError("sample_rate must be positive and noise_level non-negative")
        self.sample_rate = sample_rate
        self.noise_level = noise_level
        self._lib = _Library.get()

    def synthesize(self, text: str, voice: Voice = Voice(), seed: int = 0) -> SynthResult:
        """Speak one sentence.

        Args:
            text: words separated by single spaces, already normalized (``normalize_text``);
                each word gets exactly one ``WordTime``.
            voice: the speaker.
            seed: seed of the added noise and of eSpeak's breath noise; the result depends only
                on ``text``, ``voice``, ``seed`` and the synthesizer's options.

        Raises:
            SynthesisError: on an empty text, an unknown voice, or an eSpeak failure.
        """
        words = text.split()
        if not words:
            raise SynthesisError("nothing to say: empty sentence")
        spoken = " ".join(words)
        raw, events = self._lib.speak(spoken, voice, seed)
        if len(raw) == 0:
            raise SynthesisError(f"eSpeak NG produced no audio for {spoken[:60]!r}")
        samples = _word_samples(spoken, words, raw, events)
        times = [WordTime(w, s / ESPEAK_RATE, e / ESPEAK_RATE, est) for w, (s, e, est) in zip(words, samples)]
        audio = raw.astype(np.float32) / 32768.0
        if self.sample_rate != ESPEAK_RATE:
            audio = _resample(audio, ESPEAK_RATE, self.sample_rate)
        if self.noise_level > 0:
            rng = np.random.default_rng(seed)
            audio = audio + self.noise_level * rng.standard_normal(audio.shape, dtype=np.float32)
        np.clip(audio, -1.0, 32767 / 32768, out=audio)
        duration = len(audio) / self.sample_rate
        times = [WordTime(t.word, min(t.start, duration), min(t.end, duration), t.estimated) for t in times]
        return SynthResult(audio, self.sample_rate, times, voice)


_RESAMPLERS: dict[tuple[int, int], object] = {}


def _resample(audio: np.ndarray, orig: int, new: int) -> np.ndarray:
    """Band-limited sinc resampling (torchaudio); the filter kernel is built once per rate pair."""
    import torch
    import torchaudio.transforms as T

    if (orig, new) not in _RESAMPLERS:
        _RESAMPLERS[(orig, new)] = T.Resample(orig, new)
    with torch.no_grad():
        out = _RESAMPLERS[(orig, new)](torch.from_numpy(audio))
    return out.numpy().astype(np.float32, copy=False)


def _word_samples(text: str, words: list[str], raw: np.ndarray,
                  events: list[tuple[int, int, int, bytes]]) -> list[tuple[int, int, bool]]:
    """``(start, end, estimated)`` in 22,050 Hz samples for each word (see the module docstring)."""
    starts_chars, pos = [], 0
    for w in words:
        starts_chars.append(pos)
        pos += len(w) + 1
    total = len(raw)
    # word index → sample of its first event
    first_event: dict[int, int] = {}
    phonemes: list[tuple[int, bytes]] = []
    for etype, text_pos, sample, name in events:
        if etype == _EV_WORD:
            idx = max(0, _bisect_right(starts_chars, text_pos - 1) - 1)
            first_event.setdefault(idx, min(sample, total))
        else:
            phonemes.append((min(sample, total), name))
    if not first_event:
        raise SynthesisError(f"eSpeak NG gave no word events for {text[:60]!r}")
    phonemes.sort()
    pause_samples = [s for s, name in phonemes if name.startswith(b"_")]
    # Group words under the event that covers them: a word without its own event belongs to the
    # nearest preceding word that has one (words before the first event to the first event).
    group_heads = sorted(first_event)
    if group_heads[0] != 0:
        first_event[0] = first_event.pop(group_heads[0])
        group_heads[0] = 0
    nonsilent = np.flatnonzero(np.abs(raw.astype(np.int32)) > _SILENCE)
    if len(nonsilent) == 0:
        raise SynthesisError(f"eSpeak NG produced only silence for {text[:60]!r}")
    result: list[tuple[int, int, bool]] = []
    for g, head in enumerate(group_heads):
        tail = group_heads[g + 1] if g + 1 < len(group_heads) else len(words)
        g_start = first_event[head]
        g_next = first_event[group_heads[g + 1]] if g + 1 < len(group_heads) else total
        g_next = max(g_next, g_start)
        bound = g_next
        later_pauses = [p for p in pause_samples if g_start < p < g_next]
        if later_pauses:
            bound = later_pauses[0]
        members = list(range(head, tail))
        if len(members) == 1:
            bounds = [(g_start, bound)]
        else:
            inner = [s for s, name in phonemes if g_start <= s < bound and not name.startswith(b"_")]
            bounds = _split_group([words[i] for i in members], g_start, bound, inner)
        for k, (s, e) in enumerate(bounds):
            if g == 0 and k == 0:
                s = _first_sound_at_or_after(nonsilent, s, e)
            e = _last_sound_before(nonsilent, s, e)
            result.append((s, max(e, s), len(members) > 1))
    return result


def _split_group(words: list[str], start: int, end: int, phoneme_starts: list[int]) -> list[tuple[int, int]]:
    """Split ``[start, end)`` among ``words`` at phoneme starts, in proportion to letter counts."""
    lengths = [len(w) for w in words]
    total_len = sum(lengths)
    cuts: list[int] = []
    candidates = sorted(set(p for p in phoneme_starts if start < p < end))
    acc = 0
    for n in lengths[:-1]:
        acc += n
        if len(candidates) >= len(words) - 1:
            # boundary index proportional to letters, among the phonemes of the group
            n_ph = len(candidates) + 1
            k = min(max(1, round(n_ph * acc / total_len)), len(candidates))
            cut = candidates[k - 1]
            if cuts and cut <= cuts[-1]:
                later = [c for c in candidates if c > cuts[-1]]
                cut = later[0] if later else cuts[-1]
        else:  # too few phonemes: cut time in proportion instead
            cut = start + int(round((end - start) * acc / total_len))
        cuts.append(cut)
    edges = [start] + cuts + [end]
    return [(edges[i], edges[i + 1]) for i in range(len(words))]


def _bisect_right(a: list[int], x: int) -> int:
    import bisect

    return bisect.bisect_right(a, x)


def _first_sound_at_or_after(nonsilent: np.ndarray, start: int, end: int) -> int:
    i = int(np.searchsorted(nonsilent, start))
    if i < len(nonsilent) and nonsilent[i] < end:
        return int(nonsilent[i])
    return start


def _last_sound_before(nonsilent: np.ndarray, start: int, end: int) -> int:
    """One past the last non-silent sample in ``[start, end)``; ``end`` if there is none."""
    i = int(np.searchsorted(nonsilent, end)) - 1
    if i >= 0 and nonsilent[i] >= start:
        return int(nonsilent[i]) + 1
    return end
