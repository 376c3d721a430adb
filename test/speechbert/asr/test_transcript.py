"""Normalized ASR words with times, and the text / word.ctm / wer.txt files."""

from __future__ import annotations

import pytest

from speechbert.asr.transcript import (TimedWord, Transcript, merge_transcripts, normalize_timed_words,
                                       read_transcript, write_transcript)
from speechbert.errors import DataError


def test_normalization_keeps_times_and_splits_evenly():
    out = normalize_timed_words([TimedWord("Hello", 0.0, 0.5), TimedWord("'", 0.5, 0.6),
                                 TimedWord("42", 1.0, 2.0, 0.5)])
    assert [(w.word, w.start, w.end) for w in out] == [("hello", 0.0, 0.5), ("forty", 1.0, 1.5), ("two", 1.5, 2.0)]
    assert out[1].conf == 0.5


def test_files_round_trip_and_wer(tmp_path):
    t = Transcript()
    t.add("a", [TimedWord("the", 0.1, 0.3), TimedWord("cat", 0.3, 0.7)])
    t.add("b", [])                      # nothing recognised: no text line
    t.add("c", None, ["sat", "down"])   # words without times: text line, no CTM lines
    refs = {"a": "the cat", "b": "hello", "c": "sat here", "d": "not decoded"}
    stats = write_transcript(tmp_path, t, refs)
    assert (tmp_path / "text").read_text() == "a the cat\nc sat down\n"
    assert (tmp_path / "word.ctm").read_text() == "a 1 0.100 0.200 the 1.000\na 1 0.300 0.400 cat 1.000\n"
    # errors: b 1 deletion, c 1 substitution, d 2 deletions -> 4 / 7
    assert (stats.errors, stats.ref_words) == (4, 7)
    line = (tmp_path / "wer.txt").read_text()
    assert line.startswith("WER 57.14% (4 errors / 7 words, 4 utterances, 2 without recognised words)")
    back = read_transcript(tmp_path)
    assert back.hyps == {"a": "the cat", "c": "sat down"} and list(back.ctm) == ["a"]
    assert t.num_empty == 1 and t.num_untimed == 1


def test_merge_rejects_an_utterance_in_two_jobs(tmp_path):
    for j in ("1", "2"):
        t = Transcript()
        t.add("x" + j, [TimedWord("w", 0.0, 0.1)])
        write_transcript(tmp_path / j, t)
    merged = merge_transcripts([tmp_path / "1", tmp_path / "2"])
    assert merged.hyps == {"x1": "w", "x2": "w"}
    with pytest.raises(DataError, match="more than one job"):
        merge_transcripts([tmp_path / "1", tmp_path / "1"])
