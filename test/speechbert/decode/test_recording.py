"""A new recording: reading, chunking at quiet frames, feature config discovery, clips."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import soundfile

from speechbert.decode.recording import (chunk_bounds, feature_config_from_type, find_feature_config, frame_energy,
                                         read_recording, resolve_recorded_path, write_clip)
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
    assert feature_config_from_type("fbank 80", 0.01).dim == 80
    mfcc = feature_config_from_type("mfcc 39", 0.01)
    assert (mfcc.num_ceps, mfcc.deltas, mfcc.dim) == (13, True, 39)
    assert feature_config_from_type("fbank 40", 0.02).frame_shift == 20.0
    with pytest.raises(ConfigError):
        feature_config_from_type("plp", 0.01)
    dump = tmp_path / "dump" / "train"
    dump.mkdir(parents=True)
    (dump / "feats_type").write_text("fbank 20\n")
    (dump / "frame_shift").write_text("0.01\n")
    args = argparse.Namespace(train_dump="dump/train")
    model_dir = tmp_path / "exp" / "finetune"
    model_dir.mkdir(parents=True)
    assert resolve_recorded_path("dump/train", model_dir) == tmp_path / "dump/train"  # from the recipe dir
    cfg, where = find_feature_config(model_dir, args)
    assert (cfg.feats_type, cfg.num_mel_bins, where) == ("fbank", 20, str(dump / "feats_type"))
    (dump / "conf").mkdir()
    (dump / "conf" / "fbank.yaml").write_text("feats_type: fbank\nnum_mel_bins: 20\ndither: 0.5\n")
    cfg, _ = find_feature_config(model_dir, args)
    assert cfg.dither == 0.5
    with pytest.raises(ConfigError, match="--feats_config"):
        find_feature_config(model_dir, argparse.Namespace(train_dump="elsewhere"))
