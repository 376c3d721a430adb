"""Tests for ``python -m speechbert.bin.learn_units`` (run in-process through main())."""

from __future__ import annotations

import json
import zipfile

import numpy as np

from speechbert.bin.learn_units import main
from speechbert.io.feats import ArkWriter
from speechbert.units.codebook import Codebook

CENTRES = np.array([[8, 0, 0, 0], [0, 8, 0, 0], [0, 0, 8, 0]], np.float32)


def write_dump(dump, mats, feats_type="ssl 4", frame_shift="0.02", conf="model: toy\nlayer: 6\n"):
    """A dump dir as the feature stage writes it: feats.{ark,scp}, utt2num_frames, facts, conf copy."""
    dump.mkdir(parents=True, exist_ok=True)
    ark = dump / "feats.1.ark"
    with ArkWriter(ark, ark.resolve()) as w:
        for utt, m in mats.items():
            w.write(utt, m.astype(np.float32))
    (dump / "feats.scp").write_text("".join(w.scp_lines))
    (dump / "utt2num_frames").write_text("".join(f"{u} {len(m)}\n" for u, m in mats.items()))
    (dump / "feats_type").write_text(feats_type + "\n")
    (dump / "frame_shift").write_text(frame_shift + "\n")
    (dump / "conf").mkdir(exist_ok=True)
    (dump / "conf" / "ssl.yaml").write_text(conf)
    return dump / "feats.scp"


def blob_utts(num_utts=6, seed=0):
    """Utterances of runs of frames around one of three centres; returns mats and true labels."""
    rng = np.random.default_rng(seed)
    mats, labels = {}, {}
    for i in range(num_utts):
        lab = np.repeat(rng.integers(3, size=6), rng.integers(3, 9, size=6))
        mats[f"utt{i:02d}"] = CENTRES[lab] + 0.5 * rng.standard_normal((len(lab), 4))
        labels[f"utt{i:02d}"] = lab
    return mats, labels


def test_learns_the_centres_and_records_the_dump_facts(tmp_path):
    mats, _ = blob_utts()
    scp = write_dump(tmp_path / "dump" / "train", mats)
    out = tmp_path / "exp" / "units_3" / "codebook.npz"
    assert main(["--feats_scp", str(scp), "--num_units", "3", "--batch_size", "32", "--out", str(out)]) == 0
    cb = Codebook.load(out)
    assert (cb.num_units, cb.dim, cb.normalize) == (3, 4, False)
    order = np.argsort(cb.centroids.argmax(axis=1))  # centroid of centre j = the one peaking in dim j
    np.testing.assert_allclose(cb.centroids[order], CENTRES, atol=0.25)
    total = sum(len(m) for m in mats.values())
    info = cb.info
    assert info["feats_type"] == "ssl 4" and info["frame_shift"] == 0.02
    assert info["feats_config"] == {"model": "toy", "layer": 6} and info["feats_config_file"] == "ssl.yaml"
    assert (info["frames_sampled"], info["total_frames"], info["utts_sampled"]) == (total, total, 6)
    assert info["seed"] == 1 and info["epochs"] == len(info["inertia"]) and info["converged"]
    assert info["inertia"][-1] < 1.2  # 4 dims of noise variance 0.25


def test_same_seed_same_bytes_yaml_config_and_normalisation(tmp_path):
    mats, labels = blob_utts(seed=2)
    scp = write_dump(tmp_path / "dump", mats)
    conf = tmp_path / "units.yaml"
    conf.write_text("num_units: 3\nmax_frames: 60\nbatch_size: 16\nseed: 5\nnormalize: true\n")
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for out in (a, b):
        assert main(["--config", str(conf), "--feats_scp", str(scp), "--out", str(out)]) == 0
    assert a.read_bytes() == b.read_bytes()
    cb = Codebook.load(a)
    assert cb.info["frames_sampled"] == 60 and cb.info["max_frames"] == 60 and cb.info["seed"] == 5
    assert cb.normalize and cb.mean.shape == (4,)
    head = json.loads(zipfile.ZipFile(a).read("header.json"))
    assert head["normalize"] is True and head["num_units"] == 3
    # the normalised codebook still separates the centres: each true centre gets its own unit
    pred = np.concatenate([cb.assign(m.astype(np.float32)) for m in mats.values()])
    truth = np.concatenate(list(labels.values()))
    assert all(len(set(pred[truth == c])) == 1 for c in range(3)) and len(set(pred)) == 3


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    mats, _ = blob_utts(num_utts=2)
    total = sum(len(m) for m in mats.values())
    scp = write_dump(tmp_path / "dump", mats)
    out = tmp_path / "cb.npz"
    assert main(["--feats_scp", str(scp), "--num_units", "500", "--max_frames", "1000", "--out", str(out)]) == 1
    assert f"--num_units 500 is more than the {total} frames of {scp}" in capsys.readouterr().err
    assert main(["--feats_scp", str(scp), "--num_units", "8", "--max_frames", "4", "--out", str(out)]) == 1
    assert "--max_frames 4 is less than --num_units 8" in capsys.readouterr().err
    mats["utt01"][3, 2] = np.nan
    scp = write_dump(tmp_path / "nan", mats)
    assert main(["--feats_scp", str(scp), "--num_units", "3", "--out", str(out)]) == 1
    assert f"{scp} (utt01): features contain NaN/Inf" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("num_unit: 3\n")
    assert main(["--config", str(bad), "--feats_scp", str(scp), "--out", str(out)]) == 1
    assert "unknown option 'num_unit'" in capsys.readouterr().err
    assert main(["--feats_scp", str(scp), "--out", str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))
