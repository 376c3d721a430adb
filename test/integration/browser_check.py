#!/usr/bin/env python3
"""Open an error-analysis page (speechbert.bin.report) in headless Chromium and check it works.

Usage:
    browser_check.py PAGE.html --out_dir DIR [--chromium PATH] [--timeout 60]

Checks, through the Chrome DevTools protocol over ``--remote-debugging-pipe`` (no extra
package): the page loads with no console error or uncaught exception; choosing a filter changes
the number of shown questions to the number of entries the filter selects; a span's play button
seeks the passage player to the span start (``currentTime`` read back, mapped to passage time);
and a screenshot is saved as ``DIR/report.png``. Exit status 0 when every check passed, 1 when
one failed, 2 when Chromium is missing or cannot start.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium binary to use: ``explicit``, ``$CHROMIUM``, else the first on PATH."""
    for name in ([explicit] if explicit else []) + [os.environ.get("CHROMIUM", "")] + list(CHROMIUM_NAMES):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class CheckFailed(Exception):
    """A check of the page did not pass."""


class Browser:
    """A headless Chromium driven over the DevTools pipe (fd 3: commands in, fd 4: replies out,
    each message a JSON text ended by a NUL byte)."""

    def __init__(self, binary: str, timeout: float) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="browser_check.")
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()
        # Chromium expects the pipe on fds 3 and 4 of its own process.
        args = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                "--no-first-run", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                "--allow-file-access-from-files", f"--user-data-dir={self.profile}", "about:blank"]

        def child_fds() -> None:
            # Move both ends above 4 first: one of them may itself be fd 3 or 4.
            r, w = os.dup2(cmd_r, 100), os.dup2(out_w, 101)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._stderr, preexec_fn=child_fds, pass_fds=(3, 4))
        os.close(cmd_r)
        os.close(out_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def _read_message(self, deadline: float) -> dict:
        import select

        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckFailed("timed out waiting for the browser")
            ready, _, _ = select.select([self._out_r], [], [], left)
            if ready:
                chunk = os.read(self._out_r, 1 << 20)
                if not chunk:
                    self._stderr.seek(0)
                    err = self._stderr.read().decode(errors="replace")
                    raise CheckFailed(f"the browser closed its DevTools pipe: {err[-2000:]}")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, *, session: bool = True) -> dict:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CheckFailed(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str) -> dict:
        """Wait for (or find among those already received) the event ``method``."""
        for k, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(k)
        deadline = time.monotonic() + self.timeout
        while True:
            ev = self._read_message(deadline)
            if ev.get("method") == method:
                return ev
            self.events.append(ev)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in res:
            raise CheckFailed(f"JavaScript error in {expression!r}: {res['exceptionDetails'].get('text')} "
                              f"{res['exceptionDetails'].get('exception', {}).get('description', '')}")
        return res.get("result", {}).get("value")

    def console_errors(self) -> list[str]:
        """Console errors and uncaught exceptions among the events received so far."""
        out = []
        for ev in self.events:
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(f"exception: {d.get('text')} {d.get('exception', {}).get('description', '')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console." + p["type"] + ": " + " ".join(str(a.get("value", a.get("description")))
                                                                    for a in p.get("args", [])))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                e = p["entry"]
                out.append(f"log: {e.get('text')} {e.get('url', '')}")
        return out

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
        except (CheckFailed, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._cmd_w, self._out_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


def _log(msg: str) -> None:
    print(f"browser_check: {msg}", file=sys.stderr, flush=True)


def check_page(page: Path, out_dir: Path, binary: str, timeout: float = 60.0) -> dict:
    """Run every check on ``page``; returns what was measured. Raises CheckFailed on a failure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    b = Browser(binary, timeout)
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        b.session = b.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            b.send(f"{domain}.enable")
        b.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 1600, "deviceScaleFactor": 1,
                                                      "mobile": False})
        b.send("Page.navigate", {"url": page.resolve().as_uri()})
        b.wait_event("Page.loadEventFired")
        got: dict[str, Any] = {"page": str(page)}
        total = b.evaluate("document.querySelectorAll('article.q').length")
        shown = b.evaluate("document.querySelectorAll('article.q:not([hidden])').length")
        got["questions"] = total
        if not total or shown != total:
            raise CheckFailed(f"expected every question shown after load, got {shown} of {total}")
        if b.evaluate("typeof window.speechbertReport") != "object":
            raise CheckFailed("the page script did not run (window.speechbertReport is missing)")

        # Filters: each selection must show exactly the entries its attributes select.
        filters = [("f-split", "asr_error", "article.q[data-asr-error='1']"),
                   ("f-split", "no_asr_error", "article.q[data-asr-error='0']"),
                   ("f-outcome", "correct", "article.q:not([data-correct=''])"),
                   ("f-system", "s0", "article.q[data-systems~='s0']")]
        changed = []
        for select_id, value, selector in filters:
            n = b.evaluate(f"(function(){{var s=document.getElementById('{select_id}'); s.value='{value}';"
                           "s.dispatchEvent(new Event('change')); "
                           "return document.querySelectorAll('article.q:not([hidden])').length;})()")
            want = b.evaluate(f"document.querySelectorAll(\"{selector}\").length")
            label = b.evaluate("document.getElementById('shown-count').textContent")
            b.evaluate(f"(function(){{var s=document.getElementById('{select_id}'); s.value='';"
                       "s.dispatchEvent(new Event('change'));})()")
            if n != want or label != str(n):
                raise CheckFailed(f"filter {select_id}={value}: {n} shown (counter says {label}), expected {want}")
            if n != total:
                changed.append(f"{select_id}={value}: {n}")
        if not changed:
            raise CheckFailed("no filter changed the number of shown questions")
        got["filters"] = changed
        if b.evaluate("document.querySelectorAll('article.q:not([hidden])').length") != total:
            raise CheckFailed("clearing the filters did not show every question again")

        # A span button seeks the passage player to the span start: the latest span of the first
        # passage, so that a passage made of several files maps passage time onto the right one.
        span = b.evaluate("""(function(){
            var bs = Array.from(document.querySelectorAll('section.passage')[0].querySelectorAll('button.play'));
            bs.sort(function(a, b){ return parseFloat(b.dataset.start) - parseFloat(a.dataset.start); });
            var btn = bs[0]; btn.id = 'browser-check-button'; btn.click();
            return [parseFloat(btn.dataset.start), parseFloat(btn.dataset.end), btn.textContent];})()""")
        start, end, text = span
        deadline = time.monotonic() + timeout
        t = None
        while time.monotonic() < deadline:
            t = b.evaluate("""(function(){var a = document.querySelectorAll('section.passage')[0]
                .querySelector('audio'); return a.readyState >= 1 && !a.seeking
                ? window.speechbertReport.passageTime(a) : null;})()""")
            if t is not None and t >= start - 0.05:
                break
            time.sleep(0.2)
        if t is None or not (start - 0.05 <= t <= end + 0.5):
            raise CheckFailed(f"button {text!r} [{start}, {end}] s: player at passage time {t}, not at the span start")
        got["seek"] = {"button": text, "start": start, "end": end, "player_time": round(t, 3)}

        shot = b.send("Page.captureScreenshot", {"format": "png"})
        png = out_dir / "report.png"
        png.write_bytes(base64.b64decode(shot["data"]))
        got["screenshot"] = str(png)
        errors = b.console_errors()
        if errors:
            raise CheckFailed("console errors: " + "; ".join(errors[:10]))
        return got
    finally:
        b.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--out_dir", type=Path, required=True, help="where report.png is saved")
    parser.add_argument("--chromium", default=None, help="browser binary (default: $CHROMIUM or chromium on PATH)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for any one browser step")
    args = parser.parse_args(argv)
    if not args.page.is_file():
        _log(f"Error: no such page: {args.page}")
        return 2
    binary = find_chromium(args.chromium)
    if binary is None:
        _log("Error: chromium not found (run tools/installers/install_chromium.sh)")
        return 2
    try:
        got = check_page(args.page, args.out_dir, binary, args.timeout)
    except CheckFailed as e:
        _log(f"FAILED: {e}")
        return 1
    _log("passed: " + json.dumps(got))
    return 0


if __name__ == "__main__":
    sys.exit(main())
