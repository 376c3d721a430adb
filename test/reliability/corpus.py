"""The small valid input every catalogue case starts from, built afresh in each test's tmp_path.

Layout (``build(root)``; ``root`` is also a recipe directory ``<tmp>/egs/c/sqa1``, so the recipe
stages run in it with relative paths, as ``./run.sh`` does):

    data/test/{wav.scp,text,utt2spk,spk2utt,utt2dur,contexts,questions.jsonl} + data/test/wav/*.wav
    dump/fbank/test/{feats.scp,feats.ark,utt2num_frames,frame_shift,feats_type,cmvn.ark}
                                           the recipe's dump of conf/fbank.yaml (dump/<tag>/<set>)
    dump/test -> fbank/test                the short name the tools' cases use
    exp/align/test/word.ctm                exact word times (the structured corpus's)
    exp/e2e/decode_test/predictions.jsonl  one valid prediction per question (with an n-best list)
    exp/cascade/decode_test/predictions.jsonl
    exp/avg/snapshot.ep.{1,2}              tiny torch state dicts (made only when asked)
    conf/fbank.yaml                        20-bin fbank
    sqa.sh path.sh cmd.sh utils steps      links into the repository; local/data.sh does nothing
    ../../../tools/activate_python.sh      sources the repository's venv

The text, contexts, questions and features come from the structured corpus of
``test/speechbert/tasks/sqa_fixture.py`` (3 passages, 7 utterances, 3 questions); the audio is a
quiet tone per utterance, as long as its ``utt2dur``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import soundfile

REPO = Path(__file__).resolve().parents[2]
TASKS_TESTS = REPO / "test" / "speechbert" / "tasks"
if str(TASKS_TESTS) not in sys.path:
    sys.path.insert(0, str(TASKS_TESTS))

import sqa_fixture as fx  # noqa: E402

SET = "test"
DIM = fx.DIM
RATE = 16000


def _table(path: Path, entries: dict[str, str]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for k in sorted(entries, key=lambda s: s.encode()):
            f.write(f"{k} {entries[k]}\n")


def _read_table(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        k, _, v = line.partition(" ")
        out[k] = v
    return out


def tone(seconds: float, freq: float = 440.0, seed: int = 0) -> np.ndarray:
    """A quiet sine tone with a little noise (float32)."""
    t = np.arange(int(round(seconds * RATE))) / RATE
    rng = np.random.default_rng(seed)
    return (0.2 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def _recipe_links(root: Path) -> None:
    """Make ``root`` a recipe directory of a repository-like tree ``root/../../..``."""
    top = root.parents[2]
    (top / "tools").mkdir(parents=True, exist_ok=True)
    (top / "tools" / "activate_python.sh").write_text(f'. "{REPO}/tools/activate_python.sh"\n')
    for name in ("utils", "steps"):
        if not (top / name).exists():
            os.symlink(REPO / name, top / name)
        os.symlink(f"../../../{name}", root / name)
    for name in ("sqa.sh", "path.sh", "cmd.sh"):
        os.symlink(REPO / "egs" / "TEMPLATE" / "sqa1" / name, root / name)
    (root / "local").mkdir()
    data_sh = root / "local" / "data.sh"
    data_sh.write_text("#!/usr/bin/env bash\n# the data directories are already there\nexit 0\n")
    data_sh.chmod(0o755)


def build(root: Path) -> Path:
    """Write the valid input tree under ``root`` (created; its parent gets tools/utils/steps)."""
    root.mkdir(parents=True)
    fx.make_split(root, SET, 3, seed=3)
    data = root / "data" / SET
    # The recipe's layout, dump/<feature config tag>/<set>, which the sqa.sh cases read; the tools'
    # cases read it through the link dump/test (the scp names the archive through it too).
    (root / "dump" / "fbank").mkdir()
    os.rename(root / "dump" / SET, root / "dump" / "fbank" / SET)
    os.symlink(f"fbank/{SET}", root / "dump" / SET)
    dump = root / "dump" / SET
    text = _read_table(data / "text")
    utt2dur = {u: float(d) for u, d in _read_table(data / "utt2dur").items()}
    (data / "wav").mkdir()
    for k, utt in enumerate(sorted(text)):
        soundfile.write(data / "wav" / f"{utt}.wav", tone(utt2dur[utt], 300.0 + 40 * k, seed=k), RATE,
                        subtype="PCM_16")
    _table(data / "wav.scp", {u: f"data/{SET}/wav/{u}.wav" for u in text})
    contexts = _read_table(data / "contexts")
    _table(data / "utt2spk", {u: cid for cid, utts in contexts.items() for u in utts.split()})
    _table(data / "spk2utt", contexts)

    # CMVN of the set's own features (the training set's in a real recipe).
    import kaldiio

    feats = np.concatenate([m for _, m in kaldiio.load_scp_sequential(str(dump / "feats.scp"))]).astype(np.float64)
    stats = np.zeros((2, DIM + 1))
    stats[0, :DIM] = feats.sum(0)
    stats[0, DIM] = len(feats)
    stats[1, :DIM] = (feats ** 2).sum(0)
    kaldiio.save_mat(str(dump / "cmvn.ark"), stats)

    questions = [json.loads(line) for line in (data / "questions.jsonl").read_text().splitlines()]
    for system, shift in (("e2e", 0.0), ("cascade", 0.02)):
        out = root / "exp" / system / f"decode_{SET}"
        out.mkdir(parents=True)
        with open(out / "predictions.jsonl", "w", encoding="utf-8") as f:
            for q in questions:
                (s, e), (w0, w1) = q["answer_time_spans"][0], q["answer_word_spans"][0]
                best = {"word_span": [w0, w1], "words": q["answers"][0]["text"], "start": round(s + shift, 3),
                        "end": round(e + shift, 3), "score": 2.0}
                other = {"word_span": [0, 0], "words": "x", "start": 0.0, "end": 0.05, "score": 0.5}
                f.write(json.dumps({"id": q["id"], "context_id": q["context_id"], **best,
                                    "nbest": [best, other]}) + "\n")

    conf = root / "conf"
    conf.mkdir()
    (conf / "fbank.yaml").write_text(f"feats_type: fbank\nsample_rate: {RATE}\nnum_mel_bins: {DIM}\n"
                                     "frame_length: 25\nframe_shift: 10\ndither: 0.0\n")
    _recipe_links(root)
    return root


def make_snapshots(root: Path) -> list[Path]:
    """``exp/avg/snapshot.ep.{1,2}``: two tiny state dicts (imports torch)."""
    import torch

    out = root / "exp" / "avg"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for epoch in (1, 2):
        p = out / f"snapshot.ep.{epoch}"
        torch.save({"w": torch.full((2, 3), float(epoch))}, p)
        paths.append(p)
    return paths


# -- mutations: small helpers the cases use ---------------------------------------------------

def lines(path: Path) -> list[str]:
    """The lines of a text file, newlines kept."""
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(path: Path, content: list[str]) -> None:
    path.write_text("".join(content), encoding="utf-8")


def edit_line(path: Path, lineno: int, fn) -> None:
    """Replace line ``lineno`` (1-based, without its newline) by ``fn(line)``."""
    ls = lines(path)
    old = ls[lineno - 1].rstrip("\n")
    new = fn(old)
    assert new != old, f"the mutation leaves line {lineno} of {path} as it was"
    ls[lineno - 1] = new + "\n"
    write_lines(path, ls)


def edit_question(path: Path, lineno: int, fn) -> None:
    """Apply ``fn`` to the JSON object on line ``lineno`` of a JSON Lines file (in place)."""
    def _edit(line: str) -> str:
        obj = json.loads(line)
        fn(obj)
        return json.dumps(obj)
    edit_line(path, lineno, _edit)
