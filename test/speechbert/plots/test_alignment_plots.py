"""Alignment report plots: histogram counts, the example utterance's boundaries, valid files."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from speechbert.align.report import compare_ctms
from speechbert.io.ctm import CtmEntry
from speechbert.plots.alignment_plots import (choose_example, log_spectrogram, plot_example_utterance,
                                              start_error_histogram, write_alignment_plots)


def _ctm(utt, items):
    return [CtmEntry(utt, s, e - s, w, 1.0) for w, s, e in items]


REF = {"a": _ctm("a", [("one", 0.10, 0.30), ("two", 0.30, 0.60)]),
       "b": _ctm("b", [("three", 0.05, 0.40), ("four", 0.45, 0.90)]),
       "c": _ctm("c", [("five", 0.00, 0.50)])}
# start errors: a 5 and 20 ms (mean 12.5), b 0 and 250 ms (mean 125), c 40 ms
HYP = {"a": _ctm("a", [("one", 0.105, 0.31), ("two", 0.32, 0.60)]),
       "b": _ctm("b", [("three", 0.05, 0.40), ("four", 0.70, 0.90)]),
       "c": _ctm("c", [("five", 0.04, 0.50)])}


class FakeAudio:
    """1 s of a 440 Hz tone at 16 kHz for every utterance."""

    def __init__(self):
        self.loaded = []

    def load(self, utt):
        self.loaded.append(utt)
        t = np.arange(16000) / 16000
        return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000


def test_histogram_counts():
    hist = start_error_histogram([0.005, 0.020, 0.0, 0.250, 0.040, 0.0049])
    assert hist.edges_ms[:3] == [0.0, 5.0, 10.0] and hist.edges_ms[-1] == 105.0
    counts = dict(zip(hist.edges_ms, hist.counts))
    # 0 and 4.9 ms in [0, 5); 5 ms in [5, 10); 20 in [20, 25); 40 in [40, 45); 250 in the last bin
    assert (counts[0.0], counts[5.0], counts[20.0], counts[40.0], counts[100.0]) == (2, 1, 1, 1, 1)
    assert sum(hist.counts) == 6


def test_example_is_the_median_utterance():
    rep = compare_ctms(HYP, REF)
    assert rep.utt_start_errors["b"] == pytest.approx([0.0, 0.25])
    assert choose_example(rep) == "c"  # means 12.5, 125, 40 ms: c is the median


def test_spectrogram_peak_at_the_tone():
    samples, rate = FakeAudio().load("x")
    spec = log_spectrogram(samples, rate)
    assert spec.shape == (201, 98)  # 400-sample windows: 201 bins; 1 + (16000 - 400) // 160 frames
    assert int(np.argmax(spec[:, 50])) == 11  # 440 Hz / 40 Hz per bin


def test_plots_written_and_linked(tmp_path):
    rep = compare_ctms(HYP, REF)
    audio = FakeAudio()
    plots = write_alignment_plots(rep, HYP, REF, tmp_path / "plots", audio=audio)
    assert plots == [("Word-start errors", "plots/start_errors.png"),
                     ("Word boundaries of c", "plots/example_utterance.png")]
    assert audio.loaded == ["c"]
    for name in ("start_errors", "example_utterance"):
        with Image.open(tmp_path / "plots" / f"{name}.png") as im:
            assert im.format == "PNG"
        assert ET.parse(tmp_path / "plots" / f"{name}.svg").getroot().tag.endswith("svg")
    md = rep.to_markdown("t", plots)
    assert "![Word-start errors](plots/start_errors.png)" in md and "(plots/example_utterance.svg)" in md


def test_chosen_utterance_and_no_audio(tmp_path):
    rep = compare_ctms(HYP, REF)
    audio = FakeAudio()
    write_alignment_plots(rep, HYP, REF, tmp_path / "p", audio=audio, utt="a")
    assert audio.loaded == ["a"]
    assert write_alignment_plots(rep, HYP, REF, tmp_path / "q") == [("Word-start errors", "q/start_errors.png")]


def test_example_draws_the_ctm_boundaries(tmp_path):
    samples, rate = FakeAudio().load("b")
    drawn = plot_example_utterance("b", samples, rate, REF["b"], HYP["b"], tmp_path)
    assert drawn["ref"] == pytest.approx([0.05, 0.40, 0.45, 0.90])
    assert drawn["hyp"] == pytest.approx([0.05, 0.40, 0.70, 0.90])
