"""Tests for speechbert.audio.extract.extract_to_ark: batching, skipping, atomic outputs."""

from __future__ import annotations

import errno
import os

import kaldiio
import numpy as np
import pytest

from speechbert.audio.extract import extract_to_ark
from speechbert.audio.features import FeatureConfig, FeatureExtractor
from speechbert.audio.wav_io import WavSource
from speechbert.errors import DataError, WriteError
from speechbert.io.feats import ArkWriter


@pytest.fixture
def wav_scp(tmp_path, write_wav, make_tone):
    lines = []
    for i, secs in enumerate([0.7, 0.3, 1.1, 0.5, 0.9]):
        path = write_wav(f"u{i}.wav", make_tone(200 + 300 * i, secs, seed=i))
        lines.append(f"u{i} {path}\n")
    nan = make_tone(440, 0.4)
    nan[3000] = np.nan
    lines.insert(2, f"u1x {write_wav('nan.wav', nan, subtype='FLOAT')}\n")
    scp = tmp_path / "wav.scp"
    scp.write_text("".join(lines))
    return scp


def _extract(tmp_path, scp, name, **kw):
    out = tmp_path / name
    summary = extract_to_ark(WavSource(scp), FeatureExtractor(FeatureConfig()), out / "f.ark", out / "f.scp",
                             out / "utt2num_frames", **kw)
    return summary, out


def test_archive_and_scp_bytes_are_those_kaldiio_wrote(tmp_path, wav_scp):
    """The previous code path wrote with kaldiio.WriteHelper: the same bytes, byte for byte."""
    _, out = _extract(tmp_path, wav_scp, "out", skip_bad_utts=True)
    extractor = FeatureExtractor(FeatureConfig())
    source = WavSource(wav_scp)
    ref_ark, ref_scp = tmp_path / "ref.ark", tmp_path / "ref.scp"
    with kaldiio.WriteHelper(f"ark,scp:{ref_ark},{ref_scp}") as w:
        for utt in source.keys():
            if utt != "u1x":  # the NaN utterance, skipped
                w(utt, extractor.extract(source.load(utt)[0]))
    assert (out / "f.ark").read_bytes() == ref_ark.read_bytes()
    assert (out / "f.scp").read_text() == ref_scp.read_text().replace(str(ref_ark), str(out / "f.ark"))
    assert len((out / "f.scp").read_text().splitlines()) == 5


def test_chunk_size_does_not_change_the_features(tmp_path, wav_scp):
    s1, small = _extract(tmp_path, wav_scp, "small", skip_bad_utts=True, chunk_seconds=0.5)
    s2, large = _extract(tmp_path, wav_scp, "large", skip_bad_utts=True, chunk_seconds=100)
    assert s1.num_done == s2.num_done == 5 and s1.skipped == s2.skipped == ["u1x"]
    a = dict(kaldiio.load_scp(str(small / "f.scp")).items())
    b = dict(kaldiio.load_scp(str(large / "f.scp")).items())
    assert list(a) == ["u0", "u1", "u2", "u3", "u4"] == list(b)
    for utt in a:
        np.testing.assert_allclose(a[utt], b[utt], rtol=1e-6, atol=1e-5)
    frames = (small / "utt2num_frames").read_text().split()
    assert frames[:4] == ["u0", "68", "u1", "28"] and s1.num_frames == sum(int(n) for n in frames[1::2])


def test_failure_leaves_no_output(tmp_path, wav_scp):
    with pytest.raises(DataError, match=r"wav.scp \(u1x\): features contain NaN/Inf"):
        _extract(tmp_path, wav_scp, "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_all_bad_is_an_error(tmp_path, write_wav):
    scp = tmp_path / "wav.scp"
    scp.write_text(f"a {write_wav('a.wav', np.zeros(100, np.float32))}\n")
    with pytest.raises(DataError, match=r"no utterance produced features \(1 skipped\)"):
        _extract(tmp_path, scp, "out", skip_bad_utts=True)
    assert list((tmp_path / "out").iterdir()) == []


def test_disk_full_names_the_archive_and_leaves_nothing(tmp_path, wav_scp, monkeypatch):
    written = []
    real_write = ArkWriter.write

    def fill_up(self, key, value):
        if written:  # the second utterance no longer fits
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(key)
        real_write(self, key, value)

    monkeypatch.setattr(ArkWriter, "write", fill_up)
    out = tmp_path / "out"
    with pytest.raises(WriteError, match=f"^cannot write {out}/f.ark: No space left on device$"):
        _extract(tmp_path, wav_scp, "out", skip_bad_utts=True)
    assert written == ["u0"] and list(out.iterdir()) == []
