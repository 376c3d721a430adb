"""One way to make and save a figure: Agg canvas, PNG + SVG written atomically, stable bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from speechbert.io.atomic import atomic_open

#: every figure is written in these formats, ``<name>.<format>`` side by side
FORMATS = ("png", "svg")

# Same data, same matplotlib -> same bytes: SVG element ids come from a fixed salt instead of a
# random one, and neither format records the date (the recipe's outputs are byte-reproducible).
_STABLE_RC = {"svg.hashsalt": "speechbert", "svg.fonttype": "path"}
_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}


def new_figure(width: float = 7.0, height: float = 4.0, layout: str | None = "constrained") -> Any:
    """A matplotlib ``Figure`` on an Agg canvas (no pyplot, no global backend state).

    ``layout=None`` leaves the margins to the caller (``fig.subplots_adjust``): the automatic
    layout doubles the drawing time, which the trainer pays at the end of every run.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, out_dir: str | Path, name: str) -> list[Path]:
    """Write ``fig`` as ``out_dir/name.png`` and ``out_dir/name.svg`` (temp file + rename).

    Returns the paths written.
    """
    import matplotlib

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context(_STABLE_RC):
        for fmt in FORMATS:
            path = out_dir / f"{name}.{fmt}"
            with atomic_open(path, "wb") as f:
                fig.savefig(f, format=fmt, metadata=_METADATA[fmt])
            paths.append(path)
    return paths


def line_data(ax: Any) -> dict[str, tuple[list[float], list[float]]]:
    """Label -> (x values, y values) of every labelled line of ``ax``, read back from the axes."""
    return {line.get_label(): ([float(x) for x in line.get_xdata()], [float(y) for y in line.get_ydata()])
            for line in ax.get_lines() if not line.get_label().startswith("_")}
