"""Aligner training, forced alignment, CTM import and steps/align.sh on a tiny synthesized corpus.

The corpus is six eSpeak NG sentences; the model is a 2-layer, 48-channel conv CTC trained for a
few seconds. Its word times are rough, so the assertions check structure (CTM = text, times
inside the audio, counted skips) rather than accuracy, which bench/align.py measures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch

from speechbert.audio.cmvn import compute_stats, write_stats
from speechbert.audio.features import FeatureConfig, FeatureExtractor
from speechbert.bin import align, align_train
from speechbert.io.ctm import read_ctm
from speechbert.io.kaldi_table import read_table, write_table

REPO = Path(__file__).resolve().parents[3]
SENTENCES = ["the red fox jumps over the lazy dog", "a small boat sails on the quiet lake",
             "she reads an old book every morning", "green hills rise behind the little town",
             "they built a stone bridge in spring", "the market opens early on monday"]


def _dump(feats: dict, dump: Path) -> None:
    dump.mkdir(parents=True, exist_ok=True)
    with kaldiio.WriteHelper(f"ark,scp:{dump / 'feats.ark'},{dump / 'feats.scp'}") as w:
        for utt in sorted(feats):
            w(utt, feats[utt])
    write_table(dump / "utt2num_frames", {u: str(len(f)) for u, f in feats.items()})
    (dump / "frame_shift").write_text("0.01\n")
    (dump / "feats_type").write_text("fbank 80\n")


def _data_dir(d: Path, text: dict, dur: dict, ctm_lines: list[str]) -> None:
    d.mkdir(parents=True, exist_ok=True)
    write_table(d / "text", text)
    write_table(d / "utt2dur", {u: f"{v:.3f}" for u, v in dur.items()})
    (d / "oracle.ctm").write_text("".join(sorted(ctm_lines)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """data/{train,test}, dump/{train,test} (+ cmvn) of synthesized speech with oracle times."""
    from speechbert.synth.tts import EspeakSynthesizer, Voice

    root = tmp_path_factory.mktemp("align_corpus")
    tts = EspeakSynthesizer()
    fx = FeatureExtractor(FeatureConfig())
    text, dur, feats, ctm = {}, {}, {}, []
    for i, s in enumerate(SENTENCES):
        utt = f"train-0000-0000-{i:03d}"
        r = tts.synthesize(s, Voice("en-us", rate=170 + 5 * i), seed=i)
        text[utt], dur[utt], feats[utt] = s, r.duration, fx(r.audio, utt)
        ctm += [f"{utt} 1 {w.start:.3f} {w.end - w.start:.3f} {w.word} 1.00\n" for w in r.words]
    _data_dir(root / "data/train", text, dur, ctm)
    _dump(feats, root / "dump/train")
    write_stats(root / "dump/train/cmvn.ark", compute_stats(feats.items()))
    # test: two good utterances, an empty transcript, and one far too long for its audio
    ttext = {u.replace("train", "test"): t for u, t in list(text.items())[:2]}
    tdur = {u.replace("train", "test"): d for u, d in list(dur.items())[:2]}
    tfeats = {u.replace("train", "test"): f for u, f in list(feats.items())[:2]}
    tctm = [line.replace("train", "test", 1) for line in ctm if line.split()[0] in
            {u.replace("test", "train") for u in ttext}]
    ttext["test-0000-0001-000"] = ""
    ttext["test-0000-0001-001"] = " ".join(SENTENCES)
    for utt, n in (("test-0000-0001-000", 100), ("test-0000-0001-001", 60)):
        tfeats[utt], tdur[utt] = feats["train-0000-0000-000"][:n], n / 100
    # text from another normalizer: an accent and a number the vocabulary lacks
    ttext["test-0000-0002-000"] = "the red fox jumps over the lazy dög 42"
    tfeats["test-0000-0002-000"] = feats["train-0000-0000-000"]
    tdur["test-0000-0002-000"] = dur["train-0000-0000-000"]
    (root / "data/test").mkdir(parents=True)
    with open(root / "data/test/text", "w") as f:
        for utt in sorted(ttext):
            f.write(f"{utt} {ttext[utt]}\n".replace(" \n", "\n"))
    write_table(root / "data/test/utt2dur", {u: f"{v:.3f}" for u, v in tdur.items()})
    (root / "data/test/oracle.ctm").write_text("".join(sorted(tctm)))
    _dump(tfeats, root / "dump/test")
    return root


@pytest.fixture(scope="module")
def model_dir(corpus):
    torch.set_num_threads(1)
    out = corpus / "exp/align_model"
    argv = ["--train_data", str(corpus / "data/train"), "--train_dump", str(corpus / "dump/train"),
            "--valid_data", str(corpus / "data/train"), "--valid_dump", str(corpus / "dump/train"),
            "--cmvn", str(corpus / "dump/train/cmvn.ark"), "--output_dir", str(out),
            "--channels", "48", "--conv_layers", "2", "--max_epoch", "6", "--batch_bins", "1200",
            "--lr", "0.003", "--num_workers", "0", "--tensorboard", "false", "--log_interval", "5",
            "--rule_utts", "6", "--rule_min_count", "5"]
    assert align_train.main(argv) == 0
    return out


def test_train_writes_a_self_contained_aligner_with_an_estimated_rule(model_dir):
    import yaml

    info = yaml.safe_load((model_dir / "aligner.yaml").read_text())
    assert info["model"]["channels"] == 48 and info["model"]["input_dim"] == 80
    assert info["frame_shift"] == 0.01 and info["feats_type"] == "fbank 80"
    assert info["tokens"][:3] == ["<blank>", "|", "'"]
    rule = info["boundary_rule"]
    assert rule["start_rule"] in ("boundary_end", "first_char_start")
    assert rule["start_offset"] != 0.0 and abs(rule["start_offset"]) < 0.5
    # only first letters seen >= 5 times get their own offset: "t" (7 words) but not "e" (2)
    assert "t" in rule["start_offsets"] and "e" not in rule["start_offsets"]
    assert (model_dir / "aligner.pt").is_file() and (model_dir / "cmvn.ark").is_file()
    assert (model_dir / "config.yaml").is_file() and (model_dir / "model.avg.pt").is_file()


def test_align_writes_text_words_and_counts_skips(corpus, model_dir, tmp_path, capsys):
    out, skipped = tmp_path / "word.ctm", tmp_path / "skipped"
    assert align.main(["--model_dir", str(model_dir), "--data", str(corpus / "data/test"),
                       "--dump", str(corpus / "dump/test"), "--out_ctm", str(out),
                       "--skipped_out", str(skipped)]) == 0
    ctm = read_ctm(out)
    text = read_table(corpus / "data/test/text", allow_empty_value=True)
    dur = read_table(corpus / "data/test/utt2dur")
    assert sorted(ctm) == ["test-0000-0000-000", "test-0000-0000-001", "test-0000-0002-000"]
    # "dög" aligns as "dog"; "42" has no letter: a zero-length slot after "dög", confidence 0
    dog, num = ctm["test-0000-0002-000"][-2:]
    assert (num.word, num.dur, num.conf, num.start) == ("42", 0.0, 0.0, round(dog.end, 3))
    log = capsys.readouterr().err
    assert "test-0000-0002-000: ignored characters outside the aligner's vocabulary: 2 4" in log
    assert "1 utterances had characters outside the vocabulary, ignored: '4'x1 '2'x1" in log
    for utt, entries in ctm.items():
        assert [e.word for e in entries] == text[utt].split()
        assert all(0 <= e.start <= e.end <= float(dur[utt]) + 1e-3 for e in entries)
        assert all(a.end <= b.start + 1e-3 for a, b in zip(entries, entries[1:]))
        assert all(0 <= e.conf <= 1 for e in entries)
    reasons = dict(line.split()[:2] for line in skipped.read_text().splitlines())
    assert reasons == {"test-0000-0001-000": "empty", "test-0000-0001-001": "too_short"}


def test_align_jobs_split_the_utterances(corpus, model_dir, tmp_path):
    parts = []
    for job in (1, 2):
        out = tmp_path / f"word.{job}.ctm"
        assert align.main(["--model_dir", str(model_dir), "--data", str(corpus / "data/test"),
                           "--dump", str(corpus / "dump/test"), "--out_ctm", str(out),
                           "--nj", "2", "--job", str(job)]) == 0
        parts.append(set(read_ctm(out)))
    assert parts == [{"test-0000-0000-000", "test-0000-0000-001"}, {"test-0000-0002-000"}]


def test_oracle_and_external_ctm_are_validated_and_normalized(corpus, tmp_path):
    out = tmp_path / "oracle.ctm"
    assert align.main(["--alignment", "oracle", "--data", str(corpus / "data/test"),
                       "--out_ctm", str(out)]) == 0
    assert read_ctm(out).keys() == read_ctm(corpus / "data/test/oracle.ctm").keys()
    # an MFA-style CTM: upper case, silences, no confidence
    lines = ["test-0000-0000-000 A 0.00 0.05 <eps>"]
    for e in read_ctm(corpus / "data/test/oracle.ctm")["test-0000-0000-000"]:
        lines.append(f"test-0000-0000-000 A {e.start:.2f} {e.dur:.2f} {e.word.upper()}")
    mfa = tmp_path / "mfa.ctm"
    mfa.write_text("\n".join(lines) + "\n")
    assert align.main(["--alignment", "ctm", "--ctm", str(mfa), "--data", str(corpus / "data/test"),
                       "--out_ctm", str(out)]) == 0
    entries = read_ctm(out)["test-0000-0000-000"]
    assert [e.word for e in entries] == SENTENCES[0].split() and entries[0].conf == 1.0


@pytest.mark.parametrize("line, msg", [
    ("test-9999-0000-000 1 0.0 0.1 the", "not in the data directory's text"),
    ("test-0000-0000-000 1 -0.5 0.1 the", "negative start time"),
    ("test-0000-0000-000 1 0.0 0.5 the\ntest-0000-0000-000 1 0.2 0.1 red", "overlapping times"),
    ("test-0000-0000-000 1 0.0 0.1 a", "do not match text"),
])
def test_bad_external_ctm_is_a_clear_error_and_writes_nothing(corpus, tmp_path, capsys, line, msg):
    bad, out = tmp_path / "bad.ctm", tmp_path / "out.ctm"
    bad.write_text(line + "\n")
    out.write_text("previous\n")
    assert align.main(["--alignment", "ctm", "--ctm", str(bad), "--data", str(corpus / "data/test"),
                       "--out_ctm", str(out)]) == 1
    err = capsys.readouterr().err
    assert msg in err and "bad.ctm:" in err
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_ctc_alignment_needs_a_model(corpus, tmp_path, capsys):
    assert align.main(["--data", str(corpus / "data/test"), "--out_ctm", str(tmp_path / "x")]) == 1
    assert "needs --model_dir and --dump" in capsys.readouterr().err
    assert align.main(["--data", str(corpus / "data/test"), "--out_ctm", str(tmp_path / "x"),
                       "--model_dir", str(tmp_path), "--dump", str(corpus / "dump/test")]) == 1
    assert "not an aligner model directory" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl for utils/run.pl")
def test_steps_align_sh_merges_jobs(corpus, model_dir, tmp_path):
    import sys

    adir = tmp_path / "exp/align/test"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(["steps/align.sh", "--nj", "3", "--python", sys.executable,
                           str(corpus / "data/test"), str(corpus / "dump/test"), str(model_dir), str(adir)],
                          cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ctm = read_ctm(adir / "word.ctm")
    assert sorted(ctm) == ["test-0000-0000-000", "test-0000-0000-001", "test-0000-0002-000"]
    assert sorted(line.split()[1] for line in (adir / "skipped").read_text().splitlines()) == ["empty", "too_short"]
    assert "2 of 5 utterances could not be aligned (1 empty, 1 too_short)" in proc.stderr
    assert not list(adir.glob("word.*.ctm")) and not list(adir.glob("split*"))
    assert len(list((adir / "log").glob("align.*.log"))) == 3


def test_steps_align_sh_usage_and_missing_model(corpus, tmp_path):
    proc = subprocess.run(["steps/align.sh", "data/test"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 1 and "Usage:" in proc.stderr
    proc = subprocess.run(["steps/align.sh", str(corpus / "data/test"), str(corpus / "dump/test"),
                           str(tmp_path / "none"), str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 1 and "no such file" in proc.stderr and "aligner.yaml" in proc.stderr


def test_features_of_another_type_name_both_types_and_configs(corpus, model_dir, tmp_path, capsys):
    """MFCC features with an aligner trained on fbank: one error naming both, not a dimension clash."""
    import shutil

    dump = tmp_path / "dump_mfcc"
    shutil.copytree(corpus / "dump/test", dump)
    (dump / "feats_type").write_text("mfcc 39\n")
    (dump / "conf").mkdir(exist_ok=True)
    (dump / "conf" / "mfcc.yaml").write_text("feats_type: mfcc\n")
    out = tmp_path / "word.ctm"
    assert align.main(["--model_dir", str(model_dir), "--data", str(corpus / "data/test"), "--dump", str(dump),
                       "--out_ctm", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{dump} has 'mfcc 39' features (made with mfcc.yaml) but the aligner {model_dir} was trained on " \
           "'fbank 80' features" in err
    assert "retrain the aligner (stage 3)" in err and not out.exists()


def test_nan_features_are_an_error_naming_the_utterance(corpus, model_dir, tmp_path, capsys):
    """Not an IndexError from inside the CTC alignment whose index changes between runs."""
    import kaldiio

    feats = dict(kaldiio.load_scp(str(corpus / "dump/test/feats.scp")))
    utt = sorted(feats)[0]
    feats[utt] = feats[utt].copy()
    feats[utt][3, 5] = np.nan
    dump = tmp_path / "dump"
    _dump(feats, dump)
    out = tmp_path / "word.ctm"
    assert align.main(["--model_dir", str(model_dir), "--data", str(corpus / "data/test"), "--dump", str(dump),
                       "--out_ctm", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"feats.scp ({utt}): features contain NaN/Inf in 1 of" in err and not out.exists()
