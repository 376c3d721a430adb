"""Plots of the alignment report: word-start errors, and one utterance's word boundaries.

``start_errors`` is a histogram of the absolute word-start errors (ms; the numbers of the
report's table) with the 10/20/50 ms tolerances marked. ``example_utterance`` is the spectrogram
of one utterance (computed from its audio) with the reference word boundaries drawn over the
upper half and the predicted ones over the lower half, each labelled with its word.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from speechbert.align.report import TOLERANCES_MS, AlignmentReport
from speechbert.errors import DataError
from speechbert.io.ctm import CtmEntry
from speechbert.plots.figures import new_figure, save_figure

#: bin width and the last bin's start (ms); larger errors are counted in the last bin
BIN_MS = 5.0
OVERFLOW_MS = 100.0
#: spectrogram analysis: 25 ms Hann windows every 10 ms
WINDOW_S = 0.025
SHIFT_S = 0.010


@dataclass
class Histogram:
    """What the histogram shows: bin edges (ms, the last bin open-ended) and counts."""

    edges_ms: list[float]
    counts: list[int]


def start_error_histogram(errors_s: Sequence[float]) -> Histogram:
    """Counts of absolute errors (seconds) in ``BIN_MS`` bins; errors past ``OVERFLOW_MS`` go in
    the last bin, so a few outliers do not squash the picture."""
    edges = np.arange(0.0, OVERFLOW_MS + 2 * BIN_MS, BIN_MS)
    # microsecond rounding: times are written with 3 decimals, 0.015 - 0.010 must land in [5, 10)
    ms = np.minimum(np.round(np.asarray(errors_s, dtype=float) * 1e6) / 1e3, OVERFLOW_MS)
    counts, _ = np.histogram(ms, bins=edges)
    return Histogram([float(e) for e in edges], [int(c) for c in counts])


def plot_start_errors(report: AlignmentReport, out_dir: str | Path, name: str = "start_errors") -> Histogram:
    """Draw the word-start error histogram into ``out_dir/name.{png,svg}``; returns its data."""
    hist = start_error_histogram(report.starts.errors)
    fig = new_figure(7.0, 3.5)
    ax = fig.subplots()
    widths = np.diff(hist.edges_ms)
    ax.bar(hist.edges_ms[:-1], hist.counts, width=widths, align="edge", color="tab:blue", edgecolor="white")
    for t, style in zip(TOLERANCES_MS, ("--", "-.", ":")):
        ax.axvline(t, color="tab:red", linestyle=style, linewidth=1.2,
                   label=f"{report.starts.within(t):.1f}% within {t} ms")
    ax.legend(fontsize="small")
    ax.set_xlabel(f"absolute word-start error (ms; last bin: ≥ {OVERFLOW_MS:g})")
    ax.set_ylabel("words")
    ax.set_title(f"word-start errors of {report.starts.n} words (median {report.starts.median_ms:.1f} ms)")
    save_figure(fig, out_dir, name)
    return hist


def choose_example(report: AlignmentReport) -> str | None:
    """A typical utterance: the one whose mean start error is nearest the median of all
    utterances' means (ties: the first id in sorted order); ``None`` when none was compared."""
    means = {u: statistics.fmean(e) for u, e in report.utt_start_errors.items() if e}
    if not means:
        return None
    mid = statistics.median_low(means.values())
    return min(means, key=lambda u: (abs(means[u] - mid), u))


def log_spectrogram(samples: np.ndarray, rate: int) -> np.ndarray:
    """``(frequency bins, frames)`` log power (dB) of 25 ms Hann windows every 10 ms."""
    win = max(int(round(WINDOW_S * rate)), 2)
    hop = max(int(round(SHIFT_S * rate)), 1)
    x = np.asarray(samples, dtype=np.float64)
    if len(x) < win:
        x = np.pad(x, (0, win - len(x)))
    n = 1 + (len(x) - win) // hop
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop][:n] * np.hanning(win)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return 10.0 * np.log10(power.T + 1e-10)


def plot_example_utterance(utt: str, samples: np.ndarray, rate: int, ref: Sequence[CtmEntry],
                           hyp: Sequence[CtmEntry], out_dir: str | Path,
                           name: str = "example_utterance") -> dict[str, list[float]]:
    """Draw ``utt``'s spectrogram with reference (top half, solid) and predicted (bottom half,
    dashed) word boundaries into ``out_dir/name.{png,svg}``.

    Returns the boundary times drawn: ``{"ref": [...], "hyp": [...]}`` (each word's start and
    end, in order).
    """
    spec = log_spectrogram(samples, rate)
    duration = len(samples) / rate
    fig = new_figure(max(7.0, min(16.0, 1.2 * duration + 3)), 4.0)
    ax = fig.subplots()
    top = spec.max()
    ax.imshow(spec, origin="lower", aspect="auto", cmap="Greys", vmin=top - 80, vmax=top,
              extent=(0.0, spec.shape[1] * SHIFT_S, 0.0, rate / 2000.0))
    drawn = {"ref": _boundaries(ax, ref, (0.5, 1.0), "tab:blue", "-", 0.97),
             "hyp": _boundaries(ax, hyp, (0.0, 0.5), "tab:orange", "--", 0.03)}
    ax.set_xlim(0.0, duration)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (kHz)")
    ax.set_title(f"{utt}: reference word boundaries (top, solid) and predicted (bottom, dashed)",
                 fontsize="medium")
    save_figure(fig, out_dir, name)
    return drawn


def write_alignment_plots(report: AlignmentReport, hyp: Mapping[str, Sequence[CtmEntry]],
                          ref: Mapping[str, Sequence[CtmEntry]], out_dir: str | Path,
                          audio: Any | None = None, utt: str | None = None) -> list[tuple[str, str]]:
    """Draw the report's plots into ``out_dir``; returns (caption, path relative to the
    parent of ``out_dir``) of the PNGs, for the report to link.

    Args:
        audio: something with ``load(utt) -> (samples, rate)`` (a ``WavSource``); without it
            there is no example utterance.
        utt: the example utterance (default :func:`choose_example`).
    """
    out_dir = Path(out_dir)
    rel = out_dir.name
    plots = []
    if report.starts.errors:
        plot_start_errors(report, out_dir)
        plots.append(("Word-start errors", f"{rel}/start_errors.png"))
    utt = utt or choose_example(report)
    if audio is not None and utt is not None:
        if utt not in ref or utt not in hyp:
            raise DataError("the example utterance is not in both CTMs", key=utt)
        samples, rate = audio.load(utt)
        plot_example_utterance(utt, samples, rate, ref[utt], hyp[utt], out_dir)
        plots.append((f"Word boundaries of {utt}", f"{rel}/example_utterance.png"))
    return plots


def _boundaries(ax: Any, entries: Sequence[CtmEntry], span: tuple[float, float], color: str,
                style: str, label_y: float) -> list[float]:
    times = []
    for e in entries:
        for t in (e.start, e.end):
            ax.axvline(t, ymin=span[0], ymax=span[1], color=color, linestyle=style, linewidth=1.2)
            times.append(t)
        ax.text((e.start + e.end) / 2, label_y, e.word, transform=ax.get_xaxis_transform(), ha="center",
                va="top" if label_y > 0.5 else "bottom", fontsize="x-small", color=color,
                bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0, "pad": 1})
    return times
