"""Progress lines: rate limiting, rate and ETA numbers, the final line, the bar only on a tty."""

from __future__ import annotations

import io
import logging

import pytest

from speechbert.progress import Progress, format_duration, track


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "progress-test"]


LOG = logging.getLogger("progress-test")


def test_lines_at_most_every_interval_then_final(caplog, clock):
    caplog.set_level(logging.INFO, logger="progress-test")
    stream = io.StringIO()
    p = Progress(100, "aligning", log=LOG, min_interval_s=5, clock=clock, stream=stream)
    for _ in range(40):  # 40 items, one every 0.5 s: 20 s in all
        clock.now += 0.5
        p.update()
    # lines at 5, 10, 15, 20 s (items 10, 20, 30, 40), not one per item
    assert messages(caplog) == [
        "aligning: 10/100 (10%), 2/s, ETA 00:45",
        "aligning: 20/100 (20%), 2/s, ETA 00:40",
        "aligning: 30/100 (30%), 2/s, ETA 00:35",
        "aligning: 40/100 (40%), 2/s, ETA 00:30",
    ]
    clock.now += 1.0
    p.update(60)  # a batch of 60 at once: 100 in 21 s, no interval line (1 s since the last)
    p.close()
    p.close()  # idempotent
    assert messages(caplog)[4:] == ["aligning: 100/100 done in 00:21, 4.76/s"]
    assert stream.getvalue() == ""  # not a terminal: no bar


def test_eta_hours_and_unknown_total(caplog, clock):
    caplog.set_level(logging.INFO, logger="progress-test")
    p = Progress(10000, "synthesizing", log=LOG, min_interval_s=5, clock=clock, stream=io.StringIO())
    clock.now += 6
    p.update(2)  # 1/3 per s, 9998 left -> 29994 s = 8:19:54
    assert messages(caplog) == ["synthesizing: 2/10000 (0%), 0.333/s, ETA 8:19:54"]
    q = Progress(None, "reading", log=LOG, clock=clock, stream=io.StringIO())
    clock.now += 10
    q.update(25)
    q.close()
    assert messages(caplog)[1:] == ["reading: 25 done, 2.5/s", "reading: 25 done in 00:10, 2.5/s"]


def test_short_loop_logs_only_the_final_line(caplog, clock):
    caplog.set_level(logging.INFO, logger="progress-test")
    with Progress(3, "decoding", log=LOG, clock=clock, stream=io.StringIO()) as p:
        for _ in range(3):
            clock.now += 1
            p.update()
    assert messages(caplog) == ["decoding: 3/3 done in 00:03, 1/s"]


def test_bar_only_on_a_terminal(caplog, clock):
    caplog.set_level(logging.INFO, logger="progress-test")
    tty = TtyStream()
    p = Progress(4, "extracting", log=LOG, clock=clock, stream=tty)
    assert p.bar
    for _ in range(4):
        clock.now += 0.25
        p.update()
    p.close()
    text = tty.getvalue()
    assert "\r\033[K[" in text and "extracting: 4/4 (100%)" in text
    assert text.endswith("\r\033[K")  # the bar is wiped before the final log line
    # the log itself gets no bar, only the final line
    assert messages(caplog) == ["extracting: 4/4 done in 00:01, 4/s"]


def test_track_counts_and_names_the_caller(caplog, clock):
    caplog.set_level(logging.INFO, logger="progress-test")
    items = list(track(["a", "b"], "importing", log=LOG, clock=clock, stream=io.StringIO()))
    assert items == ["a", "b"]
    assert messages(caplog) == ["importing: 2/2 done in 00:00, 0/s"]


def test_no_final_line_after_an_error(caplog, clock):
    caplog.set_level(logging.INFO, logger="progress-test")
    with pytest.raises(ValueError):
        with Progress(5, "aligning", log=LOG, clock=clock, stream=io.StringIO()) as p:
            p.update()
            raise ValueError("bad utterance")
    assert messages(caplog) == []


def test_record_points_at_the_loop_not_progress(caplog, clock):
    caplog.set_level(logging.INFO, logger="progress-test")
    p = Progress(1, "x", log=LOG, clock=clock, stream=io.StringIO())
    p.update()
    p.close()
    assert caplog.records[-1].module == "test_progress"


def test_format_duration():
    assert format_duration(0) == "00:00"
    assert format_duration(59.6) == "01:00"
    assert format_duration(3600 + 62) == "1:01:02"


def test_nothing_on_stdout(capsys, clock):
    logging.getLogger("progress-test").setLevel(logging.INFO)
    p = Progress(2, "scoring", log=LOG, min_interval_s=0, clock=clock)  # real sys.stderr, not a tty
    clock.now += 1
    p.update(2)
    p.close()
    assert capsys.readouterr().out == ""
