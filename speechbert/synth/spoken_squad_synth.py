"""Synthesize a SQuAD-format file into the Spoken SQuAD release layout.

Output under ``out_dir`` (``doc/corpora.md``):

* ``wav/<split>/<TopicIndex>_<ParagraphIndex>_<SentenceIndex>.wav``: 16 kHz mono 16-bit, one
  sentence each, spoken in normalized form; sentences are split as the release split them (a
  plain ``". "`` split, ``speechbert.text.sentences.RELEASE_SPLIT_METHOD``, unless
  ``split_method`` says otherwise);
* ``spoken_<split>-v1.1.json``: SQuAD format; each ``context`` is the spoken transcript in the
  release's convention, one ``.``-terminated piece per wav (``"sentence one. sentence two."``),
  here the normalized reference sentences (a real release has an ASR transcript there), answers
  relocated into it; questions whose answers cannot be relocated are dropped, as in the release.
  A top-level ``"speechbert"`` object records how it was made (``context_source:
  normalized_reference``, ``split_method``);
* ``dropped_<split>.tsv``: every question left out of the spoken JSON, with the reason
  (``id``, ``paragraph`` ``<T>_<P>``, ``reason``, ``answers`` as a JSON list); the importer
  counts them as lost questions in ``prep.log``;
* ``reference_<split>-v1.1.json``: a copy of the input (the reference text);
* ``word_times/<split>.txt``: ``<T>_<P>_<S> <word_index> <start_s> <end_s> <word>``, the
  synthesizer's word times in seconds from the start of the sentence's wav.

Paragraphs can be spread over jobs (``nj``/``job``, paragraph ``n`` goes to job ``n % nj + 1``);
each job writes ``word_times/<split>.<job>.part`` and ``merge_jobs`` assembles the final files.
The speaker (voice variant, rate, pitch) of a paragraph is drawn from ``(seed, split, paragraph
key)`` and every sentence is synthesized with the seed ``(seed, split, sentence key)`` by a fresh
eSpeak instance (``speechbert.synth.tts``), so a sentence's wav and word times depend on the
options and the sentence alone: the output is byte-identical for any ``nj`` and any run on the
same machine.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open, atomic_path
from speechbert.io.squad_json import QA, Answer, Article, Paragraph, iter_paragraphs, load_squad, write_squad
from speechbert.progress import Progress
from speechbert.synth.tts import DEFAULT_VOICES, EspeakSynthesizer, pick_voice, stable_seed
from speechbert.text.normalize import normalize_text, relocate_span
from speechbert.text.sentences import RELEASE_SPLIT_METHOD, join_dot_pieces, split_sentences

__all__ = ["SynthOptions", "SpokenParagraph", "spoken_paragraph", "synthesize_job", "merge_jobs",
           "spoken_json_name", "reference_json_name", "dropped_tsv_name", "DROPPED_HEADER",
           "CONTEXT_SOURCE_REFERENCE"]

CONTEXT_SOURCE_REFERENCE = "normalized_reference"
#: The header line of ``dropped_<split>.tsv``.
DROPPED_HEADER = ("id", "paragraph", "reason", "answers")


def spoken_json_name(split: str) -> str:
    return f"spoken_{split}-v1.1.json"


def reference_json_name(split: str) -> str:
    return f"reference_{split}-v1.1.json"


def dropped_tsv_name(split: str) -> str:
    """The file listing the questions the synthesizer left out of ``spoken_<split>-v1.1.json``."""
    return f"dropped_{split}.tsv"


@dataclass
class SynthOptions:
    """How a corpus is spoken."""

    voices: Sequence[str] = DEFAULT_VOICES
    rate_range: tuple[int, int] = (150, 200)
    pitch_range: tuple[int, int] = (35, 65)
    noise_level: float = 3e-3
    seed: int = 1
    sample_rate: int = 16000
    split_method: str = RELEASE_SPLIT_METHOD


@dataclass
class SpokenParagraph:
    """A paragraph as it is spoken: normalized sentences and relocated questions."""

    sentences: list[str]                 #: normalized sentences (each non-empty)
    passage: str                         #: the sentences joined by single spaces
    qas: list[QA] = field(default_factory=list)  #: questions with answers relocated into passage
    answers_lost: int = 0                #: answers that could not be relocated
    questions_lost: int = 0              #: questions left without any answer
    dropped: list[tuple[str, str, list[str]]] = field(default_factory=list)  #: (id, reason, answers)

    @property
    def context(self) -> str:
        """The spoken JSON context: one ``.``-terminated piece per sentence (wav), as the release."""
        return join_dot_pieces(self.sentences)

    def context_offset(self, offset: int, end: bool = False) -> int:
        """Map an offset in ``passage`` to ``context`` (each earlier sentence adds its ``.``).

        With ``end`` the offset is an exclusive end: one at a sentence's end stays before its dot.
        """
        shift, start = 0, 0
        for k, sentence in enumerate(self.sentences):
            stop = start + len(sentence)
            if offset < stop or (end and offset == stop):
                return offset + shift
            shift, start = k + 1, stop + 1
        return offset + shift


def spoken_paragraph(par: Paragraph, split_method: str = RELEASE_SPLIT_METHOD) -> SpokenParagraph:
    """Split, normalize and relocate the answers of one paragraph.

    A question none of whose answers can be relocated (``relocate_span``) is dropped and listed in
    ``dropped`` with the reason ``question_without_answer``.
    """
    sentences = [normalize_text(s) for s in split_sentences(par.context, split_method)]
    passage = " ".join(sentences)
    out = SpokenParagraph(sentences, passage)
    for qa in par.qas:
        answers = []
        for a in qa.answers:
            span = relocate_span(par.context, a.answer_start, a.text, passage)
            if span is None:
                out.answers_lost += 1
                continue
            if all(b.answer_start != span.char_start or b.text != span.text for b in answers):
                answers.append(Answer(span.text, span.char_start))
        if answers:
            out.qas.append(QA(qa.id, qa.question, answers))
        else:
            out.questions_lost += 1
            out.dropped.append((qa.id, "question_without_answer", [a.text for a in qa.answers]))
    return out


def _context_qas(spoken: SpokenParagraph) -> list[QA]:
    """The questions with their answers moved from ``passage`` into ``context``."""
    qas = []
    for qa in spoken.qas:
        answers = []
        for a in qa.answers:
            start = spoken.context_offset(a.answer_start)
            stop = spoken.context_offset(a.answer_start + len(a.text), end=True)
            answers.append(Answer(spoken.context[start:stop], start))
        qas.append(QA(qa.id, qa.question, answers))
    return qas


def _part_path(out_dir: Path, split: str, job: int) -> Path:
    return out_dir / "word_times" / f"{split}.{job}.part"


def synthesize_job(squad_json: str | Path, out_dir: str | Path, split: str, opts: SynthOptions,
                   nj: int = 1, job: int = 1) -> dict[str, float]:
    """Synthesize the paragraphs of job ``job`` of ``nj``; write its wavs and word-time part.

    Returns:
        Statistics: paragraphs, sentences, words, audio seconds, wall seconds.

    Raises:
        DataError: for a bad input file; SynthesisError for an eSpeak failure.
    """
    if not 1 <= job <= nj:
        raise ValueError(f"job {job} is not in 1..{nj}")
    out_dir = Path(out_dir)
    articles = load_squad(squad_json, require_answers=False)
    synth = EspeakSynthesizer(sample_rate=opts.sample_rate, noise_level=opts.noise_level)
    wav_dir = out_dir / "wav" / split
    wav_dir.mkdir(parents=True, exist_ok=True)
    stats = {"paragraphs": 0, "sentences": 0, "words": 0, "audio_s": 0.0, "estimated_words": 0}
    lines: list[str] = []
    t0 = time.perf_counter()
    import soundfile as sf

    paragraphs = list(iter_paragraphs(articles))
    progress = Progress(len(range(job - 1, len(paragraphs), nj)), f"synthesizing {split} paragraphs (job {job}/{nj})")
    for n, par in enumerate(paragraphs):
        if n % nj != job - 1:
            continue
        spoken = spoken_paragraph(par, opts.split_method)
        voice = pick_voice(random.Random(stable_seed(opts.seed, split, par.key)), opts.voices,
                           opts.rate_range, opts.pitch_range)
        for s, sentence in enumerate(spoken.sentences):
            key = f"{par.key}_{s}"
            res = synth.synthesize(sentence, voice, seed=stable_seed(opts.seed, split, key))
            with atomic_path(wav_dir / f"{key}.wav") as tmp:
                sf.write(str(tmp), res.audio, res.sample_rate, subtype="PCM_16", format="WAV")
            for i, w in enumerate(res.words):
                lines.append(f"{key} {i} {w.start:.3f} {w.end:.3f} {w.word}\n")
            stats["sentences"] += 1
            stats["words"] += len(res.words)
            stats["estimated_words"] += sum(w.estimated for w in res.words)
            stats["audio_s"] += res.duration
        stats["paragraphs"] += 1
        progress.update()
    progress.close()
    with atomic_open(_part_path(out_dir, split, job)) as f:
        f.writelines(lines)
    stats["wall_s"] = time.perf_counter() - t0
    logging.info("job %d/%d: %d paragraphs, %d sentences, %.1f s of audio in %.1f s (%.0fx real time); "
                 "%d words timed by splitting a shared eSpeak event", job, nj, stats["paragraphs"],
                 stats["sentences"], stats["audio_s"], stats["wall_s"],
                 stats["audio_s"] / max(stats["wall_s"], 1e-9), stats["estimated_words"])
    return stats


def _sort_key(line: str) -> tuple[int, ...]:
    key, idx = line.split(" ", 2)[:2]
    return tuple(int(x) for x in key.split("_")) + (int(idx),)


def merge_jobs(squad_json: str | Path, out_dir: str | Path, split: str, opts: SynthOptions,
               nj: int = 1) -> dict[str, int]:
    """Check and join the job parts; write the spoken JSON, the reference copy and word times.

    Raises:
        DataError: if a job part is missing, or the parts do not hold exactly the expected
            sentences and words (e.g. a job failed or was run with another ``nj``).
    """
    out_dir = Path(out_dir)
    squad_json = Path(squad_json)
    articles = load_squad(squad_json, require_answers=False)
    expected: dict[str, str] = {}
    spoken_articles = []
    dropped: list[str] = ["\t".join(DROPPED_HEADER) + "\n"]
    counts = {"paragraphs": 0, "questions": 0, "questions_kept": 0, "answers_lost": 0}
    for art in articles:
        paragraphs = []
        for par in art.paragraphs:
            spoken = spoken_paragraph(par, opts.split_method)
            for s, sentence in enumerate(spoken.sentences):
                expected[f"{par.key}_{s}"] = sentence
            paragraphs.append(Paragraph(par.topic_index, par.paragraph_index, spoken.context,
                                        _context_qas(spoken)))
            for qid, reason, texts in spoken.dropped:
                dropped.append(f"{qid}\t{par.key}\t{reason}\t{json.dumps(texts, ensure_ascii=False)}\n")
            counts["paragraphs"] += 1
            counts["questions"] += len(par.qas)
            counts["questions_kept"] += len(spoken.qas)
            counts["answers_lost"] += spoken.answers_lost
        spoken_articles.append(Article(art.title, paragraphs))
    parts = [_part_path(out_dir, split, j) for j in range(1, nj + 1)]
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise DataError(f"missing synthesis job output(s): {', '.join(missing)} (did every job finish?)")
    words: dict[str, list[str]] = {}
    lines: list[str] = []
    for part in parts:
        with open(part, encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                fields = line.split()
                if len(fields) != 5:
                    raise DataError("expected '<key> <word_index> <start> <end> <word>'", part, lineno)
                words.setdefault(fields[0], []).append(fields[4])
                lines.append(line)
    wav_dir = out_dir / "wav" / split
    for key, sentence in expected.items():
        if not (wav_dir / f"{key}.wav").is_file():
            raise DataError(f"sentence {key}: no wav file (did every job finish?)", wav_dir / f"{key}.wav")
        if words.get(key) != sentence.split():
            raise DataError(f"sentence {key}: word times do not match the text {sentence[:60]!r} "
                            "(re-run the synthesis jobs with the same options)", parts[0].parent)
    extra = sorted(set(words) - set(expected))
    if extra:
        raise DataError(f"word times for unknown sentences, e.g. {extra[0]}", parts[0].parent)
    lines.sort(key=_sort_key)
    with atomic_open(out_dir / "word_times" / f"{split}.txt") as f:
        f.writelines(lines)
    meta = {"context_source": CONTEXT_SOURCE_REFERENCE, "split_method": opts.split_method,
            "sample_rate": opts.sample_rate, "noise_level": opts.noise_level, "seed": opts.seed,
            "voices": list(opts.voices), "rate_range": list(opts.rate_range),
            "pitch_range": list(opts.pitch_range), "tts": "espeak-ng"}
    write_squad(out_dir / spoken_json_name(split), spoken_articles, speechbert=meta)
    with atomic_path(out_dir / reference_json_name(split)) as tmp:
        shutil.copyfile(squad_json, tmp)
    with atomic_open(out_dir / dropped_tsv_name(split)) as f:
        f.writelines(dropped)
    for part in parts:
        part.unlink()
    logging.info("%s: %d paragraphs, %d sentences; %d of %d questions kept (%d answers not relocatable; "
                 "dropped questions in %s)", split, counts["paragraphs"], len(expected), counts["questions_kept"],
                 counts["questions"], counts["answers_lost"], out_dir / dropped_tsv_name(split))
    counts["sentences"] = len(expected)
    return counts
