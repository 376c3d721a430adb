"""The ``ssl`` frontend over tiny wav2vec 2.0 / HuBERT / WavLM models saved as torchaudio state dicts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ssl_fixture as sf  # noqa: E402

from speechbert.audio.frontends import FRONTENDS  # noqa: E402
from speechbert.errors import ConfigError, DataError  # noqa: E402

FAMILIES = ("wav2vec2", "hubert", "wavlm")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[tuple[str, str], tuple[Path, torch.nn.Module]]:
    out = {}
    d = tmp_path_factory.mktemp("ssl")
    for family in FAMILIES:
        for mode in ("layer_norm", "group_norm"):
            model = sf.tiny_model(family, mode)
            out[family, mode] = sf.save_state_dict(model, d / f"{family}_{mode}.pt"), model
    return out


def build(path: Path, family: str, mode: str = "layer_norm", **conf):
    return FRONTENDS.build("ssl", {"family": family, "checkpoint": str(path), "arch_conf": sf.tiny_arch(family, mode),
                                   "chunk_seconds": 0, **conf})


def own_layers(model, x: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        outs, _ = model.extract_features(torch.from_numpy(x)[None])
    return [o[0].numpy() for o in outs]


@pytest.mark.parametrize("family", FAMILIES)
def test_each_layer_is_the_models_own_extract_features_output(checkpoints, family):
    path, model = checkpoints[family, "layer_norm"]
    x = sf.speechlike(1.0)
    ref = own_layers(model, x)
    assert np.abs(ref[0] - ref[1]).max() > 0.1  # the layers differ: choosing the wrong one would show
    for layer, want in ((1, ref[0]), (2, ref[1]), (-1, ref[1])):
        fe = build(path, family, layer=layer, normalize=False)
        got = fe(x, "u1")
        assert got.dtype == np.float32 and got.shape == (49, 32)  # 1 + (16000 - 345) // 320
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert (fe.dim, fe.frame_shift, fe.shift_samples, fe.min_samples) == (32, 0.02, 320, 345)
    assert fe.feats_type_line == "ssl 32"
    assert [fe.num_frames(n) for n in (344, 345, 664, 665, 16000)] == [0, 1, 1, 2, 49]


def test_input_normalisation_follows_the_architecture(checkpoints):
    path, model = checkpoints["hubert", "layer_norm"]
    x = 0.5 * sf.speechlike(0.8) + 0.1  # an offset and a scale that normalisation removes
    normed = (x - x.mean()) / np.sqrt(x.var() + 1e-5)
    auto = build(path, "hubert", layer=2)(x)  # layer-norm feature encoder: normalised by default
    np.testing.assert_allclose(auto, own_layers(model, normed.astype(np.float32))[1], atol=1e-4)
    gpath, gmodel = checkpoints["hubert", "group_norm"]
    raw = build(gpath, "hubert", "group_norm", layer=2)(x)  # group-norm (base) models read raw samples
    np.testing.assert_allclose(raw, own_layers(gmodel, x)[1], atol=1e-5)


def test_weighted_sum_with_fixed_and_uniform_weights(checkpoints):
    path, model = checkpoints["wavlm", "layer_norm"]
    x = sf.speechlike(0.7)
    ref = own_layers(model, x)
    got = build(path, "wavlm", weighted_sum=True, layer_weights=[1.0, 3.0], normalize=False)(x)
    np.testing.assert_allclose(got, 0.25 * ref[0] + 0.75 * ref[1], atol=1e-5)
    uniform = build(path, "wavlm", weighted_sum=True, normalize=False)(x)
    np.testing.assert_allclose(uniform, 0.5 * (ref[0] + ref[1]), atol=1e-5)


def test_subsampling_averages_k_frames_and_keeps_the_tail(checkpoints):
    path, model = checkpoints["wav2vec2", "layer_norm"]
    x = sf.speechlike(1.0)  # 49 frames
    ref = own_layers(model, x)[1]
    fe = build(path, "wav2vec2", subsample=3, normalize=False)
    got = fe(x)
    assert got.shape == (17, 32) == (fe.num_frames(len(x)), fe.dim)
    assert fe.frame_shift == pytest.approx(0.06)
    np.testing.assert_allclose(got[0], ref[0:3].mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(got[16], ref[48], atol=1e-5)  # the last group holds one frame


@pytest.mark.parametrize("mode", ["layer_norm", "group_norm"])
def test_chunked_output_has_the_unchunked_frames(checkpoints, mode):
    path, _ = checkpoints["hubert", mode]
    x = sf.speechlike(3.0, seed=2)
    whole = build(path, "hubert", mode, layer=2)(x)
    # 0.5 s chunks (25 frames) with 0.3 s of context: 6 model calls
    fe = build(path, "hubert", mode, layer=2, chunk_seconds=0.5, chunk_context_seconds=0.3)
    assert len(fe.chunks(len(x))) == 6
    chunked = fe(x)
    assert chunked.shape == whole.shape == (149, 32)
    # Limited context changes the numbers (attention, and a group-norm encoder's statistics, see
    # the whole utterance otherwise), never the frame positions: the mean difference stays well
    # below that of a one-frame misalignment, and shrinks with more context.
    shifted = np.abs(whole[1:] - whole[:-1]).mean()
    near = np.abs(chunked - whole).mean()
    assert near < 0.5 * shifted, (near, shifted)
    wider = build(path, "hubert", mode, layer=2, chunk_seconds=0.5, chunk_context_seconds=1.0)(x)
    assert np.abs(wider - whole).mean() < near
    # with context covering the utterance, every call sees the whole input: the same numbers
    full = build(path, "hubert", mode, layer=2, chunk_seconds=0.5, chunk_context_seconds=5.0)(x)
    np.testing.assert_allclose(full, whole, atol=1e-4)


def test_too_short_audio_and_nan_name_the_utterance(checkpoints):
    fe = build(checkpoints["wav2vec2", "layer_norm"][0], "wav2vec2")
    with pytest.raises(DataError, match=r"u7: audio too short for one frame: 300 samples < 345"):
        fe(np.zeros(300, np.float32), "u7")
    x = sf.speechlike(0.5)
    x[100] = np.nan
    with pytest.raises(DataError, match="u8: features contain NaN/Inf"):
        fe(x, "u8")


def test_missing_checkpoint_names_the_file_and_the_architecture(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.pt: no such file.*hubert base \(12 layers, 768 dims"):
        FRONTENDS.build("ssl", {"family": "hubert", "checkpoint": str(tmp_path / "nope.pt")})
    with pytest.raises(ConfigError, match="checkpoint is required"):
        FRONTENDS.build("ssl", {"family": "hubert"})


def test_weights_of_another_architecture_are_a_config_error(checkpoints, tmp_path):
    path, _ = checkpoints["wav2vec2", "layer_norm"]
    wrong = {**sf.tiny_arch("wav2vec2"), "encoder_embed_dim": 48}
    with pytest.raises(ConfigError, match=r"wav2vec2_layer_norm\.pt: its weights do not fit the configured "
                                          r"architecture wav2vec2 base \+ arch_conf \(2 layers, 48 dims.*wrong shape"):
        FRONTENDS.build("ssl", {"family": "wav2vec2", "checkpoint": str(path), "arch_conf": wrong})
    with pytest.raises(ConfigError, match=r"do not fit.*\(12 layers, 768 dims.*missing"):
        FRONTENDS.build("ssl", {"family": "wav2vec2", "checkpoint": str(path)})  # the base preset
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match=r"junk\.pt: cannot read a torch state dict"):
        FRONTENDS.build("ssl", {"family": "wav2vec2", "checkpoint": str(junk), "arch_conf": sf.tiny_arch("wav2vec2")})


def test_wrapped_and_old_style_state_dicts_load(checkpoints, tmp_path):
    path, model = checkpoints["hubert", "layer_norm"]
    state = torch.load(path, weights_only=True)
    # a HuBERTPretrainModel-style wrapper with an old weight-norm naming and an extra head
    old = {}
    for k, v in state.items():
        k = k.replace("parametrizations.weight.original0", "weight_g").replace("parametrizations.weight.original1",
                                                                                 "weight_v")
        old[f"wav2vec2.{k}"] = v
    old["aux.weight"] = torch.zeros(3, 32)
    wrapped = tmp_path / "wrapped.pt"
    torch.save({"state_dict": old}, wrapped)
    x = sf.speechlike(0.5)
    got = build(wrapped, "hubert", layer=1, normalize=False)(x)
    np.testing.assert_allclose(got, own_layers(model, x)[0], atol=1e-5)


def test_bad_options_are_config_errors(checkpoints):
    path = checkpoints["wavlm", "layer_norm"][0]
    for conf, match in [({"layer": 3}, "has 2 layers"), ({"layer": 0}, "counts from 1"),
                        ({"weighted_sum": True, "layer_weights": [1, 1, 1]}, "3 values"),
                        ({"layer_weights": [1, 1]}, "needs weighted_sum"), ({"family": "data2vec"}, "family"),
                        ({"arch_conf": {"encoder_num_buckets": 4, "bogus": 1}}, "unknown wavlm architecture argument"),
                        ({"arch": "huge"}, "unknown wavlm preset"), ({"gpu_dtype": "float16"}, "gpu_dtype")]:
        values = {"family": "wavlm", "checkpoint": str(path), "arch_conf": sf.tiny_arch("wavlm"), **conf}
        with pytest.raises(ConfigError, match=match):
            FRONTENDS.build("ssl", values)


def test_relative_checkpoint_is_found_from_the_base_dir(checkpoints, monkeypatch, tmp_path):
    path, _ = checkpoints["wav2vec2", "layer_norm"]
    monkeypatch.chdir(tmp_path)
    conf = {"family": "wav2vec2", "checkpoint": path.name, "arch_conf": sf.tiny_arch("wav2vec2")}
    with pytest.raises(ConfigError, match="no such file"):
        FRONTENDS.build("ssl", conf)
    assert FRONTENDS.build("ssl", conf, base_dir=path.parent).checkpoint == path.parent / path.name


def test_to_dict_rebuilds_the_same_frontend(checkpoints):
    from speechbert.audio.frontends import frontend_from_dict

    path = checkpoints["hubert", "group_norm"][0]
    fe = build(path, "hubert", "group_norm", layer=1, subsample=2)
    again = frontend_from_dict(fe.to_dict())
    x = sf.speechlike(0.6)
    np.testing.assert_array_equal(again(x), fe(x))
    assert fe.to_dict()["frontend_conf"]["arch_conf"]["extractor_conv_layer_config"] == sf.CONV
