"""sqa_decode with a one-step fine-tuned model on the structured corpus: well-formed predictions
whose times are the CTM times of their word spans; job splits; bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


def test_split_jobs_merge_to_the_bytes_of_one_job(setup, tmp_path):
    from speechbert.bin.merge_predictions import main as merge

    root, exp = setup
    # batches of 2 windows, so that the 3 jobs' shares cut passages and the last-bit sensitivity
    # to the batch a window is computed in would show
    full = tmp_path / "full.jsonl"
    assert main(args(root, exp, full, "--batch_size", "2")) == 0
    split = tmp_path / "split3"
    owned = []
    for job in (1, 2, 3):
        assert main(args(root, exp, split / f"predictions.{job}.jsonl", "--batch_size", "2", "--nj", "3",
                         "--job", str(job), "--job_record", str(split / f"job.{job}.json"))) == 0
        owned.append(json.loads((split / f"job.{job}.json").read_text())["ids"])
    assert sum(1 for ids in owned if ids) >= 2  # the work really was split
    merged = tmp_path / "predictions.jsonl"
    assert merge(["--split_dir", str(split), "--nj", "3", "--out", str(merged)]) == 0
    assert merged.read_bytes() == full.read_bytes()
    # an unfinished job is named
    (split / "predictions.2.jsonl").unlink()
    assert merge(["--split_dir", str(split), "--nj", "3", "--out", str(tmp_path / "x.jsonl")]) == 1
    assert not (tmp_path / "x.jsonl").exists()


def _recipe_dir(root: Path, exp: Path, tmp: Path) -> Path:
    """A recipe directory (egs/c/sqa1 layout, the real sqa.sh) holding the fixture's stage 1-7 outputs."""
    repo = Path(__file__).resolve().parents[3]
    top = tmp / "root"
    recipe = top / "egs/c/sqa1"
    (recipe / "local").mkdir(parents=True)
    (top / "tools").mkdir()
    (top / "tools/activate_python.sh").write_text("")
    for name in ("utils", "steps"):
        (top / name).symlink_to(repo / name)
        (recipe / name).symlink_to(Path("../../..") / name)
    for name in ("sqa.sh", "path.sh", "cmd.sh"):
        (recipe / name).symlink_to(repo / "egs/TEMPLATE/sqa1" / name)
    (recipe / "local/data.sh").write_text("#!/usr/bin/env bash\nexit 0\n")
    (recipe / "data").symlink_to(root / "data")
    (recipe / "dump").mkdir()
    (recipe / "dump/fbank").symlink_to(root / "dump")  # sqa.sh's dump/<feature config>/<set>
    (recipe / "exp/asr_ctc/test").mkdir(parents=True)
    (recipe / "exp/asr_ctc/test/text").write_text((root / "data/test/text").read_text())
    (recipe / "exp/align").symlink_to(root / "exp/align")
    shutil.copytree(exp, recipe / "exp/finetune")
    return recipe


@pytest.mark.slow
def test_sqa_sh_stage_8_in_3_jobs_writes_the_bytes_of_1_job(setup, tmp_path):
    root, exp = setup
    recipe = _recipe_dir(root, exp, tmp_path)
    out = recipe / "exp/finetune/decode_test"
    env = {k: v for k, v in os.environ.items() if k != "cmd_backend"}
    run = subprocess.run(["./sqa.sh", "--python", sys.executable, "--bert_dir", "unused", "--stage", "8",
                          "--stop_stage", "8", "--valid_set", "test", "--test_sets", "", "--inference_nj", "3",
                          "--decode_args", "--batch_size 2"],
                         cwd=recipe, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "running 3 decode jobs" in run.stderr
    assert sorted(p.name for p in (out / "log").iterdir()) == ["decode.1.log", "decode.2.log", "decode.3.log"]
    assert not list(out.glob("split*"))  # the parts are removed once merged
    # one job (the tool itself, as sqa.sh's inference_nj=1 runs it) writes the same bytes
    single = tmp_path / "single.jsonl"
    assert main(args(root, exp, single, "--batch_size", "2")) == 0
    assert (out / "predictions.jsonl").read_bytes() == single.read_bytes()
    assert json.loads((out / "result.json").read_text())  # and stage 8 scored them
    timing = (recipe / "exp/timing.md").read_text()
    assert timing.count("## ") == 1 and "| 8 | end-to-end decoding + scoring, baselines |" in timing


def test_bad_input(setup, tmp_path, capsys):
    root, exp = setup
    out = tmp_path / "p.jsonl"
    assert main(args(root, tmp_path / "missing", out)) == 1
    assert "no such model directory" in capsys.readouterr().err
    assert main(args(root, exp, out, "--model_file", "snapshot.ep.9")) == 1
    assert "no such model file" in capsys.readouterr().err
    assert main(args(root, exp, out, "--ngpu", "2")) == 1
    assert not out.exists()
