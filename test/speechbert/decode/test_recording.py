"""A new recording: reading, chunking at quiet frames, feature config discovery, clips."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import soundfile

from speechbert.audio.frontends import frontend_from_type_line
from speechbert.decode.recording import (chunk_bounds, find_feature_config, frame_energy, read_recording,
                                         resolve_recorded_path, write_clip)
from speechbert.errors import ConfigError, DataError


def test_stereo_is_mixed_down_with_a_note(tmp_path):
    left = np.linspace(-0.5, 0.5, 8000, dtype=np.float32)
    path = tmp_path / "x.wav"
    soundfile.write(path, np.stack([left, np.zeros_like(left)], 1), 8000, subtype="FLOAT")
    rec = read_recording(path)
    assert rec.sample_rate == 8000 and rec.duration == pytest.approx(1.0)
    np.testing.assert_allclose(rec.samples, left / 2, atol=1e-6)
    assert rec.notes == ["mixed 2 channels down to mono"]


def test_unreadable_audio_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such audio file"):
        read_recording(tmp_path / "missing.wav")
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(DataError, match="cannot read audio"):
        read_recording(bad)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(DataError, match="empty audio"):
        read_recording(empty)


def test_clip_has_the_span_duration(tmp_path):
    path = tmp_path / "x.wav"
    soundfile.write(path, np.full(22050 * 2, 0.1, np.float32), 22050)
    rec = read_recording(path)
    assert write_clip(tmp_path / "clip.wav", rec, 0.5, 1.25) == pytest.approx(0.75, abs=1e-4)
    info = soundfile.info(tmp_path / "clip.wav")
    assert info.samplerate == 22050 and abs(info.frames - 0.75 * 22050) <= 1
    with pytest.raises(ConfigError, match="unknown audio format"):
        write_clip(tmp_path / "clip.xyz", rec, 0.0, 1.0)


def test_chunks_end_at_the_quietest_frame_of_their_second_half():
    energy = np.zeros(25)
    energy[[3, 7, 16, 19]] = -5.0  # frame 3 is in the first half of chunk 1: not a cut candidate
    assert chunk_bounds(energy, 10) == [(0, 7), (7, 16), (16, 25)]
    assert chunk_bounds(energy, 100) == [(0, 25)]
    bounds = chunk_bounds(np.random.default_rng(0).normal(size=1000), 64)
    assert bounds[0][0] == 0 and bounds[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert all(32 <= e - s <= 64 for s, e in bounds[:-1])


def test_frame_energy_follows_the_signal():
    x = np.concatenate([np.zeros(300), np.ones(300)]).astype(np.float32)
    e = frame_energy(x, 100, 7)
    assert len(e) == 7 and e[0] < -20 and e[5] == pytest.approx(np.log(100.0))
    assert e[6] == e[5]  # padded to the feature frame count


def test_feature_config_from_the_recorded_files(tmp_path):
    assert frontend_from_type_line("fbank 80", 0.01).dim == 80
    mfcc = frontend_from_type_line("mfcc 39", 0.01)
    assert (mfcc.conf.num_ceps, mfcc.conf.use_deltas, mfcc.conf.num_mel_bins, mfcc.dim) == (13, True, 23, 39)
    assert frontend_from_type_line("fbank 40", 0.02).conf.frame_shift == 20.0
    assert frontend_from_type_line("fbank 40", 0.02).frame_shift == 0.02
    with pytest.raises(ConfigError):
        frontend_from_type_line("plp", 0.01)
    with pytest.raises(ConfigError, match="--feats_config"):  # which model? only the config copy says
        frontend_from_type_line("ssl 768", 0.02)
    dump = tmp_path / "dump" / "train"
    dump.mkdir(parents=True)
    (dump / "feats_type").write_text("fbank 20\n")
    (dump / "frame_shift").write_text("0.01\n")
    args = argparse.Namespace(train_dump="dump/train")
    model_dir = tmp_path / "exp" / "finetune"
    model_dir.mkdir(parents=True)
    assert resolve_recorded_path("dump/train", model_dir) == tmp_path / "dump/train"  # from the recipe dir
    cfg, where = find_feature_config(model_dir, args)
    assert (cfg.name, cfg.conf.num_mel_bins, where) == ("fbank", 20, str(dump / "feats_type"))
    (dump / "conf").mkdir()
    # an old flat copy (dumps made before frontends were registered)
    (dump / "conf" / "fbank.yaml").write_text("feats_type: fbank\nnum_mel_bins: 20\ndither: 0.5\n")
    cfg, _ = find_feature_config(model_dir, args)
    assert (cfg.name, cfg.conf.num_mel_bins, cfg.conf.dither) == ("fbank", 20, 0.5)
    # the new form
    (dump / "conf" / "fbank.yaml").write_text("frontend: mfcc\nfrontend_conf: {num_ceps: 10, use_deltas: false}\n")
    cfg, where = find_feature_config(model_dir, args)
    assert (cfg.feats_type_line, where) == ("mfcc 10", str(dump / "conf" / "fbank.yaml"))
    with pytest.raises(ConfigError, match="--feats_config"):
        find_feature_config(model_dir, argparse.Namespace(train_dump="elsewhere"))


def test_an_ssl_feature_config_copy_finds_its_checkpoint_from_the_recipe_dir(tmp_path, monkeypatch):
    import sys
    from pathlib import Path

    import yaml

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audio" / "frontends"))
    import ssl_fixture as sf

    recipe = tmp_path / "recipe"
    (recipe / "exp" / "finetune").mkdir(parents=True)
    (recipe / "downloads").mkdir()
    sf.save_state_dict(sf.tiny_model("hubert"), recipe / "downloads" / "h.pt")
    dump = recipe / "dump" / "train"
    (dump / "conf").mkdir(parents=True)
    (dump / "feats_type").write_text("ssl 32\n")
    (dump / "conf" / "ssl.yaml").write_text(yaml.safe_dump({"frontend": "ssl", "frontend_conf": {
        "family": "hubert", "checkpoint": "downloads/h.pt", "arch_conf": sf.tiny_arch("hubert"), "layer": 1}}))
    monkeypatch.chdir(tmp_path)  # not the recipe dir: paths are found from exp/<name>/../..
    frontend, where = find_feature_config(recipe / "exp" / "finetune", argparse.Namespace(train_dump="dump/train"))
    assert (frontend.feats_type_line, frontend.frame_shift, where) == ("ssl 32", 0.02, str(dump / "conf" / "ssl.yaml"))
    assert frontend(sf.speechlike(0.5)).shape == (24, 32)
    (dump / "conf" / "ssl.yaml").unlink()  # only the feats_type line: it cannot say which model
    with pytest.raises(ConfigError, match="--feats_config"):
        find_feature_config(recipe / "exp" / "finetune", argparse.Namespace(train_dump="dump/train"))
