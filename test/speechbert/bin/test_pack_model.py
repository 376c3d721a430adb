"""pack_model's command line: its errors are one line naming what is wrong. (Packing a trained
model and answering from the archive in a fresh directory, issue 14's "done when", is in
test_answer.py, which already has a trained model; the writer itself is tested in
test/speechbert/pack/.)"""

from __future__ import annotations

from speechbert.bin.pack_model import get_parser, main


def test_pack_model_errors_are_one_line(tmp_path, capsys):
    assert main(["--exp_dir", str(tmp_path / "none"), "--out", str(tmp_path / "m.zip")]) == 1
    assert "no such experiment directory" in capsys.readouterr().err
    assert main(["--exp_dir", str(tmp_path), "--out", str(tmp_path / "m.zip")]) == 1
    assert "no config.yaml" in capsys.readouterr().err
    (tmp_path / "config.yaml").write_text("input_modality: text\n")
    assert main(["--exp_dir", str(tmp_path), "--out", str(tmp_path / "m.zip")]) == 1
    assert "must be an end-to-end (audio) model" in capsys.readouterr().err
    assert main(["--exp_dir", str(tmp_path), "--out", str(tmp_path / "no" / "m.zip")]) == 1
    assert "the directory" in capsys.readouterr().err and not (tmp_path / "no").exists()
    assert not (tmp_path / "m.zip").exists()


def test_help_names_the_answer_tool_and_the_default_aligner():
    text = " ".join(get_parser().format_help().split())
    assert "<exp_dir>/../ctc_aligner" in text and "--results" in text
