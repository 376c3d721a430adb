"""Render :class:`~speechbert.report.page_data.ReportData` as one self-contained HTML page.

Every text from the data is escaped (a question may hold ``<script>``); data travel in
``data-*`` attributes, never inside the script. Spans are drawn in an SVG whose x axis is passage
time: ``x = PLOT_LEFT + PLOT_WIDTH * t / duration``. Each passage's waveform is one SVG
``<symbol>`` that its questions ``<use>``, so 600 questions do not repeat 200 waveforms.
"""

from __future__ import annotations

import html
import json
from typing import Any, Mapping

from speechbert.report.assets import SCRIPT, STYLE
from speechbert.report.page_data import CORRECT_FF1, Passage, QuestionEntry, ReportData, SystemColumn
from speechbert.report.waveform import envelope_path

#: Geometry of a question's span drawing (pixels).
PLOT_LEFT = 160
PLOT_WIDTH = 800
WAVE_HEIGHT = 60
ROW_HEIGHT = 14
ROW_GAP = 4
#: A span is drawn at least this wide so that a 0.1 s answer in a 60 s passage stays visible.
MIN_SPAN_WIDTH = 2.0
SPLITS = (("all", "overall"), ("no ASR error", "no_asr_error"), ("ASR error", "with_asr_error"))


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def time_to_x(t: float, duration: float) -> float:
    """The x pixel of passage time ``t`` in a span drawing of a ``duration``-second passage."""
    frac = min(max(t / duration, 0.0), 1.0) if duration > 0 else 0.0
    return round(PLOT_LEFT + PLOT_WIDTH * frac, 1)


def _rect(cls: str, start: float, end: float, duration: float, y: float, height: float, extra: str = "") -> str:
    x0, x1 = time_to_x(start, duration), time_to_x(end, duration)
    width = round(max(x1 - x0, MIN_SPAN_WIDTH), 1)
    return (f'<rect class="{cls}" x="{x0}" y="{y}" width="{width}" height="{height}" '
            f'data-start="{start:.3f}" data-end="{end:.3f}"{extra}><title>{start:.2f}–{end:.2f} s</title></rect>')


def _group_cell(group: Mapping[str, Any] | None, metric: str) -> str:
    if not group or group.get(metric) is None:
        return "—"
    half = group.get(f"{metric}_ci_half")
    return f"{group[metric]:.1f}" if half is None else f"{group[metric]:.1f} ± {half:.1f}"


