"""Progress of a long loop: counts, rate and ETA in the log, a live bar only on a terminal.

    progress = Progress(len(utts), "extracting features")
    for utt in utts:
        ...
        progress.update()
    progress.close()

Log lines (``extracting features: 120/500 (24%), 23.5/s, ETA 00:16``) go through the logging
module at most once every ``min_interval_s`` seconds, plus one final line from :meth:`close`, so
a job log gets a bounded number of lines however fast the loop runs. A carriage-return bar is
drawn on stderr only when stderr is a terminal: job logs never hold one. Nothing is written to
stdout (where several tools write their data) and nothing to any output file.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Callable, Iterable, Iterator, TextIO, TypeVar

T = TypeVar("T")

#: seconds between two redraws of the terminal bar
BAR_INTERVAL_S = 0.2


def format_duration(seconds: float) -> str:
    """``mm:ss`` below an hour, ``h:mm:ss`` from an hour on (seconds rounded)."""
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def format_rate(per_s: float) -> str:
    """Items per second with 3 significant digits (``23.5/s``, ``0.412/s``, ``1250/s``)."""
    return f"{per_s:.3g}/s" if per_s < 1000 else f"{per_s:.0f}/s"


class Progress:
    """Counts done items of a loop and reports them at a bounded rate (see the module doc).

    Args:
        total: number of items expected (``None`` or 0 when unknown: no percentage, no ETA).
        what: what the loop does, the start of every line (``"aligning utterances"``).
        log: the logger to write to (default: the root logger).
        min_interval_s: at least this many seconds between two log lines (the final line aside).
        clock: monotonic time in seconds (tests pass a fake one).
        stream: where the terminal bar goes (default ``sys.stderr``).
        bar: draw the live bar; default: only when ``stream`` is a terminal.
    """

    def __init__(self, total: int | None, what: str, log: logging.Logger | None = None,
                 min_interval_s: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 stream: TextIO | None = None, bar: bool | None = None) -> None:
        self.total = total if total and total > 0 else None
        self.what = what
        self.log = log or logging.getLogger()
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.stream = stream if stream is not None else sys.stderr
        self.bar = _is_tty(self.stream) if bar is None else bar
        self.done = 0
        self.t0 = clock()
        self.last_line = self.t0
        self.last_bar = float("-inf")
        self.closed = False

    # ------------------------------------------------------------------ counting

    def update(self, n: int = 1) -> None:
        """Count ``n`` more items done; log a line when ``min_interval_s`` has passed."""
        self.done += n
        now = self.clock()
        if now - self.last_line >= self.min_interval_s:
            self.last_line = now
            self._emit(self.line(now))
        if self.bar and now - self.last_bar >= BAR_INTERVAL_S:
            self.last_bar = now
            self._draw_bar(self.line(now))

    def close(self) -> None:
        """Log the final line (count, time taken, rate); a second call does nothing."""
        if self.closed:
            return
        self.closed = True
        now = self.clock()
        elapsed = now - self.t0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        self._emit(f"{self.what}: {count} done in {format_duration(elapsed)}, {format_rate(rate)}")

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        # no "done" line for a loop that failed: the error is the last word
        if exc_type is None:
            self.close()

    # ------------------------------------------------------------------ text

    def line(self, now: float | None = None) -> str:
        """The progress line at time ``now`` (default: the clock's time)."""
        now = self.clock() if now is None else now
        elapsed = now - self.t0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if not self.total:
            return f"{self.what}: {self.done} done, {format_rate(rate)}"
        pct = 100.0 * self.done / self.total
        eta = format_duration((self.total - self.done) / rate) if rate > 0 and self.done <= self.total else "?"
        return f"{self.what}: {self.done}/{self.total} ({pct:.0f}%), {format_rate(rate)}, ETA {eta}"

    def _emit(self, text: str) -> None:
        if self.bar:
            self._clear_bar()
        # stacklevel: the record names the loop's module and line, not this file
        self.log.info("%s", text, stacklevel=3)

    def _draw_bar(self, text: str) -> None:
        width = 24
        filled = int(width * min(self.done, self.total) / self.total) if self.total else 0
        gauge = f"[{'#' * filled}{'.' * (width - filled)}] " if self.total else ""
        self.stream.write(f"\r\033[K{gauge}{text}")
        self.stream.flush()

    def _clear_bar(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()


def track(items: Iterable[T], what: str, total: int | None = None, **kwargs) -> Iterator[T]:
    """Yield ``items``, counting each one into a :class:`Progress` closed when they run out
    (a loop left early, by ``break`` or an error, gets no final line).

    ``total`` defaults to ``len(items)`` when the iterable has a length.
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    progress = Progress(total, what, **kwargs)
    for item in items:
        yield item
        progress.update()
    progress.close()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or file-less stream
        return False
