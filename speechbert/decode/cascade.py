"""The cascade baseline's view of a data set: passages made of ASR words with ASR word times.

A passage is its utterances in ``contexts`` order; its words are the ASR words of those
utterances (an utterance with no ASR line contributes no word), numbered from 0 across the
passage. A word's passage time is its utterance's offset (the sum of the preceding utterances'
``utt2dur``, doc/design.md) plus its ASR CTM time. Utterances with ASR words but no CTM lines
get their words spread evenly over the utterance.

The reference-text upper bound (the text QA model reading the reference ``text`` timed by the
stage-4 CTM) is read through the model's input pipeline like any validation set
(``InputPipeline.corpus``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

from speechbert.asr.transcript import read_transcript
from speechbert.errors import DataError
from speechbert.io.ctm import CtmEntry
from speechbert.io.kaldi_table import read_table
from speechbert.io.sqa_data import read_contexts, read_utt2dur
from speechbert.tasks.word_segments import Passage, SpokenCorpus, build_segments

logger = logging.getLogger(__name__)


def transcript_passages(contexts: Mapping[str, list[str]], text: Mapping[str, str]) -> dict[str, Passage]:
    """Passages whose words are ``text[utt]`` of their utterances (absent utterance: no words)."""
    out = {}
    for cid, utts in contexts.items():
        words: list[str] = []
        word_utt: list[int] = []
        for k, utt in enumerate(utts):
            ws = text.get(utt, "").split()
            words.extend(ws)
            word_utt.extend([k] * len(ws))
        out[cid] = Passage(cid, list(utts), words, word_utt)
    return out


def timed_corpus(data_dir: str | Path, text: Mapping[str, str],
                 ctm: Mapping[str, list[CtmEntry]]) -> SpokenCorpus:
    """A text-only :class:`SpokenCorpus` of the data dir's passages with the given words and times."""
    data_dir = Path(data_dir)
    contexts = read_contexts(data_dir / "contexts")
    utt2dur = read_utt2dur(data_dir)
    missing = [u for utts in contexts.values() for u in utts if u not in utt2dur]
    if missing:
        raise DataError(f"utterance {missing[0]!r} ({len(missing)} in all) has no duration: passage times "
                        "need every utterance's duration", data_dir / "utt2dur")
    passages = transcript_passages(contexts, text)
    # Utterances without words have nothing to time: an empty entry list says "aligned, no words".
    full_ctm = {u: [] for p in passages.values() for u in p.utts if not text.get(u, "").split()}
    full_ctm.update(ctm)
    segments = build_segments(passages, full_ctm, None, 0.01, utt2dur, unaligned="uniform")
    return SpokenCorpus(passages, segments, None, 0.01)


def asr_corpus(data_dir: str | Path, asr_dir: str | Path) -> SpokenCorpus:
    """Passages of ASR words (``<asr_dir>/text``) timed by ``<asr_dir>/word.ctm``."""
    transcript = read_transcript(asr_dir)
    contexts = read_contexts(Path(data_dir) / "contexts")
    utts = [u for us in contexts.values() for u in us]
    no_line = sum(1 for u in utts if u not in transcript.hyps)
    untimed = sum(1 for u in utts if transcript.hyps.get(u) and u not in transcript.ctm)
    if no_line or untimed:
        logger.info("%s: %d of %d utterances have no ASR words, %d have untimed ASR words (spread evenly)",
                    asr_dir, no_line, len(utts), untimed)
    return timed_corpus(data_dir, transcript.hyps, transcript.ctm)
