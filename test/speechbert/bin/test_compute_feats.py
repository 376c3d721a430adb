"""Tests for ``python -m speechbert.bin.compute_feats`` (run in-process through main())."""

from __future__ import annotations

from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile

from speechbert.audio.features import FeatureConfig, FeatureExtractor
from speechbert.bin.compute_feats import main

RATE = 16000


def _tone(freq: float, seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    noise = 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.3 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


def _chirp(seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * (200 + 1500 * t) * t)).astype(np.float32)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data dir with a plain path, a pipe entry and a 22.05 kHz file."""
    d = tmp_path / "data"
    d.mkdir()
    soundfile.write(d / "a.wav", _tone(440, 0.8), RATE, subtype="PCM_16")
    soundfile.write(d / "b.wav", _chirp(0.5), RATE, subtype="PCM_16")
    soundfile.write(d / "c.wav", _tone(1000, 0.6, rate=22050), 22050, subtype="PCM_16")
    (d / "wav.scp").write_text(f"a {d}/a.wav\nb cat {d}/b.wav |\nc {d}/c.wav\n")
    return d


def _run(tmp_path: Path, wav_scp: Path, *extra: str) -> tuple[int, Path]:
    out = tmp_path / "dump"
    code = main(["--wav_scp", str(wav_scp), "--out_ark", str(out / "feats.1.ark"),
                 "--out_scp", str(out / "feats.1.scp"), "--out_utt2num_frames", str(out / "utt2num_frames.1"),
                 *extra])
    return code, out


def test_writes_ark_scp_and_utt2num_frames(tmp_path, data, capsys):
    code, out = _run(tmp_path, data / "wav.scp")
    log = capsys.readouterr().err
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["feats.1.ark", "feats.1.scp", "utt2num_frames.1"]
    lines = (out / "feats.1.scp").read_text().splitlines()
    assert [ln.split()[0] for ln in lines] == ["a", "b", "c"]
    assert all(ln.split()[1].startswith(f"{out}/feats.1.ark:") for ln in lines)
    assert (out / "utt2num_frames.1").read_text() == "a 78\nb 48\nc 58\n"
    feats = dict(kaldiio.load_scp(str(out / "feats.1.scp")).items())
    ext = FeatureExtractor(FeatureConfig())
    np.testing.assert_array_equal(feats["a"], ext(soundfile.read(data / "a.wav", dtype="float32")[0]))
    np.testing.assert_array_equal(feats["b"], ext(soundfile.read(data / "b.wav", dtype="float32")[0]))
    assert feats["c"].shape == (58, 80)
    assert "c: resampling 22050 Hz audio to 16000 Hz" in log
    assert "resampled 1; skipped 0" in log


def test_yaml_config_and_info_dir(tmp_path, data):
    conf = tmp_path / "mfcc.yaml"
    conf.write_text("feats_type: mfcc\nnum_mel_bins: 23\nnum_ceps: 13\nuse_deltas: true\nframe_shift: 10\n")
    code, out = _run(tmp_path, data / "wav.scp", "--config", str(conf))
    assert code == 0
    assert kaldiio.load_scp(str(out / "feats.1.scp"))["a"].shape == (78, 39)
    assert main(["--config", str(conf), "--out_info_dir", str(tmp_path / "info")]) == 0
    assert (tmp_path / "info" / "feats_type").read_text() == "mfcc 39\n"
    assert (tmp_path / "info" / "frame_shift").read_text() == "0.01\n"


def test_template_configs_parse(tmp_path):
    conf_dir = Path(__file__).resolve().parents[3] / "egs" / "TEMPLATE" / "sqa1" / "conf"
    for name, line in [("fbank.yaml", "fbank 80\n"), ("mfcc.yaml", "mfcc 39\n")]:
        assert main(["--config", str(conf_dir / name), "--out_info_dir", str(tmp_path / name)]) == 0
        assert (tmp_path / name / "feats_type").read_text() == line


def test_unknown_config_key_is_an_error(tmp_path, capsys):
    conf = tmp_path / "bad.yaml"
    conf.write_text("num_mel_bin: 40\n")
    assert main(["--config", str(conf), "--out_info_dir", str(tmp_path)]) == 1
    assert "unknown option 'num_mel_bin'" in capsys.readouterr().err


def _add_bad(data: Path, name: str, writer) -> Path:
    writer(data / f"{name}.wav")
    scp = data / f"wav_{name}.scp"
    scp.write_text((data / "wav.scp").read_text().replace("b cat", f"a0{name} {data}/{name}.wav\nb cat"))
    return scp


@pytest.mark.parametrize("name, writer, message", [
    ("empty", lambda p: soundfile.write(p, np.zeros(0, np.float32), RATE), "empty audio"),
    ("corrupt", lambda p: p.write_bytes(b"RIFF1234WAVEfmt garbage"), "cannot decode audio"),
    ("stereo", lambda p: soundfile.write(p, np.zeros((8000, 2), np.float32), RATE), "2 channels"),
    ("short", lambda p: soundfile.write(p, np.zeros(100, np.float32), RATE), "too short"),
    ("nan", lambda p: soundfile.write(p, np.full(4000, np.nan, np.float32), RATE, subtype="FLOAT"),
     "NaN/Inf"),
])
def test_bad_utterance_fails_naming_it_and_writes_nothing(tmp_path, data, capsys, name, writer, message):
    scp = _add_bad(data, name, writer)
    code, out = _run(tmp_path, scp)
    err = capsys.readouterr().err
    assert code == 1
    assert f"a0{name}" in err and message in err
    assert not out.exists() or list(out.iterdir()) == []


def test_skip_bad_utts_skips_and_counts(tmp_path, data, capsys):
    scp = _add_bad(data, "corrupt", lambda p: p.write_bytes(b"not a wav"))
    code, out = _run(tmp_path, scp, "--skip_bad_utts", "true")
    log = capsys.readouterr().err
    assert code == 0
    assert [ln.split()[0] for ln in (out / "feats.1.scp").read_text().splitlines()] == ["a", "b", "c"]
    assert "skipping a0corrupt" in log and "skipped 1 (a0corrupt)" in log


def test_missing_file_and_duplicate_keys(tmp_path, data, capsys):
    scp = data / "missing.scp"
    scp.write_text(f"a {data}/a.wav\nz {data}/zzz.wav\n")
    assert _run(tmp_path, scp)[0] == 1
    assert "(z): no such audio file" in capsys.readouterr().err
    scp.write_text(f"a {data}/a.wav\na {data}/b.wav\n")
    assert _run(tmp_path, scp)[0] == 1
    assert "missing.scp:2: duplicate key 'a'" in capsys.readouterr().err


def test_channel_option_reads_stereo(tmp_path, data):
    left, right = _tone(300, 0.5), _tone(2000, 0.5, seed=1)
    soundfile.write(data / "st.wav", np.stack([left, right], axis=1), RATE, subtype="PCM_16")
    scp = data / "st.scp"
    scp.write_text(f"st {data}/st.wav\n")
    code, out = _run(tmp_path, scp, "--channel", "1")
    assert code == 0
    got = kaldiio.load_scp(str(out / "feats.1.scp"))["st"]
    mono = soundfile.read(data / "st.wav", dtype="float32")[0][:, 1].copy()
    np.testing.assert_array_equal(got, FeatureExtractor(FeatureConfig())(mono))


def test_segments(tmp_path, data):
    (data / "segments").write_text("a-1 a 0.0 0.3\na-2 a 0.3 -1\n")
    code, out = _run(tmp_path, data / "wav.scp", "--segments", str(data / "segments"))
    assert code == 0
    assert (out / "utt2num_frames.1").read_text() == "a-1 28\na-2 48\n"


def test_missing_required_options(tmp_path, capsys):
    assert main(["--out_ark", str(tmp_path / "x.ark")]) == 1
    assert "missing required option(s): --wav_scp --out_scp" in capsys.readouterr().err
