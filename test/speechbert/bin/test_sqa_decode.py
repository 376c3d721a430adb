"""sqa_decode with a one-step fine-tuned model on the structured corpus: well-formed predictions
whose times are the CTM times of their word spans; job splits; bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "decode"))
import answer_fixture as af  # noqa: E402

from speechbert.bin.sqa_decode import main  # noqa: E402
from speechbert.io.ctm import read_ctm  # noqa: E402
from speechbert.io.kaldi_table import read_table  # noqa: E402
from speechbert.io.sqa_data import read_contexts, read_questions  # noqa: E402


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    torch.set_num_threads(1)
    root = af.make_corpus(tmp_path_factory.mktemp("sqa_decode"), n_train=6, n_test=4)
    return root, af.train_qa_exp(root, root / "exp" / "finetune", "audio")


def args(root: Path, exp: Path, out: Path, *extra: str) -> list[str]:
    return ["--model_dir", str(exp), "--data", str(root / "data/test"), "--dump", str(root / "dump/test"),
            "--ctm", str(root / "exp/align/test/word.ctm"), "--cmvn", str(root / "dump/train/cmvn.ark"),
            "--out", str(out), *extra]


def passage_word_times(root: Path) -> dict[str, list[tuple[str, float, float]]]:
    """Every passage's words with passage times, computed from the data files directly."""
    data = root / "data/test"
    durs = {u: float(v) for u, v in read_table(data / "utt2dur").items()}
    ctm = read_ctm(root / "exp/align/test/word.ctm")
    out = {}
    for cid, utts in read_contexts(data / "contexts").items():
        t, words = 0.0, []
        for u in utts:
            words += [(e.word, t + e.start, t + e.end) for e in ctm[u]]
            t += durs[u]
        out[cid] = words
    return out


def test_predictions_are_word_spans_timed_by_the_ctm(setup, tmp_path):
    root, exp = setup
    out = tmp_path / "predictions.jsonl"
    assert main(args(root, exp, out, "--nbest", "3", "--max_answer_len", "4")) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    questions = read_questions(root / "data/test/questions.jsonl")
    assert [r["id"] for r in recs] == [q["id"] for q in questions]
    words = passage_word_times(root)
    for r in recs:
        assert r["word_source"] == "reference"
        assert 1 <= len(r["nbest"]) <= 3
        assert [e["score"] for e in r["nbest"]] == sorted((e["score"] for e in r["nbest"]), reverse=True)
        assert r["nbest"][0]["word_span"] == r["word_span"]
        for e in r["nbest"]:
            i, j = e["word_span"]
            assert 0 <= i <= j < len(words[r["context_id"]]) and j - i < 4
            w = words[r["context_id"]]
            assert e["words"] == " ".join(x[0] for x in w[i:j + 1])
            assert e["start"] == pytest.approx(w[i][1], abs=1.5e-3)
            assert e["end"] == pytest.approx(w[j][2], abs=1.5e-3)


def test_jobs_cover_the_questions_once(setup, tmp_path):
    root, exp = setup
    full = tmp_path / "full.jsonl"
    assert main(args(root, exp, full)) == 0
    parts = []
    for job in (1, 2):
        p = tmp_path / f"p.{job}.jsonl"
        assert main(args(root, exp, p, "--nj", "2", "--job", str(job))) == 0
        parts += p.read_text().splitlines()
    assert sorted(parts) == sorted(full.read_text().splitlines())


def test_bad_input(setup, tmp_path, capsys):
    root, exp = setup
    out = tmp_path / "p.jsonl"
    assert main(args(root, tmp_path / "missing", out)) == 1
    assert "no such model directory" in capsys.readouterr().err
    assert main(args(root, exp, out, "--model_file", "snapshot.ep.9")) == 1
    assert "no such model file" in capsys.readouterr().err
    assert main(args(root, exp, out, "--ngpu", "2")) == 1
    assert not out.exists()
