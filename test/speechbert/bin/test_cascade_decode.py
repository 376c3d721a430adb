"""cascade_decode with a one-step text QA model: ASR words and times, the reference upper bound."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "decode"))
import answer_fixture as af  # noqa: E402

from speechbert.bin.cascade_decode import main  # noqa: E402
from speechbert.io.kaldi_table import read_table  # noqa: E402
from speechbert.io.sqa_data import read_contexts  # noqa: E402


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    torch.set_num_threads(1)
    root = af.make_corpus(tmp_path_factory.mktemp("cascade"), n_train=6, n_test=3)
    return root, af.train_qa_exp(root, root / "exp" / "finetune_text", "text")


def make_asr_dir(root: Path) -> Path:
    """An 'ASR' transcript: the reference with every 'the' misrecognised as 'a', same times."""
    d = root / "exp/asr_x/test"
    d.mkdir(parents=True, exist_ok=True)
    text = read_table(root / "data/test/text")
    (d / "text").write_text("".join(f"{u} {' '.join('a' if w == 'the' else w for w in v.split())}\n"
                                    for u, v in text.items()))
    ctm = (root / "exp/align/test/word.ctm").read_text().splitlines()
    (d / "word.ctm").write_text("".join(" ".join("a" if k == 4 and f == "the" else f
                                                 for k, f in enumerate(line.split())) + "\n" for line in ctm))
    return d


def test_cascade_reads_the_asr_words(setup, tmp_path):
    root, exp = setup
    asr = make_asr_dir(root)
    out = tmp_path / "p.jsonl"
    assert main(["--model_dir", str(exp), "--data", str(root / "data/test"), "--asr_dir", str(asr),
                 "--out", str(out), "--nbest", "2"]) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recs) == 3
    asr_text = read_table(asr / "text")
    contexts = read_contexts(root / "data/test/contexts")
    for r in recs:
        words = " ".join(asr_text[u] for u in contexts[r["context_id"]]).split()
        i, j = r["word_span"]
        assert r["word_source"] == "asr" and r["words"] == " ".join(words[i:j + 1])
        assert "the" not in r["words"].split()
        assert 0 <= r["start"] <= r["end"]


def test_reference_text_upper_bound(setup, tmp_path):
    root, exp = setup
    out = tmp_path / "ref.jsonl"
    assert main(["--model_dir", str(exp), "--data", str(root / "data/test"), "--reference_text",
                 "--ctm", str(root / "exp/align/test/word.ctm"), "--out", str(out)]) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recs) == 3 and all(r["word_source"] == "reference" for r in recs)


def test_split_jobs_merge_to_the_bytes_of_one_job(setup, tmp_path):
    from speechbert.bin.merge_predictions import main as merge

    root, exp = setup
    base = ["--model_dir", str(exp), "--data", str(root / "data/test"), "--asr_dir", str(make_asr_dir(root)),
            "--batch_size", "1"]
    assert main([*base, "--out", str(tmp_path / "full.jsonl")]) == 0
    split = tmp_path / "split2"
    for job in (1, 2):
        assert main([*base, "--out", str(split / f"predictions.{job}.jsonl"), "--nj", "2", "--job", str(job),
                     "--job_record", str(split / f"job.{job}.json")]) == 0
    assert merge(["--split_dir", str(split), "--nj", "2", "--out", str(tmp_path / "merged.jsonl")]) == 0
    assert (tmp_path / "merged.jsonl").read_bytes() == (tmp_path / "full.jsonl").read_bytes()
    assert all((split / f"predictions.{job}.jsonl").stat().st_size > 0 for job in (1, 2))


def test_bad_options(setup, tmp_path, capsys):
    root, exp = setup
    base = ["--model_dir", str(exp), "--data", str(root / "data/test"), "--out", str(tmp_path / "p.jsonl")]
    assert main(base) == 1
    assert "--asr_dir is required" in capsys.readouterr().err
    assert main([*base, "--reference_text"]) == 1
    assert "needs --ctm" in capsys.readouterr().err
    empty = tmp_path / "asr"
    empty.mkdir()
    assert main([*base, "--asr_dir", str(empty)]) == 1
    assert "no such file" in capsys.readouterr().err
    audio_exp = tmp_path / "audio_exp"
    shutil.copytree(exp, audio_exp)
    cfg = audio_exp / "config.yaml"
    cfg.write_text(cfg.read_text().replace("input_modality: text", "input_modality: audio"))
    assert main([*base[:1], str(audio_exp), *base[2:], "--asr_dir", str(make_asr_dir(root))]) == 1
    assert "needs one with text input (decode it with speechbert.bin.sqa_decode)" in capsys.readouterr().err
    assert not (tmp_path / "p.jsonl").exists()
