"""Feature config mappings: the ``frontend:`` form, the old flat form of existing dumps, ``feats_type`` lines."""

from __future__ import annotations

import numpy as np
import pytest

from speechbert.audio.features import FeatureConfig, FeatureExtractor
from speechbert.audio.frontends import frontend_from_dict, frontend_from_type_line, frontend_from_yaml, frontend_spec
from speechbert.errors import ConfigError

# conf/fbank.yaml and conf/mfcc.yaml as they were before frontends were registered (and as
# dumps and packed models hold them)
OLD_FBANK = """feats_type: fbank
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
OLD_MFCC = OLD_FBANK.replace("feats_type: fbank", "feats_type: mfcc").replace("num_mel_bins: 80", "num_mel_bins: 23") \
    + "num_ceps: 13\nuse_deltas: true\ncepstral_lifter: 22\n"


@pytest.mark.parametrize("text, old", [(OLD_FBANK, FeatureConfig()),
                                       (OLD_MFCC, FeatureConfig(feats_type="mfcc", num_mel_bins=23))])
def test_old_flat_configs_give_the_old_features(tmp_path, make_tone, text, old):
    path = tmp_path / "old.yaml"
    path.write_text(text)
    x = make_tone(500, 0.4)
    fe = frontend_from_yaml(path)
    assert fe(x).tobytes() == FeatureExtractor(old)(x).tobytes()
    assert fe.feats_type_line == old.feats_type_line


def test_old_defaults_are_kept_where_the_new_ones_differ(make_tone):
    # an old "feats_type: mfcc" without num_mel_bins had FeatureConfig's 80 bins (the new mfcc default is 23)
    fe = frontend_from_dict({"feats_type": "mfcc"})
    assert (fe.name, fe.conf.num_mel_bins, fe.feats_type_line) == ("mfcc", 80, "mfcc 39")
    x = make_tone(700, 0.3)
    np.testing.assert_array_equal(fe(x), FeatureExtractor(FeatureConfig(feats_type="mfcc"))(x))
    # use_deltas null = "for mfcc only", num_ceps is ignored by fbank (as it was)
    assert frontend_from_dict({"feats_type": "fbank", "use_deltas": None, "num_ceps": 5}).feats_type_line == "fbank 80"
    assert frontend_from_dict({"feats_type": "fbank", "use_deltas": True}).feats_type_line == "fbank 240"
    assert frontend_from_dict({}).feats_type_line == "fbank 80"  # nothing given: the default


def test_new_form_other_keys_ignored_and_string_conf():
    name, conf = frontend_spec({"frontend": "mfcc", "frontend_conf": '{num_ceps: 20, num_mel_bins: 30}',
                                "skip_bad_utts": True})
    assert (name, conf.num_ceps, conf.num_mel_bins) == ("mfcc", 20, 30)


@pytest.mark.parametrize("data, match", [
    ({"frontend": "fbank", "num_mel_bins": 40}, "old flat form; with 'frontend:' it belongs under frontend_conf"),
    ({"frontend": "plp"}, r"x\.yaml: unknown frontend 'plp' \(known: fbank, mfcc, ssl\)"),
    ({"frontend": "fbank", "frontend_conf": {"num_mel_bin": 40}}, r"x\.yaml: frontend_conf: unknown option 'num_mel_bin'"),
    ({"frontend": "fbank", "frontend_conf": [1]}, "frontend_conf must be a mapping"),
    ({"feats_type": "plp"}, "feats_type must be fbank or mfcc"),
])
def test_bad_mappings_name_the_file_and_key(data, match):
    with pytest.raises(ConfigError, match=match):
        frontend_spec(data, "x.yaml")


def test_feats_type_lines():
    assert frontend_from_type_line("mfcc 13", 0.01).conf.use_deltas is False
    assert frontend_from_type_line("fbank 40", 0.025).conf.frame_shift == 25.0
    with pytest.raises(ConfigError, match="cannot parse feats_type"):
        frontend_from_type_line("fbank", 0.01)
    with pytest.raises(ConfigError, match="does not say how to rebuild the ssl frontend"):
        frontend_from_type_line("ssl 768", 0.02)
