"""Tests for ``python -m speechbert.bin.compute_feats`` (run in-process through main())."""

from __future__ import annotations

import sys
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


# ------------------------------------------------------------------ frontends (registry, SSL)

# conf/fbank.yaml before frontends were registered: what old dumps and packed models hold
OLD_FBANK_YAML = """feats_type: fbank
sample_rate: 16000
num_mel_bins: 80
frame_length: 25
frame_shift: 10
dither: 0.0
preemphasis_coefficient: 0.97
window_type: povey
low_freq: 20
high_freq: 0
"""


def _old_path_archive(tmp_path: Path, wav_scp: Path) -> bytes:
    """The archive the first version wrote: extract_to_ark over FeatureExtractor(FeatureConfig())."""
    from speechbert.audio.extract import extract_to_ark
    from speechbert.audio.wav_io import WavSource

    out = tmp_path / "old"
    extract_to_ark(WavSource(str(wav_scp), sample_rate=RATE), FeatureExtractor(FeatureConfig()), out / "f.ark",
                   out / "f.scp", out / "n")
    return (out / "f.ark").read_bytes()


def test_recipe_fbank_config_old_flat_config_and_old_options_give_identical_archives(tmp_path, data):
    template = Path(__file__).resolve().parents[3] / "egs" / "TEMPLATE" / "sqa1" / "conf" / "fbank.yaml"
    old_conf = tmp_path / "old_fbank.yaml"
    old_conf.write_text(OLD_FBANK_YAML)
    reference = _old_path_archive(tmp_path, data / "wav.scp")
    for k, extra in enumerate([("--config", str(template)), ("--config", str(old_conf)),
                               ("--feats_type", "fbank", "--num_mel_bins", "80"),
                               ("--frontend", "fbank", "--frontend_conf", "{num_mel_bins: 80}"), ()]):
        code, out = _run(tmp_path / str(k), data / "wav.scp", *extra)
        assert code == 0
        assert (out / "feats.1.ark").read_bytes() == reference, extra


def test_frontend_options_and_the_old_ones_do_not_mix(tmp_path, data, capsys):
    code, _ = _run(tmp_path, data / "wav.scp", "--num_mel_bins", "40", "--frontend_conf", "{num_mel_bins: 40}")
    assert code == 1 and "--num_mel_bins is an option of the old flat form" in capsys.readouterr().err
    code, _ = _run(tmp_path, data / "wav.scp", "--frontend", "mfcc", "--feats_type", "fbank")
    assert code == 1 and "--frontend mfcc contradicts --feats_type fbank" in capsys.readouterr().err
    conf = tmp_path / "bad.yaml"
    conf.write_text("frontend: fbank\nfrontend_conf:\n  num_mel_bin: 40\n")
    assert main(["--config", str(conf), "--out_info_dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "unknown option 'num_mel_bin' for frontend 'fbank'" in err and str(conf) in err


def test_help_lists_the_frontends_and_their_options(capsys):
    assert main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for text in ("--frontend {fbank,mfcc,ssl}", "fbank (log-mel filterbank, Kaldi-compatible): sample_rate: int = 16000",
                 "num_ceps: int = 13", "ssl (self-supervised", "checkpoint: str = ''", "--ngpu"):
        assert text in out, text
    assert "--num_mel_bins" not in out  # the old flat options are read, not advertised


@pytest.fixture
def tiny_ssl(tmp_path: Path) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audio" / "frontends"))
    import ssl_fixture as sf

    model = sf.tiny_model("wavlm", "group_norm")
    path = sf.save_state_dict(model, tmp_path / "wavlm_tiny.pt")
    return {"model": model, "conf": {"family": "wavlm", "checkpoint": str(path), "layer": 1,
                                     "arch_conf": sf.tiny_arch("wavlm", "group_norm")}}


def test_ssl_frontend_from_the_command_line_and_a_yaml_config(tmp_path, data, tiny_ssl):
    import json

    import torch
    import yaml

    code, out = _run(tmp_path / "cli", data / "wav.scp", "--frontend", "ssl", "--frontend_conf",
                     json.dumps(tiny_ssl["conf"]))
    assert code == 0
    # 0.8 s, 0.5 s and 0.6 s (22.05 kHz, resampled): 1 + (n - 345) // 320 frames of 20 ms
    assert (out / "utt2num_frames.1").read_text() == "a 39\nb 24\nc 29\n"
    feats = dict(kaldiio.load_scp(str(out / "feats.1.scp")).items())
    with torch.no_grad():
        wave = torch.from_numpy(soundfile.read(data / "a.wav", dtype="float32")[0])[None]
        want = tiny_ssl["model"].extract_features(wave)[0][0][0].numpy()
    assert feats["a"].shape == (39, 32)
    np.testing.assert_allclose(feats["a"], want, atol=1e-5)

    conf = tmp_path / "ssl.yaml"
    conf.write_text(yaml.safe_dump({"frontend": "ssl", "frontend_conf": tiny_ssl["conf"]}))
    code, out2 = _run(tmp_path / "yaml", data / "wav.scp", "--config", str(conf))
    assert code == 0
    assert (out2 / "feats.1.ark").read_bytes() == (out / "feats.1.ark").read_bytes()
    assert main(["--config", str(conf), "--out_info_dir", str(tmp_path / "info")]) == 0
    assert (tmp_path / "info" / "feats_type").read_text() == "ssl 32\n"
    assert (tmp_path / "info" / "frame_shift").read_text() == "0.02\n"
    sub = tmp_path / "sub.yaml"
    sub.write_text(yaml.safe_dump({"frontend": "ssl", "frontend_conf": {**tiny_ssl["conf"], "subsample": 2}}))
    assert main(["--config", str(sub), "--out_info_dir", str(tmp_path / "info2")]) == 0
    assert (tmp_path / "info2" / "frame_shift").read_text() == "0.04\n"


def test_ssl_checkpoint_problems_fail_before_any_work(tmp_path, tiny_ssl, capsys):
    import json

    missing = {**tiny_ssl["conf"], "checkpoint": str(tmp_path / "none.pt")}
    assert main(["--frontend", "ssl", "--frontend_conf", json.dumps(missing), "--out_info_dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "none.pt: no such file or directory (expected the weights of wavlm base + arch_conf (2 layers, 32 dims" in err
    assert not (tmp_path / "feats_type").exists()


def test_ngpu_without_a_gpu_is_a_config_error(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["--ngpu", "1", "--out_info_dir", str(tmp_path)]) == 1
    assert "--ngpu 1 but no CUDA device is available" in capsys.readouterr().err
