"""Forced alignment on hand-made log-probabilities, and the word-boundary rules."""

from __future__ import annotations

import pytest
import torch

from speechbert.align.forced import (AlignmentSkip, BoundaryRule, RawWord, align_words, apply_rule,
                                     estimate_boundary_rule)
from speechbert.align.vocab import CharVocab
from speechbert.errors import ConfigError

VOCAB = CharVocab()


def _log_probs(n_frames: int, segments: list[tuple[int, int, str]]) -> torch.Tensor:
    """Blank everywhere except ``segments`` of ``(first_frame, end_frame, token)``."""
    lp = torch.full((n_frames, len(VOCAB)), -12.0)
    lp[:, VOCAB.blank] = -0.001
    for s, e, tok in segments:
        lp[s:e] = -12.0
        lp[s:e, VOCAB.index[tok]] = -0.001
    return lp


# "| h i | y o u |" with leading silence (frames 0-9) and trailing silence (frames 41-49)
SEGMENTS = [(8, 10, "|"), (12, 13, "h"), (15, 16, "i"), (18, 21, "|"), (22, 23, "y"),
            (26, 27, "o"), (30, 31, "u"), (40, 41, "|")]


def test_boundaries_follow_the_path_with_the_chosen_rule():
    lp = _log_probs(50, SEGMENTS)
    times, targets = align_words(lp, ["hi", "you"], VOCAB, 0.01, BoundaryRule())
    assert targets.word_token_ranges == [(1, 2), (4, 6)]
    # start = end of the preceding "|", end = end of the last letter
    assert [(round(t.start, 3), round(t.end, 3)) for t in times] == [(0.10, 0.16), (0.21, 0.31)]
    assert all(t.conf > 0.99 for t in times)
    rule = BoundaryRule("first_char_start", "next_boundary_start", start_offset=-0.005, end_offset=0.0)
    times, _ = align_words(lp, ["hi", "you"], VOCAB, 0.01, rule)
    assert [(round(t.start, 3), round(t.end, 3)) for t in times] == [(0.115, 0.18), (0.215, 0.4)]


def test_subsampled_frames_scale_the_times():
    lp = _log_probs(50, SEGMENTS)
    times, _ = align_words(lp, ["hi", "you"], VOCAB, 0.02, BoundaryRule())
    assert round(times[1].start, 3) == 0.42


def test_word_without_letters_gets_a_zero_length_slot_and_zero_confidence():
    lp = _log_probs(50, SEGMENTS)
    times, targets = align_words(lp, ["hi", "42", "you"], VOCAB, 0.01, BoundaryRule())
    assert targets.dropped_chars == ["4", "2"]
    assert (times[1].start, times[1].end, times[1].conf) == (times[0].end, times[0].end, 0.0)


@pytest.mark.parametrize("words, n_frames, reason", [
    ([], 50, "empty"),
    (["42"], 50, "no_letters"),
    (["hello", "world"], 12, "too_short"),  # 13 tokens + a blank between the l's
])
def test_unalignable_utterances_raise_a_counted_reason(words, n_frames, reason):
    with pytest.raises(AlignmentSkip) as e:
        align_words(_log_probs(n_frames, []), words, VOCAB, 0.01, BoundaryRule())
    assert e.value.reason == reason


def test_transcript_that_just_fits_aligns_every_frame():
    lp = _log_probs(14, [])
    times, _ = align_words(lp, ["hello", "world"], VOCAB, 0.01, BoundaryRule())
    assert len(times) == 2 and times[1].start >= times[0].end


def test_offsets_are_clipped_to_the_audio_and_never_overlap():
    raw = [RawWord(0.00, 0.02, 0.30, 0.31, 0.9), RawWord(0.29, 0.32, 0.50, 0.55, 0.8)]
    times = apply_rule(raw, BoundaryRule(start_offset=-0.05, end_offset=0.04), duration=0.52)
    assert times[0].start == 0.0                     # not negative
    assert times[0].end == pytest.approx(0.24)       # cut back to the next word's start
    assert times[1].start == pytest.approx(0.24)
    assert times[1].end == pytest.approx(0.52)       # not past the audio


def test_estimated_rule_recovers_a_constant_offset():
    raws = [RawWord(boundary_end=t, first_char_start=t + 0.05 + 0.03 * (k % 3), last_char_end=t + 0.2,
                    next_boundary_start=t + 0.25 + 0.04 * (k % 2), conf=1.0, first="ab"[k % 2])
            for k, t in enumerate(x / 10 for x in range(30))]
    starts = [r.boundary_end + 0.012 for r in raws]
    ends = [r.last_char_end - 0.021 for r in raws]
    rule, within = estimate_boundary_rule(raws, starts, ends)
    assert (rule.start_rule, rule.end_rule) == ("boundary_end", "last_char_end")
    assert rule.start_offset == pytest.approx(0.012) and rule.end_offset == pytest.approx(-0.021)
    assert within["boundary_end"] == 1.0 and within["first_char_start"] < 1.0


def test_letter_offsets_are_estimated_for_frequent_letters_and_applied():
    # "t..." words fire 40 ms late, "a..." words 10 ms late; "z" is too rare for its own offset
    raws, starts = [], []
    for k in range(40):
        letter = "taz"[0 if k < 20 else (1 if k < 38 else 2)]
        lag = {"t": 0.040, "a": 0.010, "z": 0.030}[letter]
        raws.append(RawWord(k + lag, k + lag, k + 0.5, k + 0.6, 1.0, first=letter, last="s"))
        starts.append(float(k))
    rule, within = estimate_boundary_rule(raws, starts, [k + 0.5 for k in range(40)], min_count=15)
    assert rule.start_offsets == {"a": pytest.approx(-0.010), "t": pytest.approx(-0.040)}
    assert within["boundary_end"] == 1.0
    assert rule.end_offsets == {"s": pytest.approx(0.0)}
    times = apply_rule([RawWord(1.04, 1.04, 1.3, 1.4, 1.0, "t", "s"), RawWord(2.03, 2.03, 2.3, 2.4, 1.0, "z", "s")],
                       rule, duration=3.0)
    assert times[0].start == pytest.approx(1.0)
    assert times[1].start == pytest.approx(2.03 + rule.start_offset)  # global offset for "z"


def test_unknown_rule_is_a_config_error():
    with pytest.raises(ConfigError, match="start_rule"):
        BoundaryRule(start_rule="middle")
