"""asr_transcribe: the CTC option on a hand-fixed model and on synthesized speech, the corpus
option, split jobs, bad options."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "decode"))
import answer_fixture as af  # noqa: E402

from speechbert.align.aligner import save_aligner  # noqa: E402
from speechbert.align.ctc_model import CTCModel, CTCModelConfig  # noqa: E402
from speechbert.align.forced import BoundaryRule  # noqa: E402
from speechbert.align.vocab import CharVocab  # noqa: E402
from speechbert.bin.asr_transcribe import main  # noqa: E402
from speechbert.io.ctm import read_ctm, validate_ctm  # noqa: E402
from speechbert.io.kaldi_table import read_table, write_table  # noqa: E402

VOCAB = CharVocab()


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


def _spelling_model(tmp_path: Path) -> Path:
    """A 1x1-conv model whose argmax at each frame is the token id in feature dim 0."""
    cfg = CTCModelConfig(input_dim=len(VOCAB), vocab_size=len(VOCAB), channels=len(VOCAB), kernel_size=1,
                         conv_layers=0, dropout=0.0)
    model = CTCModel(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.frontend.weight[:, :, 0] = 10 * torch.eye(len(VOCAB))
        model.norm.weight.fill_(1.0)
        model.output.weight.copy_(10 * torch.eye(len(VOCAB)))
    save_aligner(tmp_path / "model", model, VOCAB, 0.01, BoundaryRule(), cmvn=None)
    return tmp_path / "model"


def _one_hot(tokens: str) -> np.ndarray:
    ids = [VOCAB.index["<blank>" if c == "_" else c] for c in tokens]
    return np.eye(len(VOCAB), dtype=np.float32)[ids]


def test_ctc_greedy_hypotheses_ctm_and_wer_of_a_spelling_model(tmp_path):
    model = _spelling_model(tmp_path)
    data, dump = tmp_path / "data", tmp_path / "dump"
    data.mkdir()
    dump.mkdir()
    write_table(data / "text", {"u1": "hi you", "u2": "ok"})
    feats = {"u1": _one_hot("__|_hh_i_|__y_oo_u_|__"), "u2": _one_hot("____")}
    with kaldiio.WriteHelper(f"ark,scp:{dump}/feats.ark,{dump}/feats.scp") as w:
        for k, v in feats.items():
            w(k, v)
    out = tmp_path / "asr"
    assert main(["--asr", "ctc", "--model_dir", str(model), "--data", str(data), "--dump", str(dump),
                 "--out_dir", str(out)]) == 0
    # u2 has no recognised word, so no line in text (asr_transcribe's convention)
    hyps = read_table(out / "text", allow_empty_value=True)
    assert hyps == {"u1": "hi you"}
    ctm = read_ctm(out / "word.ctm")
    assert list(ctm) == ["u1"] and [e.word for e in ctm["u1"]] == ["hi", "you"]
    # start = end of the preceding "|"; end = end of the last letter
    assert [(e.start, round(e.end, 3)) for e in ctm["u1"]] == [(0.03, 0.08), (0.1, 0.18)]
    assert (out / "wer.txt").read_text().startswith(
        "WER 33.33% (1 errors / 3 words, 2 utterances, 1 without recognised words)")


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


def test_merge_refuses_an_unfinished_job_or_a_job_of_another_split(root, tmp_path, capsys):
    outs = []
    for job in (1, 2):
        d = tmp_path / f"split2/{job}"
        assert main(["--asr", "ctc", *common(root), "--nj", "2", "--job", str(job), "--out_dir", str(d)]) == 0
        outs.append(d)
    merge = ["--data", str(root / "data/test"), "--out_dir", str(tmp_path / "merged"), "--merge"]
    assert main([*merge, str(outs[1]), str(outs[0])]) == 1  # job order swapped: utterances in the wrong job
    assert "is not one ASR job 1 of 2 recognises" in capsys.readouterr().err
    assert main([*merge, str(outs[0])]) == 1  # a job 1 of 2 given as the only job
    assert "should have scored 2 utterances" in capsys.readouterr().err
    (outs[1] / "wer.txt").unlink()
    assert main([*merge, *map(str, outs)]) == 1
    assert "ASR job 2 of 2 did not finish (no wer.txt" in capsys.readouterr().err
    assert not (tmp_path / "merged").exists()


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


def test_help_names_the_aligner_experiment():
    from speechbert.bin.asr_transcribe import get_parser

    text = " ".join(get_parser().format_help().split())
    assert "exp/ctc_aligner" in text and "exp/align " not in text
