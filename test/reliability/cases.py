"""The bad-input catalogue: one row per (entry point or recipe stage, class of bad input).

Each :class:`Case` starts from the valid tree of ``corpus.build`` (a recipe directory with
``data/test``, ``dump/test`` (a link to the recipe's dump ``dump/fbank/test``), a word CTM,
predictions, ...), applies one mutation, runs one real entry point as a subprocess in that
directory, and states what must come out: the exit status, what the message must name (file and
line, or file and utterance), and for an accepted input the outputs it must write.
``test_bad_input_catalogue.py`` runs them and also checks, for every case, that a refused input
leaves every file as it was (no output, no half-written or temporary file) and that no case ends
in an unexpected exception (a traceback, "an unexpected error") or advises ``weights_only=False``.

``CLASSES`` describes each class for doc/reliability.md. Cases marked ``long`` need a trained
model, train one, or run a feature/recipe stage: they run with ``SPEECHBERT_LONG_CATALOGUE=1``.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile

import corpus as C

# ---------------------------------------------------------------------------------------------
# The classes of bad input, and what each gets (doc/reliability.md lists them from here).

CLASSES: dict[str, tuple[str, str]] = {
    "missing-file": ("a required input file or directory does not exist",
                     "error naming the missing path (and the utterance when a table entry points to it)"),
    "empty-file": ("an input file is empty, or holds nothing usable",
                   "error naming the file"),
    "duplicate-key": ("a key (utterance, question id, prediction) appears twice",
                      "error naming the file and the line of the second occurrence"),
    "unsorted": ("a Kaldi table not in LC_ALL=C key order",
                 "error naming the file and line (utils/fix_data_dir.sh sorts it)"),
    "no-final-newline": ("the last line of a table lacks its newline",
                         "error naming the file and line; fix_data_dir.sh repairs it; JSON Lines accept it"),
    "crlf": ("Windows (CRLF) line endings",
             "tables: error naming the file and line (shell validator and Python readers alike); "
             "JSON Lines: accepted (\\r is JSON whitespace)"),
    "tab-separator": ("a tab between key and value",
                      "accepted, as in Kaldi (whitespace)"),
    "bad-key": ("a key with '/', '../', whitespace or shell metacharacters",
                "error naming the file and line"),
    "bad-utf8": ("bytes that are not UTF-8 in a text file or YAML config",
                 "error naming the file and line"),
    "malformed-line": ("wrong number of fields, a number that does not parse, invalid JSON, "
                       "a JSON value of the wrong type, a missing field",
                       "error naming the file and line"),
    "question-mismatch": ("questions.jsonl that does not fit its passage: empty question, answer not at "
                          "char_start, char_start out of range, unknown context, reversed answer span",
                          "error naming questions.jsonl and the line"),
    "cross-file": ("files that disagree: an utterance missing from one table, CTM words vs text, "
                   "overlapping or too late CTM times, segments of unknown recordings, feature dimensions, "
                   "predictions of another set; utterances missing from a CTM",
                   "error naming the file, line or utterance where they disagree; utterances missing from a "
                   "CTM are accepted and counted (the baseline spreads their words evenly, answer_spans "
                   "lists their answers as unaligned)"),
    "bad-audio": ("truncated, undecodable, empty, too short or multi-channel audio, NaN samples, "
                  "a failing or garbage-producing `cmd |` pipe, a segment outside its recording",
                  "error naming wav.scp (or the file) and the utterance; audio at another rate is "
                  "accepted and resampled"),
    "bad-features": ("NaN/Inf features, truncated or corrupt archives, offsets past the end",
                     "error naming feats.scp and the utterance"),
    "bad-prediction": ("predictions with impossible spans: start > end, negative times, times past "
                       "the passage end, reversed word_span, NaN, strings for numbers, unknown questions",
                       "error naming predictions.jsonl, the line and the question"),
    "bad-option": ("command-line values that cannot work: empty stage selections, out-of-range "
                   "numbers, missing companion options, directories that do not exist",
                   "error naming the option and the value (exit 2 for argparse/stage errors); "
                   "a very long question is accepted and noted"),
    "bad-config": ("YAML configs: a value of the wrong type or out of range, unknown keys, invalid "
                   "YAML, not a mapping, not UTF-8, missing",
                   "error naming the YAML file (and the key)"),
    "bad-model": ("model and checkpoint files: truncated, empty, not a checkpoint, a pickle holding "
                  "code, parameters of another shape, missing, another experiment's",
                  "error naming the file; torch's advice to load with weights_only=False is never "
                  "passed on"),
}


@dataclass(frozen=True)
class Case:
    """One bad input fed to one entry point.

    ``cmd``: the tool (``speechbert.bin`` module name, or a script path relative to the recipe
    directory) and its arguments; ``{name}`` placeholders are filled from the long fixtures.
    ``mutate(root)`` turns the valid tree into the bad one. ``says``: substrings the output must
    hold (the file and line, utterance, option). ``may_write``: globs (relative to the recipe
    directory) a failing run may still create or change (job logs). ``outputs``: files an
    accepted run (``rc`` 0) must write. ``check(root)``: more assertions after the run.
    """

    name: str
    klass: str
    cmd: tuple[str, ...]
    mutate: Callable[[Path], None] | None = None
    rc: int = 1
    says: tuple[str, ...] = ()
    may_write: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    check: Callable[[Path], None] | None = None
    long: bool = False
    stage: int | None = None
    env: tuple[tuple[str, str], ...] = ()
    needs: tuple[str, ...] = field(default=())  # "snapshots", "models"

    @property
    def tool(self) -> str:
        return self.cmd[0]


# ---------------------------------------------------------------------------------------------
# The valid tree's facts the cases refer to.

T = "data/test"
UTTS = ["test-0003-0000-000", "test-0003-0000-001", "test-0003-0001-000", "test-0003-0001-001",
        "test-0003-0002-000", "test-0003-0002-001", "test-0003-0002-002"]
CTX = ["test-0003-0000", "test-0003-0001", "test-0003-0002"]
QIDS = ["q030000", "q030001", "q030002"]
CTM = "exp/align/test/word.ctm"
E2E = "exp/e2e/decode_test/predictions.jsonl"
SPLIT = "exp/e2e/decode_test/split2"
MERGE = ("merge_predictions", "--split_dir", SPLIT, "--nj", "2", "--out", "exp/e2e/decode_test/merged.jsonl")
CASCADE = "exp/cascade/decode_test/predictions.jsonl"
SNAP = ("exp/avg/snapshot.ep.1", "exp/avg/snapshot.ep.2")

SCORE = ("score_sqa", "--data", T, "--predictions", E2E, "--out_dir", "exp/e2e/decode_test",
         "--bootstrap_samples", "10")
VALIDATE = ("utils/validate_data_dir.sh", "--no-feats", T)
FIX = ("utils/fix_data_dir.sh", T)
FEATS = ("compute_feats", "--config", "conf/fbank.yaml", "--wav_scp", f"{T}/wav.scp",
         "--out_ark", "exp/feats/feats.ark", "--out_scp", "exp/feats/feats.scp",
         "--out_utt2num_frames", "exp/feats/utt2num_frames")
FEATS_OUT = ("exp/feats/feats.ark", "exp/feats/feats.scp", "exp/feats/utt2num_frames")
SEG_FEATS = FEATS + ("--segments", f"{T}/segments")
CMVN = ("compute_cmvn", "--feats_scp", "dump/test/feats.scp", "--out", "exp/cmvn/cmvn.ark")
ALIGN_CTM = ("align", "--alignment", "ctm", "--ctm", CTM, "--data", T, "--out_ctm", "exp/align2/test/word.ctm")
SPANS = ("answer_spans", "--data", T, "--ctm", CTM)
BASELINE = ("baseline_predict", "--data", T, "--ctm", CTM, "--kind", "random_span",
            "--out", "exp/baseline/decode_test/predictions.jsonl")
ENSEMBLE = ("ensemble", "--e2e", E2E, "--cascade", CASCADE, "--weight", "0.5",
            "--out", "exp/ensemble/decode_test/predictions.jsonl")
ENSEMBLE_DEV = ("ensemble", "--e2e", E2E, "--cascade", CASCADE, "--dev_e2e", E2E, "--dev_cascade", CASCADE,
                "--dev_data", T, "--out", "exp/ensemble/decode_test/predictions.jsonl")
AVERAGE = ("average_checkpoints", "--snapshots", *SNAP, "--out", "exp/avg/model.avg.pt")
REPORT = ("align_report", "--ctm", CTM, "--ref_ctm", CTM, "--out", "exp/report/report.md")
SHOW = ("show_results", "--exp_dir", "exp", "--out", "RESULTS.md")
# A recipe run over the one set (train = dev = test) with one job.
SQA = ("./sqa.sh", "--train_set", "test", "--valid_set", "test", "--test_sets", "test", "--nj", "1",
       "--feats_config", "conf/fbank.yaml")
ANSWER = ("answer", "--model_dir", "{finetune}", "--aligner_dir", "{aligner}",
          "--audio", f"{T}/wav/{UTTS[0]}.wav", "--question", "what does peter like")
DECODE = ("sqa_decode", "--model_dir", "{finetune}", "--data", T, "--dump", "dump/test", "--ctm", CTM,
          "--out", "exp/decode/predictions.jsonl")
CASCADE_DECODE = ("cascade_decode", "--model_dir", "{finetune_text}", "--data", T, "--reference_text",
                  "--ctm", CTM, "--out", "exp/cascade_decode/predictions.jsonl")


def _p(root: Path, rel: str) -> Path:
    return root / rel


# ---------------------------------------------------------------------------------------------
# Mutations (each returns a function of the recipe directory).

def rm(rel: str) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        _p(root, rel).unlink()
    return f


def empty(rel: str) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        _p(root, rel).write_bytes(b"")
    return f


def put(rel: str, content: str | bytes) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        p = _p(root, rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return f


def edit(rel: str, lineno: int, fn: Callable[[str], str]) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        C.edit_line(_p(root, rel), lineno, fn)
    return f


def edit_json(rel: str, lineno: int, fn: Callable[[dict], None]) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        C.edit_question(_p(root, rel), lineno, fn)
    return f


def set_field(rel: str, lineno: int, key: str, value) -> Callable[[Path], None]:
    def fn(obj: dict) -> None:
        obj[key] = value
    return edit_json(rel, lineno, fn)


def dup_line(rel: str, lineno: int) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        ls = C.lines(_p(root, rel))
        ls.insert(lineno, ls[lineno - 1])
        C.write_lines(_p(root, rel), ls)
    return f


def swap_lines(rel: str, a: int, b: int) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        ls = C.lines(_p(root, rel))
        ls[a - 1], ls[b - 1] = ls[b - 1], ls[a - 1]
        C.write_lines(_p(root, rel), ls)
    return f


def drop_line(rel: str, lineno: int) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        ls = C.lines(_p(root, rel))
        del ls[lineno - 1]
        C.write_lines(_p(root, rel), ls)
    return f


def no_final_newline(rel: str) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        p = _p(root, rel)
        p.write_bytes(p.read_bytes().rstrip(b"\n"))
    return f


def crlf(rel: str) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        p = _p(root, rel)
        p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))
    return f


def bytes_in_line(rel: str, lineno: int, raw: bytes) -> Callable[[Path], None]:
    """Append ``raw`` (not UTF-8) to line ``lineno``."""
    def f(root: Path) -> None:
        p = _p(root, rel)
        ls = p.read_bytes().split(b"\n")
        ls[lineno - 1] += raw
        p.write_bytes(b"\n".join(ls))
    return f


def rekey(rel: str, lineno: int, new_key: str) -> Callable[[Path], None]:
    return edit(rel, lineno, lambda line: new_key + " " + line.split(" ", 1)[1])


def tab_after_key(rel: str, lineno: int) -> Callable[[Path], None]:
    return edit(rel, lineno, lambda line: line.replace(" ", "\t", 1))


def both(*fns: Callable[[Path], None]) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        for fn in fns:
            fn(root)
    return f


def wav(utt: str) -> str:
    return f"{T}/wav/{utt}.wav"


def truncate(rel: str, keep: int) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        p = _p(root, rel)
        p.write_bytes(p.read_bytes()[:keep])
    return f


def write_audio(rel: str, samples: np.ndarray, rate: int = C.RATE, subtype: str = "PCM_16") -> Callable[[Path], None]:
    def f(root: Path) -> None:
        soundfile.write(_p(root, rel), samples, rate, subtype=subtype)
    return f


def wav_scp_value(utt_line: int, value: str) -> Callable[[Path], None]:
    return edit(f"{T}/wav.scp", utt_line, lambda line: f"{line.split()[0]} {value}")


def segments(content: str) -> Callable[[Path], None]:
    """A segments file (the wav.scp keys become recording ids)."""
    return put(f"{T}/segments", content)


def feats_matrix(utt_line: int, fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    """Rewrite dump/test's archive with matrix ``utt_line`` replaced by ``fn(matrix)``."""
    def f(root: Path) -> None:
        import kaldiio

        dump = root / "dump" / "test"
        mats = list(kaldiio.load_scp_sequential(str(dump / "feats.scp")))
        utt, mat = mats[utt_line - 1]
        mats[utt_line - 1] = (utt, fn(mat.copy()))
        with kaldiio.WriteHelper(f"ark,scp:{dump / 'feats.ark'},{dump / 'feats.scp'}") as w:
            for u, m in mats:
                w(u, m)
    return f


