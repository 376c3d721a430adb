"""Training curves of one experiment, drawn from its ``metrics.jsonl``.

``exp/<name>/plots/`` gets ``loss`` (train and validation loss by update), ``valid_metrics``
(one panel per ``valid.*`` metric other than the loss) and ``lr`` (the learning rate at each
validation), each as PNG and SVG. The trainer draws them when a training run ends
(:func:`plot_after_training`); ``python -m speechbert.bin.plot_training --exp_dir DIR`` redraws.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Sequence

from speechbert.errors import DataError
from speechbert.io.jsonl import iter_jsonl
from speechbert.plots.figures import line_data, new_figure, save_figure

METRICS_FILE = "metrics.jsonl"  # the trainer's (speechbert.train.average.METRICS_FILE)
PLOTS_DIR = "plots"
LOSS_KEYS = ("train.loss", "valid.loss")
LR_KEY = "lr"

#: plot name -> series label -> (update numbers, values)
Curves = dict[str, dict[str, tuple[list[float], list[float]]]]


def read_training_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The records of a trainer's ``metrics.jsonl``, each checked to have an integer ``step``.

    Raises:
        DataError: naming the file and line of a record that is not an object with a ``step``.
    """
    records = []
    for lineno, rec in iter_jsonl(path):
        if not isinstance(rec, dict) or not isinstance(rec.get("step"), int) or isinstance(rec["step"], bool):
            raise DataError("expected a JSON object with an integer 'step' (a trainer metrics record)",
                            path, lineno)
        records.append(rec)
    return records


def training_series(records: Sequence[dict[str, Any]]) -> Curves:
    """What each plot shows: plot name -> label -> (steps, values) of the finite numbers.

    ``loss`` holds ``train.loss``/``valid.loss``, ``valid_metrics`` every other ``valid.*`` key,
    ``lr`` the ``lr`` key; a plot with no series is left out.
    """
    def series(key: str) -> tuple[list[float], list[float]]:
        xs, ys = [], []
        for r in records:
            v = r.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                xs.append(float(r["step"]))
                ys.append(float(v))
        return xs, ys

    keys = sorted({k for r in records for k in r})
    plots: Curves = {
        "loss": {k: series(k) for k in LOSS_KEYS if k in keys},
        "valid_metrics": {k: series(k) for k in keys if k.startswith("valid.") and k not in LOSS_KEYS},
        "lr": {LR_KEY: series(LR_KEY)} if LR_KEY in keys else {},
    }
    return {name: {k: s for k, s in curves.items() if s[0]} for name, curves in plots.items()
            if any(s[0] for s in curves.values())}


def plot_training_curves(exp_dir: str | Path, out_dir: str | Path | None = None) -> Curves:
    """Draw the curves of ``exp_dir/metrics.jsonl`` into ``out_dir`` (default ``exp_dir/plots``).

    Returns what was drawn, read back from the figures' axes (same layout as
    :func:`training_series`).

    Raises:
        DataError: for a missing or malformed ``metrics.jsonl`` (naming file and line).
    """
    exp_dir = Path(exp_dir)
    out = Path(out_dir) if out_dir is not None else exp_dir / PLOTS_DIR
    records = read_training_metrics(exp_dir / METRICS_FILE)
    epoch_ends = [float(r["step"]) for r in records if r.get("end_of_epoch")]
    drawn: Curves = {}
    for name, curves in training_series(records).items():
        panels = [[k] for k in curves] if name == "valid_metrics" else [list(curves)]
        fig, axes = _panel_figure(len(panels))
        for ax, labels in zip(axes, panels):
            for label in labels:
                xs, ys = curves[label]
                ax.plot(xs, ys, marker="o", markersize=3, label=label)
            for x in epoch_ends:  # unlabelled: not part of the returned data
                ax.axvline(x, color="0.85", linewidth=0.8, zorder=0)
            ax.set_xlabel("update (grey lines: epoch ends)")
            if len(panels) > 1:
                ax.set_title(labels[0])
            ax.grid(True, alpha=0.3)
            if len(labels) > 1:
                ax.legend(fontsize="small")
        if name == "lr":
            axes[0].ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
        fig.suptitle(f"{exp_dir.name}: {name.replace('_', ' ')}")
        drawn[name] = {k: v for ax in axes for k, v in line_data(ax).items()}
        save_figure(fig, out, name)
    return drawn


def plot_after_training(exp_dir: str | Path) -> None:
    """Draw the training curves; a failure is a warning: it never fails a finished training."""
    try:
        drawn = plot_training_curves(exp_dir)
    except Exception as e:  # noqa: BLE001 - plots are a by-product; the model files are what matter
        logging.warning("could not draw the training curves of %s (%s: %s); redraw with "
                        "python -m speechbert.bin.plot_training --exp_dir %s", exp_dir, type(e).__name__, e, exp_dir)
        return
    logging.info("training curves: %s/%s/{%s}.{png,svg}", exp_dir, PLOTS_DIR, ",".join(drawn))


def _panel_figure(n: int) -> tuple[Any, list[Any]]:
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    width, height = (4.0 * cols, 3.0 * rows) if n > 1 else (7.0, 4.0)
    fig = new_figure(width, height, layout=None)
    # fixed margins (in inches, turned into fractions): room for tick labels, titles, the suptitle
    fig.subplots_adjust(left=0.75 / width, right=1 - 0.2 / width, bottom=0.6 / height, top=1 - 0.55 / height,
                        wspace=0.3, hspace=0.6 if rows > 1 else 0.2)
    grid = fig.subplots(rows, cols, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]
