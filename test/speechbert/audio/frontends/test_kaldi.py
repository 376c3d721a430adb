"""``fbank`` / ``mfcc`` frontends: exactly the numbers of ``FeatureExtractor``, the recipes' features."""

from __future__ import annotations

import numpy as np
import pytest

from speechbert.audio.features import FeatureConfig, FeatureExtractor
from speechbert.audio.frontends import FRONTENDS
from speechbert.errors import ConfigError, DataError


def test_default_fbank_is_the_feature_extractors_fbank(make_tone):
    x = make_tone(440, 0.5)
    fe = FRONTENDS.build("fbank")
    want = FeatureExtractor(FeatureConfig())(x)
    got = fe(x, "u")
    assert got.tobytes() == want.tobytes()  # byte for byte: the recipes' archives do not change
    assert (fe.feats_type_line, fe.frame_shift, fe.shift_samples, fe.min_samples) == ("fbank 80", 0.01, 160, 400)
    assert fe.num_frames(len(x)) == got.shape[0] == 48


def test_default_mfcc_is_the_recipes_mfcc(make_tone):
    x = make_tone(1000, 0.4, seed=3)
    fe = FRONTENDS.build("mfcc")  # the defaults are conf/mfcc.yaml's: 23 mel bins, 13 ceps + deltas
    want = FeatureExtractor(FeatureConfig(feats_type="mfcc", num_mel_bins=23, num_ceps=13, use_deltas=True))(x)
    assert fe(x).tobytes() == want.tobytes()
    assert fe.feats_type_line == "mfcc 39"


def test_options_reach_the_extractor(make_tone):
    x = make_tone(300, 0.5)
    fe = FRONTENDS.build("fbank", {"num_mel_bins": "40", "frame_shift": "20", "use_energy": "true"})
    want = FeatureExtractor(FeatureConfig(num_mel_bins=40, frame_shift=20.0, use_energy=True))(x)
    np.testing.assert_array_equal(fe(x), want)
    assert (fe.dim, fe.frame_shift) == (41, 0.02)


def test_to_dict_is_the_new_yaml_form():
    d = FRONTENDS.build("fbank", {"num_mel_bins": 40}).to_dict()
    assert d["frontend"] == "fbank" and d["frontend_conf"]["num_mel_bins"] == 40
    assert FRONTENDS.build("fbank", d["frontend_conf"]).feats_type_line == "fbank 40"


def test_short_audio_keeps_the_extractors_message():
    with pytest.raises(DataError, match=r"s1: audio too short for one frame: 399 samples < 400 \(25 ms"):
        FRONTENDS.build("fbank")(np.zeros(399, np.float32), "s1")


@pytest.mark.parametrize("name, values, match", [
    ("fbank", {"num_mel_bins": 2}, "frontend_conf of frontend 'fbank': num_mel_bins must be at least 3"),
    ("fbank", {"num_ceps": 13}, "unknown option 'num_ceps' for frontend 'fbank'"),
    ("mfcc", {"num_mel_bins": 10}, "num_ceps must be in"),
    ("fbank", {"window_type": "kaiser"}, "window_type must be one of"),
])
def test_bad_options_name_the_option(name, values, match):
    with pytest.raises(ConfigError, match=match):
        FRONTENDS.build(name, values)