def nan_at(mat: np.ndarray) -> np.ndarray:
    mat[3, 2] = np.nan
    return mat


def inf_at(mat: np.ndarray) -> np.ndarray:
    mat[1, 0] = np.inf
    return mat


def scp_offset(utt_line: int, fn: Callable[[int, int], int]) -> Callable[[Path], None]:
    """Change the byte offset of feats.scp line ``utt_line``: ``fn(offset, archive size)``."""
    def f(root: Path) -> None:
        scp = root / "dump" / "test" / "feats.scp"
        def new(line: str) -> str:
            utt, loc = line.split(" ", 1)
            path, off = loc.rsplit(":", 1)
            return f"{utt} {path}:{fn(int(off), os.path.getsize(path))}"
        C.edit_line(scp, utt_line, new)
    return f


def corrupt_header(utt_line: int, rows: int) -> Callable[[Path], None]:
    """Overwrite the row count in the matrix header of feats.scp line ``utt_line``."""
    def f(root: Path) -> None:
        loc = C.lines(root / "dump" / "test" / "feats.scp")[utt_line - 1].split()[1]
        path, off = loc.rsplit(":", 1)
        with open(path, "r+b") as fh:
            fh.seek(int(off) + 6)
            fh.write(struct.pack("<i", rows))
    return f


def garbage_at_header(utt_line: int) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        loc = C.lines(root / "dump" / "test" / "feats.scp")[utt_line - 1].split()[1]
        path, off = loc.rsplit(":", 1)
        with open(path, "r+b") as fh:
            fh.seek(int(off))
            fh.write(b"garbage!garbage!")
    return f


def yaml_conf(content: str | bytes, name: str = "conf/bad.yaml") -> Callable[[Path], None]:
    return put(name, content)


def snapshot_bytes(epoch: int, content: bytes) -> Callable[[Path], None]:
    return put(f"exp/avg/snapshot.ep.{epoch}", content)


def truncate_snapshot(epoch: int) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        p = root / "exp" / "avg" / f"snapshot.ep.{epoch}"
        p.write_bytes(p.read_bytes()[:200])
    return f


class _Evil:
    """A pickle that would run a command when unpickled unsafely."""

    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def pickle_with_code(epoch: int) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        import torch

        torch.save({"w": _Evil()}, root / "exp" / "avg" / f"snapshot.ep.{epoch}")
    return f


def other_shape_snapshot(epoch: int) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        import torch

        torch.save({"w": torch.zeros(5)}, root / "exp" / "avg" / f"snapshot.ep.{epoch}")
    return f


def data_sh(body: str) -> Callable[[Path], None]:
    """Replace local/data.sh (stage 1) with ``body``."""
    def f(root: Path) -> None:
        p = root / "local" / "data.sh"
        p.write_text("#!/usr/bin/env bash\nset -euo pipefail\n" + body)
        p.chmod(0o755)
    return f


