"""asr_transcribe: the CTC and corpus options on synthesized speech, split jobs, bad options."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "decode"))
import answer_fixture as af  # noqa: E402

from speechbert.bin.asr_transcribe import main  # noqa: E402
from speechbert.io.ctm import read_ctm, validate_ctm  # noqa: E402
from speechbert.io.kaldi_table import read_table  # noqa: E402


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    return af.make_synth_set(tmp_path_factory.mktemp("asr_cli"))


def common(root: Path, data: Path | None = None) -> list[str]:
    return ["--data", str(data or root / "data/test"), "--dump", str(root / "dump/test"), "--cmvn",
            str(root / "dump/test/cmvn.ark"), "--model_dir", str(root / "exp/align")]


def check_outputs(out: Path) -> dict[str, str]:
    text = read_table(out / "text")
    ctm = validate_ctm(read_ctm(out / "word.ctm"), text, out / "word.ctm")
    durs = {u: float(d) for u, d in read_table(out.parents[2] / "data/test/utt2dur").items()} \
        if (out.parents[2] / "data/test/utt2dur").is_file() else {}
    for utt, entries in ctm.items():
        assert [e.word for e in entries] == text[utt].split()
        if utt in durs:
            assert entries[-1].end <= durs[utt] + 0.002
    assert (out / "wer.txt").read_text().startswith("WER ")
    return text


def test_ctc_asr_writes_a_transcript_its_times_and_the_wer(root):
    out = root / "exp/asr_ctc/test"
    assert main(["--asr", "ctc", *common(root), "--out_dir", str(out)]) == 0
    text = check_outputs(out)
    assert set(text) == {"utt1", "utt2"}
    assert all(set(v.split()) == {"a"} for v in text.values())  # the energy aligner hears "a"s
    assert "2 utterances" in (out / "wer.txt").read_text()


def test_split_jobs_merge_to_the_single_run(root):
    outs = []
    for job in (1, 2):
        d = root / f"exp/asr_ctc/split2/{job}"
        assert main(["--asr", "ctc", *common(root), "--nj", "2", "--job", str(job), "--out_dir", str(d)]) == 0
        outs.append(str(d))
        assert len(read_table(d / "text")) == 1
    merged = root / "exp/asr_ctc/merged"
    assert main(["--data", str(root / "data/test"), "--out_dir", str(merged), "--merge", *outs]) == 0
    single = root / "exp/asr_ctc/single"
    assert main(["--asr", "ctc", *common(root), "--out_dir", str(single)]) == 0
    for name in ("text", "word.ctm", "wer.txt"):
        assert (merged / name).read_text() == (single / name).read_text()


def test_corpus_asr_times_the_corpus_transcript(root, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(root / "data/test", data)
    (data / "text.asr").write_text("utt1 John liked red\nutt2 the cat sat near a river\n")
    out = tmp_path / "asr"
    assert main(["--asr", "corpus", *common(root, data), "--out_dir", str(out)]) == 0
    text = read_table(out / "text")
    assert text == {"utt1": "john liked red", "utt2": "the cat sat near a river"}
    ctm = validate_ctm(read_ctm(out / "word.ctm"), text, out / "word.ctm")
    assert set(ctm) == {"utt1", "utt2"}
    # 2 substitutions in 9 reference words
    assert (out / "wer.txt").read_text().startswith("WER 22.22% (2 errors / 9 words")


def test_bad_options_fail_with_one_line(root, tmp_path, capsys):
    assert main(["--asr", "ctc", "--data", str(root / "data/test"), "--out_dir", str(tmp_path / "x")]) == 1
    assert "needs the trained aligner" in capsys.readouterr().err
    assert main(["--data", str(root / "data/test"), "--out_dir", str(tmp_path / "x")]) == 1
    assert "--asr is required" in capsys.readouterr().err
    assert main(["--asr", "corpus", *common(root), "--out_dir", str(tmp_path / "x")]) == 1
    assert "text.asr" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
