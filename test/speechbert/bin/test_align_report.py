"""speechbert.bin.align_report: the markdown and JSON accuracy report."""

import json

from speechbert.bin import align_report


def test_report_files(tmp_path):
    ref = tmp_path / "oracle.ctm"
    ref.write_text("u1 1 0.100 0.200 a 1.00\nu1 1 0.300 0.300 b 1.00\nu2 1 0.000 0.500 c 1.00\n")
    hyp = tmp_path / "word.ctm"
    hyp.write_text("u1 1 0.115 0.185 a 0.9\nu1 1 0.340 0.260 b 0.8\n")
    out = tmp_path / "align" / "report.md"
    assert align_report.main(["--ctm", str(hyp), "--ref_ctm", str(ref), "--out", str(out)]) == 0
    md = out.read_text()
    assert "| word start | 2 | 27.5 | 27.5 | 0.0 | 50.0 | 100.0 |" in md
    assert "missing from the CTM: 1 (33.3%)" in md
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["starts"]["within_20ms"] == 50.0 and data["ends"]["within_10ms"] == 100.0
    assert data["missing_utts"] == 1


def test_bad_reference_is_an_error(tmp_path, capsys):
    ref = tmp_path / "oracle.ctm"
    ref.write_text("u1 1 0.1\n")
    assert align_report.main(["--ctm", str(ref), "--ref_ctm", str(ref), "--out", str(tmp_path / "r.md")]) == 1
    assert "oracle.ctm:1" in capsys.readouterr().err
    assert not (tmp_path / "r.md").exists()


def test_plots_beside_the_report_with_audio_from_the_reference_data_dir(tmp_path):
    import numpy as np
    import soundfile

    data = tmp_path / "data"
    data.mkdir()
    t = np.arange(8000) / 16000
    soundfile.write(data / "u1.wav", (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), 16000,
                    subtype="PCM_16")
    (data / "wav.scp").write_text(f"u1 {data / 'u1.wav'}\n")
    ref = data / "oracle.ctm"
    ref.write_text("u1 1 0.100 0.100 a 1.00\nu1 1 0.250 0.150 b 1.00\n")
    hyp = tmp_path / "word.ctm"
    hyp.write_text("u1 1 0.110 0.090 a 0.9\nu1 1 0.240 0.160 b 0.8\n")
    out = tmp_path / "align" / "report.md"
    assert align_report.main(["--ctm", str(hyp), "--ref_ctm", str(ref), "--out", str(out)]) == 0
    plots = sorted(p.name for p in (tmp_path / "align" / "plots").iterdir())
    assert plots == ["example_utterance.png", "example_utterance.svg", "start_errors.png", "start_errors.svg"]
    md = out.read_text()
    assert "![Word boundaries of u1](plots/example_utterance.png)" in md
    # --plots false: the report as before, no plots directory
    out2 = tmp_path / "plain" / "report.md"
    assert align_report.main(["--ctm", str(hyp), "--ref_ctm", str(ref), "--out", str(out2), "--plots", "false"]) == 0
    assert "## Plots" not in out2.read_text() and not (tmp_path / "plain" / "plots").exists()


def test_missing_wav_scp_given_is_an_error(tmp_path, capsys):
    ref = tmp_path / "oracle.ctm"
    ref.write_text("u1 1 0.100 0.200 a 1.00\n")
    assert align_report.main(["--ctm", str(ref), "--ref_ctm", str(ref), "--out", str(tmp_path / "r.md"),
                              "--wav_scp", str(tmp_path / "nope.scp")]) == 1
    assert "nope.scp: no such file" in capsys.readouterr().err
