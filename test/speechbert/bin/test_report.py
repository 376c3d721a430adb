"""report: the CLI writes the page atomically; the page works in headless Chromium."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from speechbert.bin import report

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "test" / "speechbert" / "report"))
from report_fixture import PageParser, build_tiny_recipe  # noqa: E402


def _browser_check():
    spec = importlib.util.spec_from_file_location("browser_check", REPO / "test" / "integration" / "browser_check.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_report_cli_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    r = build_tiny_recipe(tmp_path)
    out = tmp_path / "exp" / "report" / "test" / "index.html"
    assert report.main(["--exp_dir", str(r.exp), "--data", str(r.data), "--out", str(out),
                        "--systems", "end-to-end"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    p = PageParser(out.read_text(encoding="utf-8"))
    assert len(p.find("article", class_="q")) == 3 and len(p.find("rect", class_="pred")) == 3
    # Audio referenced relative to the page: exp/report/test -> db/wav.
    assert p.find("audio")[0].attrs["src"] == "../../../db/wav/c1-u1.wav"
    assert sorted(x.name for x in out.parent.iterdir()) == ["index.html"]  # no temp file left


def test_report_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    r = build_tiny_recipe(tmp_path)
    out = tmp_path / "page" / "index.html"
    assert report.main(["--exp_dir", str(r.exp), "--data", str(tmp_path / "nodata"), "--out", str(out)]) == 1
    assert "nodata" in capsys.readouterr().err
    assert report.main(["--exp_dir", str(r.exp), "--data", str(r.data), "--out", str(out),
                        "--systems", "ensemble"]) == 1
    err = capsys.readouterr().err
    assert "ensemble" in err and "found: cascade-ctc, end-to-end" in err and not out.exists()


def test_page_in_headless_chromium(tmp_path: Path) -> None:
    bc = _browser_check()
    binary = bc.find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed (tools/installers/install_chromium.sh installs it)")
    r = build_tiny_recipe(tmp_path)
    out = tmp_path / "exp" / "report" / "test" / "index.html"
    assert report.main(["--exp_dir", str(r.exp), "--data", str(r.data), "--out", str(out)]) == 0
    got = bc.check_page(out, tmp_path / "shots", binary, timeout=60)
    assert got["questions"] == 3
    # Every question has a correct system, so "correct" shows all three and is not listed; the
    # cascade (s0) answers two.
    assert got["filters"] == ["f-split=asr_error: 1", "f-split=no_asr_error: 2", "f-system=s0: 2"]
    # The latest span of passage c1 is the cascade's [2.0, 2.5] s: in the second file (offset 1.0 s).
    assert got["seek"]["start"] == 2.0 and 1.95 <= got["seek"]["player_time"] <= 3.0
    png = (tmp_path / "shots" / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert not re.search(r"https?://", out.read_text(encoding="utf-8"))
