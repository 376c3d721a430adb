"""html_page: the page structure, parsed with html.parser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from report_fixture import EVIL_QUESTION, PageParser, build_tiny_recipe
from speechbert.report.html_page import MIN_SPAN_WIDTH, PLOT_LEFT, PLOT_WIDTH, render_page, time_to_x
from speechbert.report.page_data import collect_report_data


@pytest.fixture()
def page(tmp_path: Path) -> tuple[str, PageParser]:
    r = build_tiny_recipe(tmp_path)
    text = render_page(collect_report_data(r.exp, r.data, tmp_path / "out" / "index.html", bins=40))
    return text, PageParser(text)


def test_entries_and_filter_attributes(page: tuple[str, PageParser]) -> None:
    _, p = page
    qs = p.find("article", class_="q")
    assert [q.attrs["data-qid"] for q in qs] == ["q1", "q2", "q3"]
    # s0 = cascade-ctc, s1 = end-to-end (collect_results order).
    assert [(q.attrs["data-asr-error"], q.attrs["data-wer-bucket"], q.attrs["data-systems"], q.attrs["data-correct"])
            for q in qs] == [("1", "(10,20]", "s0 s1", "s1"), ("0", "(10,20]", "s0 s1", "s0"),
                             ("0", "(0,10]", "s1", "s1")]
    assert len(p.find("section", class_="passage")) == 2
    assert [o.attrs["value"] for o in p.elements if o.tag == "option"][:3] == ["", "s0", "s1"]
    for sid in ("f-system", "f-split", "f-wer", "f-outcome", "shown-count", "results", "ff1-chart"):
        assert len([e for e in p.elements if e.attrs.get("id") == sid]) == 1, sid
    assert [r.attrs["data-ff1"] for r in p.find("rect", class_="bar")] == ["40.00"] * 3 + ["60.00"] * 3


def test_span_positions(page: tuple[str, PageParser]) -> None:
    _, p = page
    assert time_to_x(0.0, 2.5) == PLOT_LEFT and time_to_x(2.5, 2.5) == PLOT_LEFT + PLOT_WIDTH
    assert time_to_x(1.25, 2.5) == PLOT_LEFT + PLOT_WIDTH / 2
    refs = p.find("rect", class_="ref")
    # q1: [0.5, 0.75] s of a 2.5 s passage -> x 160 + 800 * 0.2, width 800 * 0.1.
    assert (float(refs[0].attrs["x"]), float(refs[0].attrs["width"])) == (320.0, 80.0)
    # q3: [0.5, 1.25] s of a 2.0 s passage.
    assert (float(refs[2].attrs["x"]), float(refs[2].attrs["width"])) == (360.0, 300.0)
    preds = p.find("rect", class_="pred")
    got = [(r.attrs["data-start"], r.attrs["data-end"], r.attrs["class"]) for r in preds]
    assert got == [("2.000", "2.500", "span pred wrong"), ("0.500", "0.750", "span pred correct"),
                   ("1.250", "1.500", "span pred correct"), ("0.000", "0.250", "span pred wrong"),
                   ("0.500", "1.000", "span pred correct")]
    assert float(preds[0].attrs["x"]) == 800.0 and float(preds[0].attrs["width"]) == 160.0
    assert all(float(r.attrs["width"]) >= MIN_SPAN_WIDTH for r in preds)
    # Every question draws its passage's one waveform symbol.
    uses = [u.attrs["href"] for u in p.find("use")]
    assert uses == ["#w0", "#w0", "#w1"] and len(p.find("symbol")) == 2


def test_buttons_and_audio(page: tuple[str, PageParser]) -> None:
    _, p = page
    b = [(x.attrs["data-start"], x.attrs["data-end"], x.attrs.get("data-sys"))
         for x in p.find("button", class_="play")]
    assert b[:3] == [("0.500", "0.750", None), ("2.000", "2.500", "s0"), ("0.500", "0.750", "s1")]
    audios = p.find("audio")
    assert len(audios) == 2
    assert audios[0].attrs["src"] == "../db/wav/c1-u1.wav"
    assert json.loads(audios[0].attrs["data-tracks"]) == [["../db/wav/c1-u1.wav", 0.0, 1.0],
                                                          ["../db/wav/c1-u2.wav", 1.0, 1.5]]


def test_escaping_and_no_network(page: tuple[str, PageParser]) -> None:
    text, p = page
    assert EVIL_QUESTION not in text and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in text
    assert p.find("p", class_="question")[0].text == f"Q: {EVIL_QUESTION}"
    assert len(p.find("script")) == 1  # only the page's own script
    assert not re.search(r"https?://", text)
    assert not [e for e in p.elements if e.tag in ("link", "img", "iframe")]
    assert not [e for e in p.elements if e.tag == "script" and "src" in e.attrs]
