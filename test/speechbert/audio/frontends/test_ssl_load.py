"""SSL checkpoints as Hugging Face ``save_pretrained`` directories (offline, through torchaudio's importer)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ssl_fixture as sf  # noqa: E402

from speechbert.audio.frontends import FRONTENDS  # noqa: E402
from speechbert.audio.frontends.ssl_load import load_ssl_model  # noqa: E402
from speechbert.errors import ConfigError  # noqa: E402

pytest.importorskip("transformers")
pytestmark = pytest.mark.slow  # importing transformers takes seconds; the models are tiny


def hf_hidden(model, x: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        return [h[0].numpy() for h in model(torch.from_numpy(x)[None], output_hidden_states=True).hidden_states]


@pytest.mark.parametrize("family", ["wav2vec2", "hubert", "wavlm"])
def test_a_hugging_face_directory_gives_the_models_layers(tmp_path, family):
    # group norm (the base models): HF's hidden_states[k] is the output of layer k for every k
    path, model = sf.tiny_hf_dir(family, tmp_path / family, mode="group")
    x = sf.speechlike(0.9)
    hidden = hf_hidden(model, x)
    for layer in (1, 2):
        fe = FRONTENDS.build("ssl", {"family": family, "checkpoint": str(path), "layer": layer})
        got = fe(x)
        assert got.shape == (fe.num_frames(len(x)), 32) == (44, 32)
        np.testing.assert_allclose(got, hidden[layer], atol=1e-4)
    assert fe.arch.source == "(config.json)" and fe.frame_shift == 0.02


def test_layer_norm_models_normalise_and_read_preprocessor_config(tmp_path):
    path, model = sf.tiny_hf_dir("wavlm", tmp_path / "wavlm", mode="layer")
    x = 0.4 * sf.speechlike(0.6) + 0.05
    normed = ((x - x.mean()) / np.sqrt(x.var() + 1e-5)).astype(np.float32)
    # HF's last hidden state has the final layer norm applied; the frontend's layers are the
    # layer outputs of torchaudio's extract_features, so compare layer 1 (= hidden_states[1]).
    got = FRONTENDS.build("ssl", {"family": "wavlm", "checkpoint": str(path), "layer": 1})(x)
    np.testing.assert_allclose(got, hf_hidden(model, normed)[1], atol=1e-4)
    (path / "preprocessor_config.json").write_text(json.dumps({"do_normalize": False}))
    raw = FRONTENDS.build("ssl", {"family": "wavlm", "checkpoint": str(path), "layer": 1})(x)
    np.testing.assert_allclose(raw, hf_hidden(model, x)[1], atol=1e-4)


def test_wrong_family_unsupported_type_and_missing_config(tmp_path):
    path, _ = sf.tiny_hf_dir("hubert", tmp_path / "hubert", mode="group")
    with pytest.raises(ConfigError, match=r"config\.json: a hubert model, but frontend_conf\.family is 'wavlm'"):
        load_ssl_model("wavlm", path)
    with pytest.raises(ConfigError, match=r"hubert \(config\.json\) \(2 layers, 32 dims.*is not the configured "
                                          r"architecture hubert base \(12 layers"):
        load_ssl_model("hubert", path, arch="base")
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**config, "model_type": "data2vec-audio"}))
    with pytest.raises(ConfigError, match="'data2vec-audio' is not supported by torchaudio's Hugging Face importer"):
        load_ssl_model("hubert", path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="a directory without config.json"):
        load_ssl_model("hubert", empty)


def test_weights_that_do_not_fit_the_config_json(tmp_path):
    path, _ = sf.tiny_hf_dir("wav2vec2", tmp_path / "w2v", mode="group")
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**config, "hidden_size": 48}))
    with pytest.raises(ConfigError, match=r"w2v: cannot load the Hugging Face model wav2vec2 \(config\.json\) "
                                          r"\(2 layers, 48 dims.*size mismatch"):
        load_ssl_model("wav2vec2", path)