def _split_group(res: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    if name == "overall":
        return res.get("overall")
    by = res.get("by_asr_error")
    return by.get(name) if isinstance(by, dict) else None


def results_table(systems: list[SystemColumn]) -> str:
    """The summary table: FF1 per split and AOS/EM/F1 overall, mean ± half-width of the bootstrap
    interval where result.json has one (doc/scoring.md)."""
    head = ["system"] + [f"FF1 {s}" for s, _ in SPLITS] + ["AOS", "EM", "F1", "#Q", "#Q ASR err", "WER"]
    rows = ["<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for c in systems:
        res = c.result.result
        cells = [c.label] + [_group_cell(_split_group(res, g), "ff1") for _, g in SPLITS]
        cells += [_group_cell(res.get("overall"), m) for m in ("aos", "em", "f1")]
        err = _split_group(res, "with_asr_error")
        wer = res.get("wer")
        cells += [res["overall"].get("questions", "—"), err.get("questions", "—") if err else "—",
                  f"{wer['wer']:.2f}" if isinstance(wer, dict) and wer.get("wer") is not None else "—"]
        rows.append(f'<tr data-sys="{c.key}">' + "".join(f"<td>{_e(x)}</td>" for x in cells) + "</tr>")
    return '<table class="results" id="results">' + "".join(rows) + "</table>"


def ff1_chart(systems: list[SystemColumn]) -> str:
    """Grouped bars of FF1 by system and split, with the bootstrap interval as a whisker."""
    bar, gap, height, top, left = 14, 16, 200, 10, 40
    colors = ("#36c", "#2a7", "#d44")
    width = left + len(systems) * (len(SPLITS) * bar + gap) + 150
    parts = [f'<svg class="chart" id="ff1-chart" width="{width}" height="{height + top + 60}" '
             f'role="img" aria-label="FF1 by system and split">']
    y0 = top + height
    for v in (0, 25, 50, 75, 100):
        y = y0 - height * v / 100
        parts.append(f'<line x1="{left}" x2="{width - 150}" y1="{y}" y2="{y}" stroke="#ddd"/>'
                     f'<text x="{left - 4}" y="{y + 4}" text-anchor="end">{v}</text>')
    for i, c in enumerate(systems):
        gx = left + gap / 2 + i * (len(SPLITS) * bar + gap)
        for j, (split, key) in enumerate(SPLITS):
            g = _split_group(c.result.result, key)
            ff1 = g.get("ff1") if g else None
            if ff1 is None:
                continue
            x = gx + j * bar
            h = round(height * ff1 / 100, 1)
            parts.append(f'<rect class="bar" x="{x}" y="{round(y0 - h, 1)}" width="{bar - 2}" height="{h}" '
                         f'fill="{colors[j]}" data-sys="{c.key}" data-split="{_e(split)}" data-ff1="{ff1:.2f}">'
                         f'<title>{_e(c.label)}, {_e(split)}: FF1 {ff1:.1f}</title></rect>')
            ci = g.get("ff1_ci")
            if isinstance(ci, list) and len(ci) == 2 and None not in ci:
                cx = x + (bar - 2) / 2
                parts.append(f'<line x1="{cx}" x2="{cx}" y1="{round(y0 - height * ci[1] / 100, 1)}" '
                             f'y2="{round(y0 - height * ci[0] / 100, 1)}" stroke="#000"/>')
        parts.append(f'<text x="{gx}" y="{y0 + 14}" transform="rotate(20 {gx} {y0 + 14})">{_e(c.label)}</text>')
    lx = width - 140
    for j, (split, _) in enumerate(SPLITS):
        parts.append(f'<rect x="{lx}" y="{top + 16 * j}" width="10" height="10" fill="{colors[j]}"/>'
                     f'<text x="{lx + 14}" y="{top + 16 * j + 9}">{_e(split)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _words(label: str, words: list, cls: str) -> str:
    spans = "".join(f'<span class="w err">{_e(w.word)}</span> ' if w.error else f"{_e(w.word)} " for w in words)
    return f'<div class="words {cls}"><span class="label">{_e(label)}</span>{spans}</div>'


def _question(q: QuestionEntry, p: Passage, wave_id: str, systems: list[SystemColumn]) -> str:
    preds = [(c, q.predictions[c.key]) for c in systems]
    have = [c.key for c, s in preds if s.start is not None]
    correct = [c.key for c, s in preds if s.correct]
    asr_error = "" if q.asr_error is None else ("1" if q.asr_error else "0")
    attrs = (f'class="q" id="q-{_e(q.qid)}" data-qid="{_e(q.qid)}" data-asr-error="{asr_error}" '
             f'data-wer-bucket="{_e(q.wer_bucket or "")}" data-systems="{" ".join(have)}" '
             f'data-correct="{" ".join(correct)}"')
    out = [f"<article {attrs}>", f'<p class="question">Q: {_e(q.question)}</p>',
           f'<p class="answer">Reference: {_e(" | ".join(q.answers))}'
           + (f' — ASR error in the answer: {"yes" if q.asr_error else "no"}' if q.asr_error is not None else "")
           + (f", passage WER {_e(q.wer_bucket)} %" if q.wer_bucket else "") + "</p>"]
    height = WAVE_HEIGHT + ROW_GAP + len(systems) * (ROW_HEIGHT + ROW_GAP) + 16
    d = p.duration
    svg = [f'<svg class="spans" width="{PLOT_LEFT + PLOT_WIDTH + 10}" height="{height}" data-duration="{d:.3f}">',
           f'<use href="#{wave_id}" class="wave" x="{PLOT_LEFT}" y="0" width="{PLOT_WIDTH}" height="{WAVE_HEIGHT}"/>',
           f'<text x="0" y="{WAVE_HEIGHT / 2 + 4}">reference</text>']
    for s, e in q.ref_spans:
        svg.append(_rect("span ref", s, e, d, 0, WAVE_HEIGHT))
    y = WAVE_HEIGHT + ROW_GAP
    for c, span in preds:
        svg.append(f'<g class="sysrow" data-sys="{c.key}"><text x="0" y="{y + ROW_HEIGHT - 3}">{_e(c.label)}</text>')
        if span.start is not None and span.end is not None:
            state = "correct" if span.correct else "wrong"
            svg.append(_rect(f"span pred {state}", span.start, span.end, d, y, ROW_HEIGHT))
        svg.append("</g>")
        y += ROW_HEIGHT + ROW_GAP
    for k in range(int(d) + 1):
        if k % 5 == 0:
            x = time_to_x(k, d)
            svg.append(f'<line x1="{x}" x2="{x}" y1="{y}" y2="{y + 4}" stroke="#000"/>'
                       f'<text x="{x}" y="{y + 14}" text-anchor="middle">{k}s</text>')
    svg.append("</svg>")
    out += svg
    buttons = [f'<button type="button" class="play ref" data-start="{s:.3f}" data-end="{e:.3f}">▶ reference</button>'
               for s, e in q.ref_spans]
    for c, span in preds:
        if span.start is not None and span.end is not None:
            ff1 = "" if span.ff1 is None else f" (FF1 {span.ff1:.0f})"
            buttons.append(f'<button type="button" class="play pred" data-sys="{c.key}" data-start="{span.start:.3f}" '
                           f'data-end="{span.end:.3f}" title="{_e(span.words or "")}">▶ {_e(c.label)}{ff1}</button>')
    out.append('<div class="buttons">' + "".join(buttons) + "</div></article>")
    return "".join(out)


def _passage(p: Passage, index: int, questions: list[QuestionEntry], systems: list[SystemColumn]) -> str:
    wave_id = f"w{index}"  # the passage's waveform symbol, used by each of its questions
    tracks = json.dumps([[t.src, t.offset, t.duration] for t in p.tracks])
    out = [f'<section class="passage" id="p{index}" data-context="{_e(p.context_id)}" '
           f'data-duration="{p.duration:.3f}">',
           f"<h2>Passage {_e(p.context_id)} ({p.duration:.1f} s)</h2>",
           f'<svg width="0" height="0" style="position:absolute"><symbol id="{wave_id}" '
           f'viewBox="0 0 {len(p.envelope)} 100" preserveAspectRatio="none">'
           f'<path d="{envelope_path(p.envelope)}"/></symbol></svg>',
           _words("reference:", p.ref_words, "ref")]
    if p.asr_words is not None:
        out.append(_words("ASR:", p.asr_words, "asr"))
    out.append(f'<audio class="player" controls preload="none" src="{_e(p.tracks[0].src)}" '
               f'data-tracks="{_e(tracks)}"></audio>')
    out += [_question(q, p, wave_id, systems) for q in questions]
    out.append("</section>")
    return "".join(out)


def _select(id_: str, label: str, options: list[tuple[str, str]]) -> str:
    opts = "".join(f'<option value="{_e(v)}">{_e(t)}</option>' for v, t in options)
    return f'<label>{_e(label)} <select id="{id_}">{opts}</select></label> '


def render_page(data: ReportData) -> str:
    """The whole page as one string (CSS and script inline, no external resource)."""
    by_passage: dict[str, list[QuestionEntry]] = {}
    for q in data.questions:
        by_passage.setdefault(q.context_id, []).append(q)
    filters = [
        _select("f-system", "system", [("", "all")] + [(c.key, c.label) for c in data.systems]),
        _select("f-split", "split", [("", "all"), ("no_asr_error", "no ASR error in the answer"),
                                     ("asr_error", "ASR error in the answer")]),
        _select("f-wer", "passage WER (%)", [("", "all")] + [(b, b) for b in data.wer_buckets]),
        _select("f-outcome", "outcome", [("", "all"), ("correct", f"correct (FF1 ≥ {CORRECT_FF1:g})"),
                                         ("wrong", "wrong")]),
        f'<span><span id="shown-count">{len(data.questions)}</span> of {len(data.questions)} questions shown</span>']
    asr_note = f"ASR words: {_e(data.asr_text)}; " if data.asr_text else ""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Error analysis: {_e(data.data_set)}</title><style>{STYLE}</style></head><body>",
             f"<h1>Error analysis: {_e(data.data_set)}</h1>",
             '<section id="summary"><h2>Results</h2>', results_table(data.systems),
             "<p>FF1/AOS/EM/F1 ×100, mean ± half-width of the 95 % bootstrap interval where scored with one. "
             "Splits: whether the reference answer span holds ASR errors.</p>",
             ff1_chart(data.systems), "</section>",
             f"<p>{asr_note}words marked red are errors of the reference/ASR word alignment. "
             f"A prediction is drawn green when its FF1 ≥ {CORRECT_FF1:g}, red otherwise; the reference "
             "span is the shaded box over the waveform.</p>",
             '<div id="filters">' + "".join(filters) + "</div>", '<main id="passages">']
    for i, (cid, qs) in enumerate(by_passage.items()):
        parts.append(_passage(data.passages[cid], i, qs, data.systems))
    parts += ["</main>", f"<script>{SCRIPT}</script>", "</body></html>", ""]
    return "\n".join(parts)
