"""Tests for ``python -m speechbert.bin.dump_units`` (run in-process through main())."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import yaml

from speechbert.bin.dump_units import main
from speechbert.io.dump_dir import read_dump_facts, read_frame_shift
from speechbert.io.feats import ArkWriter, FeatsReader
from speechbert.io.kaldi_table import read_table
from speechbert.units.codebook import Codebook

CENTRES = np.array([[8, 0, 0, 0], [0, 8, 0, 0], [0, 0, 8, 0]], np.float32)


def write_dump(dump, mats, feats_type="ssl 4", frame_shift="0.02", conf="model: toy\nlayer: 6\n"):
    """A dump dir as the feature stage writes it: feats.{ark,scp}, utt2num_frames, facts, conf copy."""
    dump.mkdir(parents=True, exist_ok=True)
    ark = dump / "feats.1.ark"
    with ArkWriter(ark, ark.resolve()) as w:
        for utt, m in mats.items():
            w.write(utt, np.asarray(m, np.float32))
    (dump / "feats.scp").write_text("".join(w.scp_lines))
    (dump / "utt2num_frames").write_text("".join(f"{u} {len(m)}\n" for u, m in mats.items()))
    (dump / "feats_type").write_text(feats_type + "\n")
    (dump / "frame_shift").write_text(frame_shift + "\n")
    (dump / "conf").mkdir(exist_ok=True)
    (dump / "conf" / "ssl.yaml").write_text(conf)
    return dump / "feats.scp"


@pytest.fixture
def codebook_file(tmp_path):
    """A codebook of the three centres, shuffled (unit ids are not the centre numbers), as learned
    on the dump written by ``write_dump`` with its defaults."""
    path = tmp_path / "exp" / "codebook.npz"
    Codebook(CENTRES[[2, 0, 1]], info={"feats_type": "ssl 4", "frame_shift": 0.02,
                                       "feats_config": {"model": "toy", "layer": 6}}).save(path)
    return path


def utts(seed=0):
    rng = np.random.default_rng(seed)
    labels = {"a-1": np.array([0, 0, 1, 1, 1, 2]), "a-2": np.array([2, 2, 2, 0]), "b-1": np.array([1])}
    return {u: CENTRES[lab] + 0.3 * rng.standard_normal((len(lab), 4)) for u, lab in labels.items()}


def test_writes_the_unit_table_and_a_dump_view(tmp_path, codebook_file):
    scp = write_dump(tmp_path / "dump" / "test", utts())
    out = tmp_path / "dump" / "units_3" / "test"
    assert main(["--feats_scp", str(scp), "--codebook", str(codebook_file), "--out_dir", str(out)]) == 0
    # centre c is unit [1, 2, 0][c] of the shuffled codebook
    expect = {"a-1": "1 1 2 2 2 0", "a-2": "0 0 0 1", "b-1": "2"}
    assert read_table(out / "units") == expect
    assert (out / "units").read_text() == "a-1 1 1 2 2 2 0\na-2 0 0 0 1\nb-1 2\n"
    with FeatsReader(out / "feats.scp") as r:
        assert r.keys() == ["a-1", "a-2", "b-1"]
        for utt, ids in expect.items():
            m = r.load(utt)
            assert m.shape == (len(ids.split()), 1) and m.dtype == np.float32
            np.testing.assert_array_equal(m[:, 0], [float(i) for i in ids.split()])
    assert all(line.split()[1].startswith("/") for line in (out / "feats.scp").read_text().splitlines())
    assert read_table(out / "utt2num_frames") == {"a-1": "6", "a-2": "4", "b-1": "1"}
    assert (out / "feats_type").read_text() == "units 3\n"
    assert read_frame_shift(out) == 0.02
    facts = read_dump_facts(out)
    assert facts["feats_type"] == "units 3" and facts["feats_config_file"] == "units.yaml"
    conf = yaml.safe_load((out / "conf" / "units.yaml").read_text())
    assert conf["codebook_sha256"] == hashlib.sha256(codebook_file.read_bytes()).hexdigest()
    assert conf["source_feats_type"] == "ssl 4" and conf["source_feats_config"] == {"model": "toy", "layer": 6}
    assert conf["num_units"] == 3 and conf["normalize"] is False


def test_features_of_another_kind_are_refused(tmp_path, codebook_file, capsys):
    out = tmp_path / "units"
    mats5 = {u: np.concatenate([m, np.zeros((len(m), 1))], axis=1) for u, m in utts().items()}
    scp = write_dump(tmp_path / "d5", mats5, feats_type="ssl 5")
    assert main(["--feats_scp", str(scp), "--codebook", str(codebook_file), "--out_dir", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"codebook {codebook_file} is for 4-dim features ('ssl 4') but {scp} has 5-dim features ('ssl 5')" in err
    scp = write_dump(tmp_path / "layer9", utts(), conf="model: toy\nlayer: 9\n")
    assert main(["--feats_scp", str(scp), "--codebook", str(codebook_file), "--out_dir", str(out)]) == 1
    err = capsys.readouterr().err
    assert "another feature config" in err and "(they differ in layer)" in err
    scp = write_dump(tmp_path / "fbank", utts(), feats_type="fbank 4")
    assert main(["--feats_scp", str(scp), "--codebook", str(codebook_file), "--out_dir", str(out)]) == 1
    assert "learned on 'ssl 4' features" in capsys.readouterr().err
    assert not out.exists()


def test_bad_input_writes_nothing(tmp_path, codebook_file, capsys):
    mats = utts()
    mats["a-2"][1, 3] = np.inf
    scp = write_dump(tmp_path / "dump", mats)
    out = tmp_path / "units"
    assert main(["--feats_scp", str(scp), "--codebook", str(codebook_file), "--out_dir", str(out)]) == 1
    assert f"{scp} (a-2): features contain NaN/Inf" in capsys.readouterr().err
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]
    scp = write_dump(tmp_path / "good", utts())
    before = {p: p.read_bytes() for p in (tmp_path / "good").rglob("*") if p.is_file()}
    assert main(["--feats_scp", str(scp), "--codebook", str(codebook_file), "--out_dir", str(tmp_path / "good")]) == 1
    assert "cannot be the dump of its source features" in capsys.readouterr().err
    assert before == {p: p.read_bytes() for p in (tmp_path / "good").rglob("*") if p.is_file()}
    assert main(["--feats_scp", str(scp), "--codebook", str(tmp_path / "none.npz"), "--out_dir", str(out)]) == 1
    assert f"{tmp_path / 'none.npz'}: no such file" in capsys.readouterr().err