def copy_model(key: str, dest: str, fn: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
    """Copy a trained experiment of the long fixture into the tree (``{dest}``), then ``fn(dir)``.

    ``key`` is filled in by the runner through ``root/.models`` (see test_bad_input_catalogue).
    """
    def f(root: Path) -> None:
        import shutil

        models = json.loads((root.parent / ".models.json").read_text())
        shutil.copytree(models[key], root / dest, symlinks=True)
        if fn is not None:
            fn(root / dest)
    return f


def truncate_file(name: str, keep: int = 300) -> Callable[[Path], None]:
    def f(d: Path) -> None:
        p = d / name
        p.write_bytes(p.read_bytes()[:keep])
    return f


def long_question() -> str:
    return " ".join(["what does peter like"] * 150)


def _sorted_check(rel: str) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        keys = [line.split()[0] for line in C.lines(root / rel)]
        assert keys == sorted(keys, key=lambda k: k.encode()), f"{rel} not sorted after fix_data_dir.sh"
    return f


def _newline_check(rel: str) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        assert (root / rel).read_bytes().endswith(b"\n")
    return f


def _tab_kept(root: Path) -> None:
    assert UTTS[0] in (root / T / "text").read_text()


def _unaligned_listed(root: Path) -> None:
    """The answer in the utterance missing from the CTM has no time span, and is listed."""
    assert (root / CTM).parent.joinpath("answer_spans.unaligned").read_text().split()[0] == QIDS[0]
    first = json.loads(C.lines(root / T / "questions.jsonl")[0])
    assert first["id"] == QIDS[0] and first["answer_time_spans"] == [None]


def _no_mkdir(root: Path) -> None:
    assert not Path("/nonexistent").exists(), "answer --clip_out created the directory"


def _no_pwned(root: Path) -> None:
    assert not (root / "PWNED").exists(), "a pickle's code ran"


# ---------------------------------------------------------------------------------------------
# The catalogue.

Q = f"{T}/questions.jsonl"
LAST = len(UTTS)

LEARN = ("learn_units", "--feats_scp", "dump/test/feats.scp", "--num_units", "4", "--out", "exp/units/codebook.npz")
UNITS_CB = "exp/units/codebook.npz"
DUMP_UNITS = ("dump_units", "--feats_scp", "dump/test/feats.scp", "--codebook", UNITS_CB,
              "--out_dir", "dump/units_4/test")


def units_codebook(dim: int = C.DIM, feats_type: str = f"fbank {C.DIM}") -> Callable[[Path], None]:
    """A 4-unit codebook for ``dim``-dim features learned on ``feats_type`` (what learn_units writes)."""
    def f(root: Path) -> None:
        from speechbert.units.codebook import Codebook

        centroids = np.random.default_rng(0).standard_normal((4, dim))
        Codebook(centroids, info={"feats_type": feats_type, "frame_shift": 0.01}).save(root / UNITS_CB)
    return f


CASES: list[Case] = [
    # -- missing-file ---------------------------------------------------------------------------
    Case("score_sqa-missing-questions", "missing-file", SCORE, rm(Q), says=(f"{Q}: no such file",)),
    Case("score_sqa-missing-predictions", "missing-file", SCORE, rm(E2E), says=(f"{E2E}: no such file",)),
    Case("validate-missing-utt2spk", "missing-file", VALIDATE, rm(f"{T}/utt2spk"), says=(f"{T}/utt2spk",)),
    Case("compute_feats-missing-wav", "missing-file", FEATS, rm(wav(UTTS[2])),
         says=(f"{T}/wav.scp ({UTTS[2]})", f"no such audio file: {wav(UTTS[2])}"), long=True),
    Case("compute_cmvn-missing-archive", "missing-file", CMVN, rm("dump/test/feats.ark"),
         says=("dump/test/feats.scp", UTTS[0], "cannot open archive")),
    Case("align-missing-ctm", "missing-file", ALIGN_CTM[:4] + ("exp/align/test/none.ctm",) + ALIGN_CTM[5:],
         says=("exp/align/test/none.ctm: no such file",)),
    Case("baseline_predict-missing-utt2dur", "missing-file", BASELINE, rm(f"{T}/utt2dur"),
         says=(f"{T}/utt2dur: no such file",)),
    Case("ensemble-missing-cascade", "missing-file", ENSEMBLE, rm(CASCADE), says=(f"{CASCADE}: no such file",)),
    Case("answer_spans-missing-contexts", "missing-file", SPANS, rm(f"{T}/contexts"),
         says=(f"{T}/contexts: no such file",)),
    Case("align_report-missing-ref", "missing-file", REPORT[:4] + ("data/test/oracle.ctm",) + REPORT[5:],
         says=("data/test/oracle.ctm: no such file",)),
    Case("show_results-missing-exp-dir", "missing-file", ("show_results", "--exp_dir", "exp_none"),
         says=("exp_none: no such directory",)),
    Case("report-missing-exp-dir", "missing-file",
         ("report", "--exp_dir", "exp_none", "--data", T, "--out", "exp/report/test/index.html"),
         says=("exp_none: no such directory",)),
    Case("pack_model-missing-exp-dir", "missing-file", ("pack_model", "--exp_dir", "exp/none", "--out", "model.zip"),
         says=("exp/none: no such experiment directory",)),
    Case("plot_training-missing-metrics", "missing-file", ("plot_training", "--exp_dir", "exp/none"),
         says=("exp/none/metrics.jsonl: no such file",)),
    Case("copy_data_dir-missing-src", "missing-file", ("utils/copy_data_dir.sh", "data/none", "data/copy"),
         says=("no such file data/none/utt2spk",)),
    Case("subset_data_dir-missing-list", "missing-file",
         ("utils/subset_data_dir.sh", "--utt-list", "none.list", T, "data/sub"), says=("no such file none.list",)),
    Case("make_feats-missing-config", "missing-file",
         ("steps/make_feats.sh", "--feats_config", "conf/none.yaml", T, "dump/x"), says=("no such file conf/none.yaml",)),
    Case("align_sh-missing-model", "missing-file",
         ("steps/align.sh", "--nj", "1", T, "dump/test", "exp/no_model", "exp/align3/test"),
         says=("no such file exp/no_model/aligner.yaml",)),
    Case("asr_transcribe-merge-missing-job", "missing-file",
         ("asr_transcribe", "--data", T, "--out_dir", "exp/asr/test", "--merge", "exp/asr/test/split2/1"),
         says=("exp/asr/test/split2/1/wer.txt: ASR job 1 of 1 did not finish",)),
    Case("prepare_spoken_squad-missing-root", "missing-file",
         ("prepare_spoken_squad", "--spoken_squad_root", "db/none", "--data_dir", "data"),
         says=("db/none: no such directory",)),
    Case("prepare_librispeech-missing-root", "missing-file",
         ("prepare_librispeech", "--librispeech_root", "db/none", "--data_dir", "data"), says=("db/none",)),
    Case("synthesize_squad-missing-json", "missing-file",
         ("synthesize_squad", "--squad_json", "db/none.json", "--out_dir", "db/spoken", "--split", "test"),
         says=("db/none.json: no such file",), long=True),
    Case("average_checkpoints-missing-snapshot", "missing-file",
         ("average_checkpoints", "--snapshots", "exp/avg/snapshot.ep.3", "--out", "exp/avg/model.avg.pt"),
         says=("exp/avg/snapshot.ep.3", "does not exist"), needs=("snapshots",), long=True),
    Case("sqa.sh-stage2-missing-wav.scp", "missing-file", SQA + ("--stage", "2", "--stop_stage", "2"),
         rm(f"{T}/wav.scp"), says=(f"{T}/wav.scp is missing",), stage=2, may_write=("dump/*",)),
    Case("sqa.sh-stage4-missing-ctm", "missing-file",
         SQA + ("--stage", "4", "--stop_stage", "4", "--alignment", "ctm", "--alignment_ctm_dir", "ctms"),
         says=("ctms/test.ctm: no such file",), stage=4, may_write=("exp/align/*",)),
    Case("sqa.sh-stage10-missing-e2e-predictions", "missing-file",
         SQA + ("--stage", "10", "--stop_stage", "10", "--ensemble_weight", "0.5"),
         both(rm(E2E), lambda r: os.makedirs(r / "exp/finetune/decode_test")),
         says=("exp/finetune/decode_test/predictions.jsonl: no such file",), stage=10,
         may_write=("exp/ensemble/*",)),
    Case("sqa_decode-missing-model-dir", "missing-file",
         DECODE[:2] + ("exp/no_model",) + DECODE[3:], says=("exp/no_model",), long=True),
    Case("sqa_train-missing-train-ctm", "missing-file",
         ("sqa_train", "--bert_dir", "{bert_dir}", "--train_data", T, "--train_dump", "dump/test",
          "--train_ctm", "exp/align/test/none.ctm", "--cmvn", "dump/test/cmvn.ark", "--output_dir", "exp/ft",
          "--max_epoch", "1", "--num_workers", "0", "--batch_size", "8", "--bert_layers", "1"),
         says=("exp/align/test/none.ctm",), long=True, may_write=("exp/ft/*",)),
    Case("sqa.sh-stage3-missing-dump", "missing-file",
         SQA + ("--stage", "3", "--stop_stage", "3", "--align_config", "conf/ctc.yaml"),
         both(put("conf/ctc.yaml", "max_epoch: 1\nbatch_size: 8\nnum_workers: 0\n"), lambda r: __import__("shutil").rmtree(r / "dump/fbank/test")),
         says=("exp/ctc/train.log",), stage=3, long=True, may_write=("exp/ctc/*", "exp/ctc/*/*")),

    # -- empty-file ---------------------------------------------------------------------------
    Case("compute_cmvn-empty-scp", "empty-file", CMVN, empty("dump/test/feats.scp"),
         says=("dump/test/feats.scp: no utterances",)),
    Case("compute_feats-empty-wav.scp", "empty-file", FEATS, empty(f"{T}/wav.scp"), says=(f"{T}/wav.scp",), long=True),
    Case("score_sqa-empty-predictions", "empty-file", SCORE, empty(E2E), says=(f"{E2E}: no predictions",)),
    Case("score_sqa-empty-questions", "empty-file", SCORE, both(empty(Q), empty(E2E)),
         says=(f"{Q}: no questions",)),
    Case("validate-empty-text", "empty-file", VALIDATE, empty(f"{T}/text"), says=(f"{T}/text",)),
    Case("align-empty-ctm", "empty-file", ALIGN_CTM, empty(CTM), says=(f"{CTM}: no words",)),
    Case("ensemble-empty-e2e", "empty-file", ENSEMBLE, empty(E2E), says=(f"{E2E}: no predictions",)),
    Case("average_checkpoints-empty-snapshot", "empty-file", AVERAGE, snapshot_bytes(2, b""),
         says=("exp/avg/snapshot.ep.2",), needs=("snapshots",), long=True),
    Case("compute_feats-empty-audio", "empty-file", FEATS, write_audio(wav(UTTS[1]), np.zeros(0, np.float32)),
         says=(f"{T}/wav.scp ({UTTS[1]})", "empty audio"), long=True),

    # -- duplicate-key --------------------------------------------------------------------------
    Case("validate-duplicate-utt2spk", "duplicate-key", VALIDATE, dup_line(f"{T}/utt2spk", 3),
         says=(f"{T}/utt2spk:4", "duplicate key")),
    Case("compute_feats-duplicate-wav.scp", "duplicate-key", FEATS, dup_line(f"{T}/wav.scp", 2),
         says=(f"{T}/wav.scp:3: duplicate key '{UTTS[1]}'",), long=True),
    Case("score_sqa-duplicate-question-id", "duplicate-key", SCORE, set_field(Q, 2, "id", QIDS[0]),
         says=(f"{Q}:2: duplicate question id '{QIDS[0]}'",)),
    Case("score_sqa-duplicate-prediction", "duplicate-key", SCORE, dup_line(E2E, 1),
         says=(f"{E2E}:2: duplicate prediction for question '{QIDS[0]}'",)),
    Case("score_sqa-utterance-in-two-contexts", "duplicate-key", SCORE,
         edit(f"{T}/contexts", 2, lambda line: line + " " + UTTS[0]),
         says=(f"{T}/contexts:2: utterance '{UTTS[0]}' is listed twice",)),
    Case("compute_cmvn-duplicate-feats.scp", "duplicate-key", CMVN, dup_line("dump/test/feats.scp", 5),
         says=(f"dump/test/feats.scp:6: duplicate key '{UTTS[4]}'",)),
    Case("ensemble-duplicate-prediction", "duplicate-key", ENSEMBLE, dup_line(CASCADE, 3),
         says=(f"{CASCADE}:4: duplicate prediction for question '{QIDS[2]}'",)),
    Case("validate-duplicate-question-id", "duplicate-key", VALIDATE, set_field(Q, 3, "id", QIDS[1]),
         says=(f"{Q}:3",)),

    # -- unsorted -------------------------------------------------------------------------------
    Case("validate-unsorted-text", "unsorted", VALIDATE, swap_lines(f"{T}/text", 1, 2), says=(f"{T}/text:2",)),
    Case("validate-unsorted-utt2spk", "unsorted", VALIDATE, swap_lines(f"{T}/utt2spk", 4, 5),
         says=(f"{T}/utt2spk:5",)),
    Case("score_sqa-unsorted-text", "unsorted", SCORE, swap_lines(f"{T}/text", 3, 4),
         says=(f"{T}/text:4: key '{UTTS[2]}' is out of order",)),
    Case("compute_feats-unsorted-wav.scp", "unsorted", FEATS, swap_lines(f"{T}/wav.scp", 6, 7),
         says=(f"{T}/wav.scp:7",), long=True),
    Case("baseline_predict-unsorted-utt2dur", "unsorted", BASELINE, swap_lines(f"{T}/utt2dur", 1, 2),
         says=(f"{T}/utt2dur:2",)),
    Case("fix_data_dir-sorts-unsorted", "unsorted", FIX, swap_lines(f"{T}/text", 1, 2), rc=0,
         outputs=(f"{T}/text",), check=_sorted_check(f"{T}/text")),

    # -- no-final-newline -----------------------------------------------------------------------
    Case("validate-no-final-newline", "no-final-newline", VALIDATE, no_final_newline(f"{T}/text"),
         says=(f"{T}/text:{LAST}",)),
    Case("score_sqa-no-final-newline", "no-final-newline", SCORE, no_final_newline(f"{T}/text"),
         says=(f"{T}/text:{LAST}: last line has no trailing newline",)),
    Case("compute_feats-no-final-newline", "no-final-newline", FEATS, no_final_newline(f"{T}/wav.scp"),
         says=(f"{T}/wav.scp:{LAST}",), long=True),
    Case("fix_data_dir-repairs-final-newline", "no-final-newline", FIX, no_final_newline(f"{T}/utt2dur"), rc=0,
         outputs=(f"{T}/utt2dur",), check=_newline_check(f"{T}/utt2dur")),
    Case("score_sqa-jsonl-without-final-newline", "no-final-newline", SCORE, no_final_newline(Q), rc=0,
         outputs=("exp/e2e/decode_test/result.json",)),

    # -- crlf -----------------------------------------------------------------------------------
    Case("validate-crlf-text", "crlf", VALIDATE, crlf(f"{T}/text"), says=(f"{T}/text:1",)),
    Case("score_sqa-crlf-text", "crlf", SCORE, crlf(f"{T}/text"), says=(f"{T}/text:1: Windows line ending",)),
    Case("compute_feats-crlf-wav.scp", "crlf", FEATS, crlf(f"{T}/wav.scp"), says=(f"{T}/wav.scp:1",), long=True),
    Case("validate-crlf-utt2spk", "crlf", VALIDATE, crlf(f"{T}/utt2spk"), says=(f"{T}/utt2spk:1",)),
    Case("score_sqa-crlf-questions-accepted", "crlf", SCORE, crlf(Q), rc=0,
         outputs=("exp/e2e/decode_test/result.json",)),

    # -- tab-separator --------------------------------------------------------------------------
    Case("validate-tab-in-text", "tab-separator", VALIDATE, tab_after_key(f"{T}/text", 2), rc=0),
    Case("score_sqa-tab-in-text", "tab-separator", SCORE, tab_after_key(f"{T}/text", 2), rc=0,
         outputs=("exp/e2e/decode_test/result.json",)),
    Case("compute_feats-tab-in-wav.scp", "tab-separator", FEATS, tab_after_key(f"{T}/wav.scp", 3), rc=0,
         outputs=FEATS_OUT, long=True),
    Case("fix_data_dir-keeps-tab", "tab-separator", FIX, tab_after_key(f"{T}/text", 1), rc=0,
         check=_tab_kept),

    # -- bad-key --------------------------------------------------------------------------------
    Case("validate-slash-in-key", "bad-key", VALIDATE, rekey(f"{T}/utt2spk", 1, "test/0003"),
         says=(f"{T}/utt2spk:1",)),
    Case("validate-dotdot-key", "bad-key", VALIDATE, rekey(f"{T}/text", 1, "../escape"), says=(f"{T}/text:1",)),
    Case("score_sqa-metachar-key", "bad-key", SCORE, rekey(f"{T}/text", 7, "test-0003-0002-00$"),
         says=(f"{T}/text:7: key 'test-0003-0002-00$' contains '$'",)),
    Case("compute_feats-dotdot-key", "bad-key", FEATS, rekey(f"{T}/wav.scp", 1, "../../x"),
         says=(f"{T}/wav.scp:1: key '../../x'",), long=True),
    Case("score_sqa-slash-context-id", "bad-key", SCORE, set_field(Q, 2, "context_id", "a/b"),
         says=(f"{Q}:2: context_id: key 'a/b' contains '/'",)),
    Case("align-slash-in-ctm-utt", "bad-key", ALIGN_CTM, edit(CTM, 4, lambda line: "a/b" + line[len(UTTS[0]):]),
         says=(f"{CTM}:4: key 'a/b'",)),

    # -- bad-utf8 -------------------------------------------------------------------------------
    Case("validate-bad-utf8-text", "bad-utf8", VALIDATE, bytes_in_line(f"{T}/text", 3, b" caf\xe9"),
         says=(f"{T}/text:3",)),
    Case("score_sqa-bad-utf8-text", "bad-utf8", SCORE, bytes_in_line(f"{T}/text", 3, b" caf\xe9"),
         says=(f"{T}/text:3: not valid UTF-8",)),
    Case("score_sqa-bad-utf8-questions", "bad-utf8", SCORE, bytes_in_line(Q, 2, b" \xff"),
         says=(f"{Q}:2: not valid UTF-8",)),
    Case("score_sqa-bad-utf8-predictions", "bad-utf8", SCORE, bytes_in_line(E2E, 3, b"\xc3"),
         says=(f"{E2E}:3: not valid UTF-8",)),
    Case("align-bad-utf8-ctm", "bad-utf8", ALIGN_CTM, bytes_in_line(CTM, 5, b"\xff"),
         says=(f"{CTM}:5: not valid UTF-8",)),
    Case("compute_cmvn-bad-utf8-yaml", "bad-utf8", CMVN + ("--config", "conf/bad.yaml"),
         yaml_conf(b"verbose: 1\n# caf\xe9\n"), says=("conf/bad.yaml", "UTF-8")),

    # -- malformed-line -------------------------------------------------------------------------
    Case("validate-utt2spk-three-fields", "malformed-line", VALIDATE,
         edit(f"{T}/utt2spk", 2, lambda line: line + " extra"), says=(f"{T}/utt2spk:2",)),
    Case("compute_feats-segments-two-fields", "malformed-line", SEG_FEATS,
         segments(f"{UTTS[0]}-a {UTTS[0]} 0.0\n"), says=(f"{T}/segments:1: expected",), long=True),
    Case("compute_feats-segment-end-before-start", "malformed-line", SEG_FEATS,
         segments(f"{UTTS[0]}-a {UTTS[0]} 0.0 0.2\n{UTTS[0]}-b {UTTS[0]} 0.3 0.1\n"),
         says=(f"{T}/segments:2: segment end",), long=True),
    Case("align-ctm-four-fields", "malformed-line", ALIGN_CTM, edit(CTM, 2, lambda line: " ".join(line.split()[:4])),
         says=(f"{CTM}:2: expected 5 or 6 fields",)),
    Case("align-ctm-time-not-a-number", "malformed-line", ALIGN_CTM,
         edit(CTM, 3, lambda line: line.replace(" 0.260 ", " 0.2.6 ")), says=(f"{CTM}:3: start, duration",)),
    Case("score_sqa-utt2dur-not-a-number", "malformed-line", SCORE, edit(f"{T}/utt2dur", 3, lambda line: line.split()[0] + " abc"),
         says=(f"{T}/utt2dur:3: duration 'abc' is not a number",)),
    Case("baseline_predict-negative-duration", "malformed-line", BASELINE,
         edit(f"{T}/utt2dur", 2, lambda line: line.split()[0] + " -1"), says=(f"{T}/utt2dur:2: duration '-1' must be positive",)),
    Case("score_sqa-questions-invalid-json", "malformed-line", SCORE, edit(Q, 2, lambda line: line[:-2]),
         says=(f"{Q}:2: invalid JSON",)),
    Case("score_sqa-question-not-an-object", "malformed-line", SCORE, edit(Q, 1, lambda line: "[" + line + "]"),
         says=(f"{Q}:1: expected a JSON object",)),
    Case("score_sqa-question-without-answers", "malformed-line", SCORE,
         edit_json(Q, 3, lambda q: q.pop("answers")), says=(f"{Q}:3: field 'answers'",)),
    Case("score_sqa-predictions-invalid-json", "malformed-line", SCORE, edit(E2E, 2, lambda line: line + "}"),
         says=(f"{E2E}:2: invalid JSON",)),
    Case("ensemble-prediction-not-an-object", "malformed-line", ENSEMBLE, edit(E2E, 1, lambda line: "42"),
         says=(f"{E2E}:1: expected a JSON object",)),
    Case("compute_cmvn-scp-without-offset", "malformed-line", CMVN,
         edit("dump/test/feats.scp", 2, lambda line: line.rsplit(":", 1)[0]), says=("dump/test/feats.scp", UTTS[1])),
    Case("validate-empty-line", "malformed-line", VALIDATE, edit(f"{T}/utt2dur", 4, lambda line: line + "\n"),
         says=(f"{T}/utt2dur:5",)),
    Case("show_results-result-not-json", "malformed-line", SHOW, put("exp/e2e/decode_test/result.json", "{\n  oops\n"),
         says=("exp/e2e/decode_test/result.json:2: invalid JSON",)),
    Case("merge_predictions-job-did-not-finish", "missing-file", MERGE,
         put(f"{SPLIT}/predictions.1.jsonl", ""), says=(f"{SPLIT}/job.1.json", "decoding job 1 of 2 did not finish")),
    Case("merge_predictions-record-not-json", "malformed-line", MERGE,
         both(put(f"{SPLIT}/predictions.1.jsonl", ""), put(f"{SPLIT}/job.1.json", "{oops")),
         says=(f"{SPLIT}/job.1.json", "unreadable job record")),

    # -- question-mismatch ----------------------------------------------------------------------
    Case("validate-empty-question", "question-mismatch", VALIDATE, set_field(Q, 1, "question", "  "),
         says=(f"{Q}:1",)),
    Case("validate-answer-not-at-char-start", "question-mismatch", VALIDATE,
         edit_json(Q, 2, lambda q: q["answers"][0].update(char_start=3)), says=(f"{Q}:2",)),
    Case("validate-char-start-out-of-range", "question-mismatch", VALIDATE,
         edit_json(Q, 3, lambda q: q["answers"][0].update(char_start=4000)), says=(f"{Q}:3",)),
    Case("score_sqa-answer-not-at-char-start", "question-mismatch", SCORE,
         edit_json(Q, 2, lambda q: q["answers"][0].update(char_start=3)),
         says=(f"{Q}:2: question '{QIDS[1]}': answers[0].text 'blue' is not at char_start 3",)),
    Case("score_sqa-unknown-context", "question-mismatch", SCORE, set_field(Q, 1, "context_id", "test-9999-0000"),
         says=(f"{Q}:1: question '{QIDS[0]}': unknown context",)),
    Case("score_sqa-negative-char-start", "question-mismatch", SCORE,
         edit_json(Q, 1, lambda q: q["answers"][0].update(char_start=-1)), says=(f"{Q}:1: answers[0].char_start",)),
    Case("score_sqa-reversed-answer-time-span", "question-mismatch", SCORE,
         set_field(Q, 2, "answer_time_spans", [[0.3, 0.2]]), says=(f"{Q}:2: answer_time_spans[0]",)),
    Case("answer_spans-answer-not-at-char-start", "question-mismatch", SPANS,
         edit_json(Q, 3, lambda q: q["answers"][0].update(char_start=0)), says=(f"{Q}:3: question '{QIDS[2]}'",)),
    Case("baseline_predict-char-start-out-of-range", "question-mismatch", BASELINE,
         edit_json(Q, 1, lambda q: q["answers"][0].update(char_start=999)), says=(f"{Q}:1: question '{QIDS[0]}'",)),

    # -- cross-file -----------------------------------------------------------------------------
    Case("validate-utt-missing-from-utt2dur", "cross-file", VALIDATE, drop_line(f"{T}/utt2dur", 4),
         says=(f"{T}/utt2dur", UTTS[3])),
    Case("score_sqa-context-utt-without-text", "cross-file", SCORE, drop_line(f"{T}/text", 5),
         says=(f"{T}/contexts:3: context '{CTX[2]}' lists utterance '{UTTS[4]}'",)),
    Case("align-ctm-unknown-utt", "cross-file", ALIGN_CTM, lambda r: open(r / CTM, "a").write("zz-1 1 0.0 0.1 hi\n"),
         says=(f"{CTM}:34 (zz-1): utterance 'zz-1' is not in the data directory's text",)),
    Case("align-ctm-words-differ-from-text", "cross-file", ALIGN_CTM,
         edit(CTM, 2, lambda line: line.replace(" likes ", " liked ")),
         says=(f"{CTM}:2 ({UTTS[0]}): CTM words do not match text",)),
    Case("baseline_predict-ctm-overlap", "cross-file", BASELINE,
         edit(CTM, 2, lambda line: line.replace(" 0.150 ", " 0.050 ")), says=(f"{CTM}:2 ({UTTS[0]})", "overlapping")),
    Case("baseline_predict-ctm-past-audio-end", "cross-file", BASELINE,
         edit(CTM, 3, lambda line: line.replace(" 0.260 0.060 ", " 0.260 0.500 ")), says=(f"{CTM}:3 ({UTTS[0]})", "after the end of the audio")),
    Case("compute_feats-segment-unknown-recording", "cross-file", SEG_FEATS,
         segments(f"{UTTS[0]}-a nowhere 0.0 0.2\n"), says=(f"{T}/segments ({UTTS[0]}-a)", "recording 'nowhere'"),
         long=True),
    Case("ensemble-dev-predictions-of-another-set", "cross-file", ENSEMBLE_DEV,
         set_field(E2E, 2, "id", "q999"), says=(f"{E2E} (q999)", "not in the dev set")),
    Case("score_sqa-prediction-context-mismatch", "cross-file", SCORE, set_field(E2E, 1, "context_id", CTX[1]),
         says=(f"{E2E}:1: question '{QIDS[0]}': context_id",)),
    Case("validate-utt2num_frames-differs-from-feats", "cross-file", ("utils/validate_data_dir.sh", T),
         both(lambda r: (r / T / "feats.scp").write_text((r / "dump/test/feats.scp").read_text()),
              lambda r: (r / T / "utt2num_frames").write_text("".join(C.lines(r / "dump/test/utt2num_frames")[1:]))),
         says=(f"{T}/utt2num_frames", UTTS[0])),
    Case("compute_cmvn-dimension-differs", "cross-file", CMVN, feats_matrix(4, lambda m: m[:, :13]),
         says=(f"dump/test/feats.scp ({UTTS[3]}): feature dimension 13",)),
    Case("score_sqa-asr-text-unknown-utt", "cross-file", SCORE + ("--asr_text", f"{T}/text.asr"),
         put(f"{T}/text.asr", "zz-1 hello\n"), says=(f"{T}/text.asr", "zz-1")),
    Case("answer_spans-ctm-unknown-utt", "cross-file", SPANS, lambda r: open(r / CTM, "a").write("zz-1 1 0.0 0.1 hi\n"),
         says=(f"{CTM}:34 (zz-1)",)),
    Case("sqa_decode-cmvn-of-other-dimension", "cross-file", DECODE + ("--cmvn", "dump/test/cmvn13.ark"),
         lambda r: __import__("kaldiio").save_mat(str(r / "dump/test/cmvn13.ark"),
                                                 np.concatenate([np.ones((1, 14)), np.ones((1, 14))]) * [[1] * 13 + [10]]),
         says=("dump/test/cmvn13.ark",), long=True, needs=("models",)),

    Case("baseline_predict-ctm-misses-an-utterance", "cross-file", BASELINE, both(*[drop_line(CTM, 1)] * 3), rc=0,
         says=("1 utterances are not in the CTM",), outputs=("exp/baseline/decode_test/predictions.jsonl",)),
    Case("answer_spans-ctm-misses-an-utterance", "cross-file", SPANS, both(*[drop_line(CTM, 1)] * 3), rc=0,
         says=("1 answers without a time span",), outputs=("exp/align/test/answer_spans.unaligned",),
         check=_unaligned_listed),

    # -- bad-audio ------------------------------------------------------------------------------
    Case("compute_feats-truncated-wav", "bad-audio", FEATS, truncate(wav(UTTS[3]), 1000),
         says=(f"{T}/wav.scp ({UTTS[3]}): truncated audio",)),
    Case("compute_feats-not-audio", "bad-audio", FEATS, put(wav(UTTS[2]), "this is not a wav file\n"),
         says=(f"{T}/wav.scp ({UTTS[2]}): cannot decode audio",), long=True),
    Case("compute_feats-stereo", "bad-audio", FEATS,
         write_audio(wav(UTTS[4]), np.stack([C.tone(0.5), C.tone(0.5, 200)], axis=1)),
         says=(f"{T}/wav.scp ({UTTS[4]}): audio has 2 channels",), long=True),
    Case("compute_feats-failing-pipe", "bad-audio", FEATS, wav_scp_value(2, "false |"),
         says=(f"{T}/wav.scp ({UTTS[1]}): command 'false |' failed",)),
    Case("compute_feats-pipe-outputs-garbage", "bad-audio", FEATS, wav_scp_value(3, "echo hello |"),
         says=(f"{T}/wav.scp ({UTTS[2]}): cannot decode audio (output of 'echo hello |')",), long=True),
    Case("compute_feats-other-sample-rate", "bad-audio", FEATS, write_audio(wav(UTTS[5]), C.tone(0.4)[::2], 8000),
         rc=0, outputs=FEATS_OUT, says=("resampling 8000 Hz",), long=True),
    Case("compute_feats-too-short", "bad-audio", FEATS, write_audio(wav(UTTS[6]), C.tone(0.01)),
         says=(f"{T}/wav.scp ({UTTS[6]}): audio too short",), long=True),
    Case("compute_feats-segment-outside-recording", "bad-audio", SEG_FEATS,
         segments(f"{UTTS[0]}-a {UTTS[0]} 0.0 0.2\n{UTTS[0]}-b {UTTS[0]} 5.0 6.0\n"),
         says=(f"{T}/segments ({UTTS[0]}-b): segment [5.0, 6.0] s lies outside recording",), long=True),
    Case("compute_feats-channel-not-there", "bad-audio", FEATS + ("--channel", "3"),
         says=(f"{T}/wav.scp ({UTTS[0]}): --channel 3 requested but the audio has 1",), long=True),
    Case("compute_feats-nan-samples", "bad-audio", FEATS,
         write_audio(wav(UTTS[2]), np.where(np.arange(5920) == 100, np.nan, C.tone(0.37)).astype(np.float32),
                     subtype="FLOAT"),
         says=(f"{T}/wav.scp ({UTTS[2]}): features contain NaN/Inf",), long=True),
    Case("sqa.sh-stage2-truncated-wav", "bad-audio", SQA + ("--stage", "2", "--stop_stage", "2"),
         truncate(wav(UTTS[3]), 1000), says=("dump/fbank/test/log/make_feats.*.log",), stage=2, long=True,
         may_write=("dump/fbank/test/*", "dump/fbank/test/*/*")),
    Case("answer-truncated-audio", "bad-audio", ANSWER, truncate(wav(UTTS[0]), 500),
         says=(f"{wav(UTTS[0])}: truncated audio",), long=True, needs=("models",)),

    # -- bad-features ---------------------------------------------------------------------------
    Case("compute_cmvn-nan", "bad-features", CMVN, feats_matrix(3, nan_at),
         says=(f"dump/test/feats.scp ({UTTS[2]}): features contain NaN/Inf",)),
    Case("compute_cmvn-inf", "bad-features", CMVN, feats_matrix(6, inf_at),
         says=(f"dump/test/feats.scp ({UTTS[5]}): features contain NaN/Inf",)),
    Case("compute_cmvn-truncated-archive", "bad-features", CMVN, truncate("dump/test/feats.ark", 20000),
         says=("dump/test/feats.scp", "is truncated")),
    Case("compute_cmvn-offset-past-end", "bad-features", CMVN, scp_offset(2, lambda off, size: size + 100),
         says=(f"dump/test/feats.scp ({UTTS[1]})", "past the end")),
    Case("compute_cmvn-negative-rows", "bad-features", CMVN, corrupt_header(4, -7),
         says=(f"dump/test/feats.scp ({UTTS[3]}): corrupt matrix header",)),
    Case("compute_cmvn-garbage-at-offset", "bad-features", CMVN, garbage_at_header(5),
         says=(f"dump/test/feats.scp ({UTTS[4]}): cannot read features",)),
    Case("sqa_decode-nan-features", "bad-features", DECODE, feats_matrix(2, nan_at),
         says=(UTTS[1], "NaN"), long=True, needs=("models",)),

    Case("compute_cmvn-failing-pipe", "bad-features", CMVN, edit("dump/test/feats.scp", 2, lambda line: f"{UTTS[1]} false |"),
         says=(f"dump/test/feats.scp ({UTTS[1]}): command 'false |' failed with exit status 1",)),
    Case("compute_cmvn-pipe-outputs-garbage", "bad-features", CMVN,
         edit("dump/test/feats.scp", 3, lambda line: f"{UTTS[2]} echo hello |"),
         says=(f"dump/test/feats.scp ({UTTS[2]}): cannot read features at echo hello |",)),

    # -- bad-prediction -------------------------------------------------------------------------
    Case("score_sqa-start-after-end", "bad-prediction", SCORE, both(set_field(E2E, 2, "start", 0.9)),
         says=(f"{E2E}:2 ({QIDS[1]}): start 0.9 is after end",)),
    Case("score_sqa-negative-start", "bad-prediction", SCORE, set_field(E2E, 1, "start", -0.5),
         says=(f"{E2E}:1 ({QIDS[0]}): negative start time",)),
    Case("score_sqa-past-passage-end", "bad-prediction", SCORE, set_field(E2E, 3, "end", 99.0),
         says=(f"{E2E}:3: question '{QIDS[2]}': end time 99.0 s is past the end of its passage",)),
    Case("score_sqa-reversed-word-span", "bad-prediction", SCORE, set_field(E2E, 1, "word_span", [3, 1]),
         says=(f"{E2E}:1 ({QIDS[0]}): field 'word_span'",)),
    Case("score_sqa-nan-time", "bad-prediction", SCORE, edit(E2E, 2, lambda line: line.replace('"end": 0.32', '"end": NaN', 1)),
         says=(f"{E2E}:2", "finite number")),
    Case("score_sqa-unknown-question", "bad-prediction", SCORE, set_field(E2E, 2, "id", "q-none"),
         says=(f"{E2E}:2: prediction for unknown question id 'q-none'",)),
    Case("score_sqa-time-as-string", "bad-prediction", SCORE, set_field(E2E, 1, "start", "0.26"),
         says=(f"{E2E}:1", "'start'")),
    Case("score_sqa-start-without-end", "bad-prediction", SCORE, set_field(E2E, 3, "end", None),
         says=(f"{E2E}:3 ({QIDS[2]}): fields 'start' and 'end' must both be",)),
    Case("ensemble-nbest-start-after-end", "bad-prediction", ENSEMBLE,
         edit_json(CASCADE, 2, lambda p: p["nbest"][1].update(start=0.5, end=0.1)),
         says=(f"{CASCADE}:2 ({QIDS[1]}): nbest[1]",)),
    Case("ensemble-nbest-not-a-list", "bad-prediction", ENSEMBLE, set_field(E2E, 3, "nbest", {"start": 1}),
         says=(f"{E2E}:3 ({QIDS[2]}): field 'nbest' must be a list",)),

    # -- bad-option -----------------------------------------------------------------------------
    Case("sqa.sh-stage-after-stop-stage", "bad-option", SQA + ("--stage", "5", "--stop_stage", "3"), rc=2,
         says=("--stage 5 is after --stop_stage 3",), stage=0),
    Case("sqa.sh-stage-11", "bad-option", SQA + ("--stage", "11"), rc=2, says=("--stage 11",), stage=0),
    Case("sqa.sh-skip-stages-not-numbers", "bad-option", SQA + ("--skip_stages", "x y"), rc=2,
         says=("--skip_stages 'x y'",), stage=0),
    Case("sqa.sh-stage-word", "bad-option", SQA + ("--stage", "three"), rc=2, says=("--stage must be a stage number, got 'three'",),
         stage=0),
    Case("sqa.sh-nj-zero", "bad-option", SQA[:-4] + ("--nj", "0"), rc=2, says=("--nj must be a positive integer, got '0'",),
         stage=0),
    Case("sqa.sh-unexpected-argument", "bad-option", SQA + ("data/test",), rc=2, says=("unexpected arguments: data/test",),
         stage=0),
    Case("sqa.sh-unknown-option", "bad-option", SQA + ("--stgae", "3"), says=("--stgae",), stage=0),
    Case("sqa.sh-unknown-cmd-backend", "bad-option", SQA + ("--stage", "1"), says=("cmd_backend='pbs'",),
         env=(("cmd_backend", "pbs"),), stage=0),
    Case("sqa.sh-stage4-unknown-alignment", "bad-option", SQA + ("--stage", "4", "--stop_stage", "4", "--alignment", "mfa"),
         rc=2, says=("unknown alignment=mfa",), stage=4),
    Case("score_sqa-negative-bootstrap", "bad-option", SCORE + ("--bootstrap_samples", "-1"),
         says=("--bootstrap_samples must be 0",)),
    Case("ensemble-weight-out-of-range", "bad-option", ENSEMBLE[:-4] + ("--weight", "1.5") + ENSEMBLE[-2:],
         says=("--weight must be in [0, 1], got 1.5",)),
    Case("ensemble-dev-options-incomplete", "bad-option", ENSEMBLE_DEV[:5] + ENSEMBLE_DEV[7:],
         says=("missing --dev_e2e",)),
    Case("subset_data_dir-more-than-there", "bad-option", ("utils/subset_data_dir.sh", "--first", T, "100", "data/sub"),
         says=(f"cannot take 100 utterances: {T} has only 7",), may_write=("data/sub",)),
    Case("split_data-zero-pieces", "bad-option", ("utils/split_data.sh", T, "0"), says=("got '0'",)),
    Case("validate-unknown-option", "bad-option", ("utils/validate_data_dir.sh", "--no-fetas", T), says=("--no-fetas",)),
    Case("score_sqa-unknown-option", "bad-option", SCORE + ("--bootstrap", "3"), rc=2, says=("--bootstrap",)),
    Case("answer-clip-out-in-missing-dir", "bad-option", ANSWER[:2] + ("exp/none",) + ANSWER[3:4] + ("exp/none",)
         + ANSWER[5:] + ("--clip_out", "/nonexistent/dir/clip.wav"),
         says=("--clip_out /nonexistent/dir/clip.wav", "/nonexistent/dir does not exist"), check=_no_mkdir),
    Case("answer-empty-question", "bad-option", ANSWER[:2] + ("exp/none",) + ANSWER[3:4] + ("exp/none",) + ANSWER[5:7]
         + ("--question", "?!"), says=("--question '?!' is empty",), long=True),
    Case("answer-very-long-question", "bad-option", ANSWER[:-1] + (long_question(),), rc=0,
         says=("note:",), long=True, needs=("models",)),
    Case("make_mini_corpus-size-zero", "bad-option", ("make_mini_corpus", "--out_dir", "db/mini", "--size", "0"),
         says=("--size must be positive, got 0.0",)),
    Case("synthesize_squad-bad-rate-range", "bad-option",
         ("synthesize_squad", "--squad_json", "x.json", "--out_dir", "db/x", "--split", "test", "--rate_range", "200,150"),
         rc=2, says=("--rate_range", "low > high"), long=True),
    Case("prepare_spoken_squad-negative-dev-size", "bad-option",
         ("prepare_spoken_squad", "--spoken_squad_root", "db", "--dev_size", "-3"), says=("--dev_size must be >= 0, got -3",)),
    Case("make_feats-nj-zero", "bad-option", ("steps/make_feats.sh", "--nj", "0", "--feats_config", "conf/fbank.yaml", T, "dump/x"),
         says=("--nj must be a positive integer, got '0'",)),
    Case("compute_feats-missing-required", "bad-option", ("compute_feats", "--config", "conf/fbank.yaml", "--wav_scp", f"{T}/wav.scp"),
         says=("--out_ark", "--out_scp"), long=True),
    Case("asr_transcribe-no-asr-kind", "bad-option", ("asr_transcribe", "--data", T, "--out_dir", "exp/asr/test"),
         says=("--asr is required",)),
    Case("average_checkpoints-num-zero", "bad-option", AVERAGE + ("--num", "0"), says=("must be >= 1, got 0",),
         needs=("snapshots",), long=True),
    Case("align-ctc-without-model", "bad-option", ("align", "--data", T, "--out_ctm", "exp/a/word.ctm"),
         says=("--alignment ctc needs --model_dir and --dump",)),
    Case("cascade_decode-reference-text-without-ctm", "bad-option", CASCADE_DECODE[:-4] + CASCADE_DECODE[-2:],
         says=("--reference_text needs --ctm",), long=True),

    # -- bad-config -----------------------------------------------------------------------------
    Case("compute_feats-yaml-wrong-type", "bad-config", ("compute_feats", "--config", "conf/bad.yaml", "--out_info_dir", "dump/x"),
         yaml_conf("num_mel_bins: many\n"), rc=2, says=("--num_mel_bins", "conf/bad.yaml"), long=True),
    Case("compute_feats-yaml-out-of-range", "bad-config", ("compute_feats", "--config", "conf/bad.yaml", "--out_info_dir", "dump/x"),
         yaml_conf("num_mel_bins: -5\n"), says=("num_mel_bins", "conf/bad.yaml"), long=True),
    Case("compute_cmvn-yaml-unknown-key", "bad-config", CMVN + ("--config", "conf/bad.yaml"), yaml_conf("feat_scp: x\n"),
         says=("config file conf/bad.yaml: unknown option 'feat_scp'",)),
    Case("score_sqa-yaml-invalid", "bad-config", SCORE + ("--config", "conf/bad.yaml"), yaml_conf("bootstrap_samples: [1,\n"),
         says=("config file conf/bad.yaml is not valid YAML",)),
    Case("score_sqa-yaml-not-a-mapping", "bad-config", SCORE + ("--config", "conf/bad.yaml"), yaml_conf("- 1\n- 2\n"),
         says=("config file conf/bad.yaml: expected a mapping",)),
    Case("score_sqa-yaml-wrong-type", "bad-config", SCORE + ("--config", "conf/bad.yaml"),
         yaml_conf("frame_shift: ten ms\n"), rc=2, says=("--frame_shift", "in config file conf/bad.yaml")),
    Case("score_sqa-yaml-out-of-range", "bad-config", SCORE[:-2] + ("--config", "conf/bad.yaml"),
         yaml_conf("bootstrap_samples: -5\n"), says=("--bootstrap_samples must be 0", "in config file conf/bad.yaml")),
    Case("score_sqa-yaml-missing", "bad-config", SCORE + ("--config", "conf/none.yaml"), says=("conf/none.yaml",)),
    Case("compute_cmvn-yaml-list-for-scalar", "bad-config", ("compute_cmvn", "--config", "conf/bad.yaml", "--out", "x.ark"),
         yaml_conf("feats_scp: [a, b]\n"), rc=2, says=("feats_scp", "conf/bad.yaml")),
    Case("compute_feats-yaml-bad-choice", "bad-config", ("compute_feats", "--config", "conf/bad.yaml", "--out_info_dir", "dump/x"),
         yaml_conf("feats_type: plp\n"), rc=2, says=("--feats_type", "conf/bad.yaml"), long=True),
    Case("sqa.sh-config-unknown-name", "bad-config", SQA + ("--config", "conf/run.conf"),
         put("conf/run.conf", "stage=2\nstopstage=3\n"), says=("conf/run.conf:2: unknown option 'stopstage'",), stage=0),
    Case("sqa_train-yaml-wrong-type", "bad-config", ("sqa_train", "--config", "conf/bad.yaml", "--output_dir", "exp/ft"),
         yaml_conf("max_epoch: ten\n"), rc=2, says=("--max_epoch", "conf/bad.yaml"), long=True),

    # -- bad-model ------------------------------------------------------------------------------
    Case("average_checkpoints-truncated", "bad-model", AVERAGE, truncate_snapshot(2),
         says=("exp/avg/snapshot.ep.2: cannot read model file",), needs=("snapshots",)),
    Case("average_checkpoints-not-a-checkpoint", "bad-model", AVERAGE, snapshot_bytes(1, b"epoch 1: loss 0.3\n"),
         says=("exp/avg/snapshot.ep.1",), needs=("snapshots",), long=True),
    Case("average_checkpoints-pickle-with-code", "bad-model", AVERAGE, pickle_with_code(2),
         says=("exp/avg/snapshot.ep.2", "never"), needs=("snapshots",), check=_no_pwned),
    Case("average_checkpoints-other-shapes", "bad-model", AVERAGE, other_shape_snapshot(2),
         says=("exp/avg/snapshot.ep.2: w: shape (5,) differs",), needs=("snapshots",), long=True),
    Case("align-ctc-truncated-aligner", "bad-model",
         ("align", "--model_dir", "exp/aligner", "--dump", "dump/test", "--data", T, "--out_ctm", "exp/a/word.ctm"),
         copy_model("aligner", "exp/aligner", truncate_file("aligner.pt")),
         says=("exp/aligner/aligner.pt",), long=True, needs=("models",)),
    Case("sqa_decode-truncated-model", "bad-model", DECODE[:2] + ("exp/finetune",) + DECODE[3:],
         copy_model("finetune", "exp/finetune", truncate_file("model.avg.pt")),
         says=("exp/finetune/model.avg.pt",), long=True, needs=("models",)),
    Case("sqa_decode-text-model", "bad-model", DECODE[:2] + ("{finetune_text}",) + DECODE[3:],
         says=("text",), long=True, needs=("models",)),
    Case("sqa_decode-cmvn-of-other-bytes", "bad-model", DECODE + ("--cmvn", "dump/test/cmvn.ark"),
         says=("dump/test/cmvn.ark",), long=True, needs=("models",)),
    Case("cascade_decode-pickle-with-code", "bad-model", CASCADE_DECODE[:2] + ("exp/finetune_text",) + CASCADE_DECODE[3:],
         copy_model("finetune_text", "exp/finetune_text",
                    lambda d: __import__("torch").save({"w": _Evil()}, d / "model.avg.pt")),
         says=("exp/finetune_text/model.avg.pt",), long=True, needs=("models",), check=_no_pwned),
    Case("sqa_train-init-model-truncated", "bad-model",
         ("sqa_train", "--bert_dir", "{bert_dir}", "--train_data", T, "--input_modality", "text", "--output_dir", "exp/ft",
          "--max_epoch", "1", "--num_workers", "0", "--batch_size", "8", "--bert_layers", "1", "--init_model", "exp/init.pt"),
         put("exp/init.pt", b"PK\x03\x04 truncated"), says=("exp/init.pt",), long=True, may_write=("exp/ft/*",)),
    Case("sqa_train-resume-from-foreign-checkpoint", "bad-model",
         ("sqa_train", "--bert_dir", "{bert_dir}", "--train_data", T, "--input_modality", "text", "--output_dir", "exp/ft",
          "--max_epoch", "1", "--num_workers", "0", "--batch_size", "8", "--bert_layers", "1", "--tensorboard", "false"),
         put("exp/ft/checkpoint.pt", b"not a checkpoint at all"), says=("exp/ft/checkpoint.pt",), long=True,
         may_write=("exp/ft/*",)),

    # -- the other training tools ---------------------------------------------------------------
    Case("align_train-unsorted-text", "unsorted",
         ("align_train", "--train_data", T, "--train_dump", "dump/test", "--cmvn", "dump/test/cmvn.ark",
          "--output_dir", "exp/ctc", "--max_epoch", "1", "--num_workers", "0", "--batch_size", "8", "--tensorboard", "false"),
         swap_lines(f"{T}/text", 2, 3), says=(f"{T}/text:3",), long=True, may_write=("exp/ctc/*",)),
    Case("joint_embed_train-ctm-words-differ", "cross-file",
         ("joint_embed_train", "--bert_dir", "{bert_dir}", "--train_data", T, "--train_dump", "dump/test",
          "--train_ctm", CTM, "--cmvn", "dump/test/cmvn.ark", "--output_dir", "exp/je", "--max_epoch", "1",
          "--num_workers", "0", "--batch_size", "8", "--tensorboard", "false"),
         edit(CTM, 6, lambda line: line.replace(" ran ", " run ")), says=(f"{CTM}:6",), long=True,
         may_write=("exp/je/*",)),
    Case("pretrain-missing-init-encoder", "missing-file",
         ("pretrain", "--bert_dir", "{bert_dir}", "--train_data", T, "--train_dump", "dump/test",
          "--train_ctm", CTM, "--cmvn", "dump/test/cmvn.ark", "--output_dir", "exp/pt", "--max_epoch", "1",
          "--num_workers", "0", "--batch_size", "8", "--tensorboard", "false", "--bert_layers", "1", "--init_audio_encoder",
          "exp/je/model.avg.pt"),
         says=("exp/je/model.avg.pt",), long=True, may_write=("exp/pt/*",)),

    # -- recipe stages that train (each fails on bad input and names its log) ------------------
    Case("sqa.sh-stage5-missing-train-ctm", "missing-file",
         SQA + ("--stage", "5", "--stop_stage", "5", "--joint_embed_config", "conf/je.yaml"),
         both(put("conf/je.yaml", "max_epoch: 1\nbatch_size: 8\nnum_workers: 0\n"), rm(CTM)), says=("exp/je/train.log",),
         stage=5, long=True,
         may_write=("exp/je/*", "exp/je/*/*")),
    Case("sqa.sh-stage6-missing-init-encoder", "missing-file",
         SQA + ("--stage", "6", "--stop_stage", "6", "--pretrain_config", "conf/pt.yaml"),
         both(put("conf/pt.yaml", "max_epoch: 1\nbatch_size: 8\nnum_workers: 0\n"), lambda r: os.makedirs(r / "exp/align/test", exist_ok=True)),
         says=("exp/pt/train.log",), stage=6, long=True, may_write=("exp/pt/*", "exp/pt/*/*")),
    Case("sqa.sh-stage7-missing-init-model", "missing-file",
         SQA + ("--stage", "7", "--stop_stage", "7", "--finetune_config", "conf/ft.yaml"),
         put("conf/ft.yaml", "max_epoch: 1\nbatch_size: 8\nnum_workers: 0\n"), says=("exp/ft/train.log",), stage=7, long=True,
         may_write=("exp/ft/*", "exp/ft/*/*")),
    Case("sqa.sh-stage8-missing-model", "missing-file", SQA + ("--stage", "8", "--stop_stage", "8"),
         says=("exp/finetune/decode_test/log/decode.1.log",), stage=8, long=True,
         may_write=("exp/finetune/*", "exp/finetune/*/*")),
    Case("sqa.sh-stage9-bad-questions", "question-mismatch",
         SQA + ("--stage", "9", "--stop_stage", "9", "--finetune_text_config", "conf/ftt.yaml"),
         both(put("conf/ftt.yaml", "max_epoch: 1\nbatch_size: 8\nnum_workers: 0\n"), edit_json(Q, 2, lambda q: q["answers"][0].update(char_start=3))),
         says=("exp/ftt/train.log",), stage=9, long=True, may_write=("exp/ftt/*", "exp/ftt/*/*")),
    Case("sqa.sh-stage1-unsorted-data", "unsorted", SQA + ("--stage", "1", "--stop_stage", "1"),
         data_sh(f"sort -r {T}/utt2spk > x && mv x {T}/utt2spk\n"), says=(f"{T}/utt2spk:2",), stage=1,
         may_write=(f"{T}/utt2spk",)),
    # -- discrete units (learn_units, dump_units) --------------------------------------------
    Case("learn_units-missing-archive", "missing-file", LEARN, rm("dump/test/feats.ark"),
         says=("dump/test/feats.scp", UTTS[0], "cannot open archive")),
    Case("learn_units-dimension-differs", "cross-file", LEARN, feats_matrix(4, lambda m: m[:, :13]),
         says=(f"dump/test/feats.scp ({UTTS[3]}): feature dimension 13 differs from {C.DIM}",)),
    Case("learn_units-nan", "bad-features", LEARN, feats_matrix(3, nan_at),
         says=(f"dump/test/feats.scp ({UTTS[2]}): features contain NaN/Inf",)),
    Case("learn_units-more-units-than-frames", "bad-option", LEARN[:4] + ("100000",) + LEARN[5:],
         says=("--num_units 100000 is more than the", "frames of dump/test/feats.scp")),
    Case("learn_units-max-frames-below-units", "bad-option", LEARN + ("--max_frames", "2"),
         says=("--max_frames 2 is less than --num_units 4",)),
    Case("learn_units-yaml-unknown-key", "bad-config", LEARN + ("--config", "conf/bad.yaml"),
         yaml_conf("num_unit: 4\n"), says=("conf/bad.yaml", "unknown option 'num_unit'")),
    Case("learn_units-yaml-bad-value", "bad-config", LEARN[:3] + ("--out", UNITS_CB, "--config", "conf/bad.yaml"),
         yaml_conf("num_units: 0\n"), says=("--num_units must be a positive integer", "conf/bad.yaml")),
    Case("dump_units-missing-codebook", "missing-file", DUMP_UNITS, says=(f"{UNITS_CB}: no such file",)),
    Case("dump_units-not-a-codebook", "bad-model", DUMP_UNITS, put(UNITS_CB, "not a codebook\n"),
         says=(f"{UNITS_CB}: not a units codebook",)),
    Case("dump_units-codebook-of-other-dimension", "cross-file", DUMP_UNITS, units_codebook(13, "fbank 13"),
         says=(f"codebook {UNITS_CB} is for 13-dim features ('fbank 13') but dump/test/feats.scp has "
               f"{C.DIM}-dim features ('fbank {C.DIM}')",)),
    Case("dump_units-codebook-of-other-feature-type", "cross-file", DUMP_UNITS, units_codebook(C.DIM, f"ssl {C.DIM}"),
         says=(f"codebook {UNITS_CB} was learned on 'ssl {C.DIM}' features but dump/test/feats.scp has "
               f"'fbank {C.DIM}'",)),
    Case("dump_units-nan", "bad-features", DUMP_UNITS, both(units_codebook(), feats_matrix(5, nan_at)),
         says=(f"dump/test/feats.scp ({UTTS[4]}): features contain NaN/Inf",)),
    Case("dump_units-out-dir-is-the-source-dump", "bad-option", DUMP_UNITS[:-1] + ("dump/test",), units_codebook(),
         says=("the unit dump dump/test cannot be the dump of its source features dump/test/feats.scp",)),
    Case("dump_units-valid", "tab-separator", DUMP_UNITS, both(units_codebook(),
         lambda r: (r / "dump/test/feats.scp").write_text((r / "dump/test/feats.scp").read_text().replace(" ", "\t", 1))),
         rc=0, outputs=("dump/units_4/test/units", "dump/units_4/test/feats.scp", "dump/units_4/test/feats.ark",
                        "dump/units_4/test/feats_type", "dump/units_4/test/utt2num_frames",
                        "dump/units_4/test/frame_shift", "dump/units_4/test/conf/units.yaml")),
]

# The log of a failing training stage must name what was wrong (checked in the test).
LOG_SAYS: dict[str, tuple[str, str]] = {
    "sqa.sh-stage3-missing-dump": ("exp/ctc/train.log", "dump/fbank/test"),
    "sqa.sh-stage5-missing-train-ctm": ("exp/je/train.log", "exp/align/test/word.ctm"),
    "sqa.sh-stage6-missing-init-encoder": ("exp/pt/train.log", "exp/joint_embed/model.avg.pt"),
    "sqa.sh-stage7-missing-init-model": ("exp/ft/train.log", "exp/pretrain/model.avg.pt"),
    "sqa.sh-stage8-missing-model": ("exp/finetune/decode_test/log/decode.1.log", "exp/finetune"),
    "sqa.sh-stage9-bad-questions": ("exp/ftt/train.log", f"{Q}:2"),
    "sqa.sh-stage2-truncated-wav": ("dump/fbank/test/log/make_feats.1.log", f"({UTTS[3]}): truncated audio ({wav(UTTS[3])})"),
}
