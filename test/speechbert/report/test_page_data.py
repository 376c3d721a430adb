"""page_data: systems, spans, splits, marked words and audio tracks of the tiny recipe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile

from report_fixture import DURS, build_tiny_recipe
from speechbert.errors import DataError
from speechbert.report.page_data import collect_report_data, mark_errors, select_results


def test_collect_report_data(tmp_path: Path) -> None:
    r = build_tiny_recipe(tmp_path)
    data = collect_report_data(r.exp, r.data, tmp_path / "out" / "index.html", bins=50)
    assert data.data_set == "test"
    assert [c.label for c in data.systems] == ["cascade-ctc", "end-to-end"]
    assert data.asr_text == tmp_path / "exp" / "asr_ctc" / "test" / "text"
    assert data.wer_buckets == ["(0,10]", "(10,20]"]
    assert [q.qid for q in data.questions] == ["q1", "q2", "q3"]
    q1, q2, q3 = data.questions
    casc, e2e = (c.key for c in data.systems)
    assert q1.ref_spans == [(0.5, 0.75)] and q1.asr_error is True and q1.wer_bucket == "(10,20]"
    assert (q1.predictions[e2e].start, q1.predictions[e2e].end, q1.predictions[e2e].correct) == (0.5, 0.75, True)
    assert (q2.predictions[casc].start, q2.predictions[casc].correct) == (1.25, True)
    assert not q2.predictions[e2e].correct
    assert q3.predictions[casc].start is None and q3.predictions[e2e].ff1 == 80.0
    c1 = data.passages["c1"]
    assert c1.duration == pytest.approx(2.5) and len(c1.envelope) == 50
    # The first quarter of each tone is quiet: bin 0 well below the loudest bin.
    assert c1.envelope[0] < 0.2 and c1.envelope.max() == 1.0
    assert [(t.src, t.offset, t.duration) for t in c1.tracks] == [
        ("../db/wav/c1-u1.wav", 0.0, 1.0), ("../db/wav/c1-u2.wav", 1.0, 1.5)]
    assert [w.word for w in c1.ref_words if w.error] == ["red"]
    assert [w.word for w in c1.asr_words or [] if w.error] == ["rad"]
    assert [w.word for w in data.passages["c2"].asr_words or [] if w.error] == ["now"]


def test_embed_audio_writes_one_wav_per_passage(tmp_path: Path) -> None:
    r = build_tiny_recipe(tmp_path)
    data = collect_report_data(r.exp, r.data, tmp_path / "out" / "index.html", embed_audio=True,
                               systems=["end-to-end"])
    assert [c.label for c in data.systems] == ["end-to-end"]
    assert [(t.src, t.offset) for t in data.passages["c1"].tracks] == [("audio/c1.wav", 0.0)]
    info = soundfile.info(str(tmp_path / "out" / "audio" / "c1.wav"))
    assert info.frames == int((DURS["c1-u1"] + DURS["c1-u2"]) * info.samplerate)


def test_pipe_audio_is_written_next_to_the_page(tmp_path: Path) -> None:
    r = build_tiny_recipe(tmp_path)
    scp = r.data / "wav.scp"
    scp.write_text("".join(f"{u} cat {r.wavs / (u + '.wav')} |\n" for u in sorted(DURS)), encoding="utf-8")
    data = collect_report_data(r.exp, r.data, tmp_path / "out" / "index.html")
    assert data.passages["c2"].tracks[0].src == "audio/c2.wav"


def test_mark_errors() -> None:
    ref, hyp = mark_errors([["a", "b", "c"], ["d"]], [["a", "c", "x"], []])
    assert [(w.word, w.error) for w in ref] == [("a", False), ("b", True), ("c", False), ("d", True)]
    assert [(w.word, w.error) for w in hyp] == [("a", False), ("c", False), ("x", True)]


def test_errors_name_the_file(tmp_path: Path) -> None:
    r = build_tiny_recipe(tmp_path)
    with pytest.raises(DataError, match="no result on data set 'test' for system"):
        select_results(r.exp, "test", ["nope"])
    with pytest.raises(DataError, match="data set 'dev'"):
        select_results(r.exp, "dev")
    bad = r.exp / "finetune" / "decode_test" / "predictions.jsonl"
    bad.write_text(json.dumps({"id": "q1", "start": 2.0, "end": 1.0}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"predictions.jsonl:1 \(q1\)"):
        collect_report_data(r.exp, r.data, tmp_path / "out" / "index.html")
