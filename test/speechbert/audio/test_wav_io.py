"""Tests for speechbert.audio.wav_io: wav.scp paths and pipes, segments, channels, resampling."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile

from speechbert.audio.wav_io import WavSource, read_audio, read_segments, resample
from speechbert.errors import DataError


def test_path_and_pipe_entries_read_the_same_samples(write_wav, make_tone):
    x = make_tone(440, 0.5)
    path = write_wav("a.wav", x)
    from_file, rate = read_audio(str(path), utt="u1")
    from_pipe, rate2 = read_audio(f"cat {path} |", utt="u1")
    assert rate == rate2 == 16000
    np.testing.assert_array_equal(from_file, from_pipe)
    # PCM_16 round trip: within one quantization step of the written samples
    assert np.max(np.abs(from_file - x)) <= 1 / 32768 + 1e-7


def test_failing_pipe_names_the_utterance_and_the_command(tmp_path):
    with pytest.raises(DataError, match=r"utt7.*cat .*missing\.wav \|' failed"):
        read_audio(f"cat {tmp_path}/missing.wav |", utt="utt7", where="data/wav.scp")


def test_missing_file_names_the_utterance(tmp_path):
    with pytest.raises(DataError, match=r"wav\.scp \(utt1\): no such audio file"):
        read_audio(str(tmp_path / "nope.wav"), utt="utt1", where="wav.scp")


def test_empty_wav_is_an_error(write_wav):
    path = write_wav("empty.wav", np.zeros(0, dtype=np.float32))
    with pytest.raises(DataError, match=r"uttE.*empty audio"):
        read_audio(str(path), utt="uttE")


def test_corrupt_wav_is_an_error(tmp_path, write_wav, make_tone):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 4)
    with pytest.raises(DataError, match=r"uttC.*cannot decode audio"):
        read_audio(str(garbage), utt="uttC")
    text = tmp_path / "text.wav"
    text.write_text("this is not audio\n")
    with pytest.raises(DataError, match=r"uttT.*cannot decode audio"):
        read_audio(str(text), utt="uttT")


def test_stereo_is_an_error_unless_a_channel_is_chosen(write_wav, make_tone):
    left, right = make_tone(300, 0.3), make_tone(900, 0.3, seed=1)
    path = write_wav("st.wav", np.stack([left, right], axis=1))
    with pytest.raises(DataError, match=r"uttS.*2 channels.*--channel"):
        read_audio(str(path), utt="uttS")
    got, _ = read_audio(str(path), utt="uttS", channel=1)
    assert np.max(np.abs(got - right)) <= 1 / 32768 + 1e-7
    with pytest.raises(DataError, match=r"--channel 2 requested but the audio has 2"):
        read_audio(str(path), utt="uttS", channel=2)


def test_resample_keeps_the_tone_frequency():
    rate = 8000
    t = np.arange(rate) / rate
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    y = resample(x, rate, 16000)
    assert len(y) == 16000
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 16000 / len(y) - 440) <= 1.0


def test_wav_source_resamples_and_logs_once_per_rate(tmp_path, write_wav, make_tone, caplog):
    a = write_wav("a.wav", make_tone(440, 0.5, rate=22050), rate=22050)
    b = write_wav("b.wav", make_tone(440, 0.25, rate=22050), rate=22050)
    c = write_wav("c.wav", make_tone(440, 0.25))
    scp = tmp_path / "wav.scp"
    scp.write_text(f"a {a}\nb cat {b} |\nc {c}\n")
    src = WavSource(scp, sample_rate=16000)
    with caplog.at_level(logging.INFO):
        lens = {u: len(src.load(u)[0]) for u in src.keys()}
    assert lens == {"a": 8000, "b": 4000, "c": 4000}
    assert src.num_resampled == 2
    msgs = [r.getMessage() for r in caplog.records if "resampling" in r.getMessage()]
    assert len(msgs) == 1 and "22050 Hz" in msgs[0] and msgs[0].startswith("a:")


def test_duplicate_keys_in_wav_scp_are_an_error(tmp_path, write_wav, make_tone):
    a = write_wav("a.wav", make_tone(440, 0.1))
    scp = tmp_path / "wav.scp"
    scp.write_text(f"a {a}\na {a}\n")
    with pytest.raises(DataError, match=r"wav\.scp:2.*duplicate key 'a'"):
        WavSource(scp)


def test_segments_cut_the_recording(tmp_path, write_wav):
    rate = 16000
    x = np.linspace(-0.5, 0.5, 3 * rate, dtype=np.float32)
    rec = write_wav("rec.wav", x, subtype="FLOAT")
    scp = tmp_path / "wav.scp"
    scp.write_text(f"rec1 {rec}\n")
    segs = tmp_path / "segments"
    segs.write_text("rec1-a rec1 0.50 1.50\nrec1-b rec1 1.0 -1\nrec1-c rec1 2.5 3.2\n")
    src = WavSource(scp, segs)
    assert src.keys() == ["rec1-a", "rec1-b", "rec1-c"]
    a, _ = src.load("rec1-a")
    np.testing.assert_array_equal(a, x[8000:24000])
    b, _ = src.load("rec1-b")
    np.testing.assert_array_equal(b, x[16000:])
    c, _ = src.load("rec1-c")  # 0.2 s overshoot is clipped, as Kaldi does
    np.testing.assert_array_equal(c, x[40000:])


def test_segment_outside_its_recording_is_an_error(tmp_path, write_wav, make_tone):
    rec = write_wav("rec.wav", make_tone(440, 1.0))
    (tmp_path / "wav.scp").write_text(f"rec1 {rec}\n")
    (tmp_path / "segments").write_text("rec1-a rec1 0.5 2.0\n")
    src = WavSource(tmp_path / "wav.scp", tmp_path / "segments")
    with pytest.raises(DataError, match=r"segments \(rec1-a\): segment .* lies outside recording"):
        src.load("rec1-a")


def test_segments_validation_names_the_line(tmp_path, write_wav, make_tone):
    rec = write_wav("rec.wav", make_tone(440, 1.0))
    (tmp_path / "wav.scp").write_text(f"rec1 {rec}\n")
    segs = tmp_path / "segments"
    segs.write_text("rec1-a rec1 0.5 0.6\nrec1-b rec1 0.7 0.7\n")
    with pytest.raises(DataError, match=r"segments:2: segment end 0.7 is not after its start"):
        read_segments(segs)
    segs.write_text("rec1-a rec1 0.5\n")
    with pytest.raises(DataError, match=r"segments:1: expected"):
        read_segments(segs)
    segs.write_text("rec1-a rec2 0.5 0.6\n")
    with pytest.raises(DataError, match=r"recording 'rec2', which is not in"):
        WavSource(tmp_path / "wav.scp", segs)


def test_float_wav_with_nan_samples_is_read_as_is(write_wav):
    x = np.zeros(1600, dtype=np.float32)
    x[100] = np.nan
    path = write_wav("nan.wav", x, subtype="FLOAT")
    got, _ = read_audio(str(path), utt="n")
    assert np.isnan(got[100])
    assert soundfile.info(str(path)).subtype == "FLOAT"


def test_a_wav_cut_short_of_its_header_is_an_error(tmp_path):
    """libsndfile would read the third that is there as a shorter recording."""
    import soundfile

    from speechbert.audio.wav_io import wav_truncation
    from speechbert.errors import DataError

    full = tmp_path / "full.wav"
    soundfile.write(full, np.zeros(16000, np.float32), 16000, subtype="PCM_16")
    assert wav_truncation(full) is None
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: 44 + 2 * 5333])
    assert wav_truncation(cut) == "its header declares 32000 bytes of audio data, the file holds 10666"
    (tmp_path / "wav.scp").write_text(f"u1 {cut}\n")
    source = WavSource(tmp_path / "wav.scp", sample_rate=16000)
    with pytest.raises(DataError, match=r"truncated audio .*cut.wav.*declares 32000 bytes"):
        source.load("u1")


def test_undecodable_pipe_output_names_the_command_not_a_python_object(tmp_path):
    (tmp_path / "wav.scp").write_text("u1 echo garbage |\n")
    with pytest.raises(DataError) as err:
        WavSource(tmp_path / "wav.scp", sample_rate=16000).load("u1")
    assert "cannot decode audio (output of 'echo garbage |'): Format not recognised" in str(err.value)
    assert "object at 0x" not in str(err.value)
