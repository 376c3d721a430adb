"""SSL architectures: the presets are torchaudio's published sizes; the frame geometry is the convs'."""

from __future__ import annotations

import pytest
import torch
import torchaudio.models as tm

from speechbert.audio.frontends.ssl_arch import DEFAULT_CONV, PRESETS, resolve_arch
from speechbert.errors import ConfigError


def shapes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


@pytest.mark.parametrize("family, preset", [(f, p) for f, ps in PRESETS.items() for p in ps])
def test_each_preset_builds_torchaudios_model_of_that_name(family, preset):
    with torch.device("meta"):  # shapes only: no memory, no time
        ours = resolve_arch(family, preset).build()
        theirs = getattr(tm, f"{family}_{preset}")()
    assert shapes(ours) == shapes(theirs)
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]


def test_published_geometry_and_dims():
    base = resolve_arch("hubert", "")
    assert (base.dim, base.num_layers, base.stride, base.receptive_field) == (768, 12, 320, 400)
    assert base.conv_layers == DEFAULT_CONV and not base.expects_normalized_input
    large = resolve_arch("wavlm", "large")
    assert (large.dim, large.num_layers, large.expects_normalized_input) == (1024, 24, True)
    assert resolve_arch("wav2vec2", "xlsr_2b").dim == 1920


@pytest.mark.parametrize("num_samples", [399, 400, 719, 720, 16000, 16319, 16320, 48123])
def test_num_frames_is_the_conv_encoders_output_length(num_samples):
    arch = resolve_arch("wav2vec2", "base", {"extractor_conv_layer_config": [[4, k, s] for _, k, s in DEFAULT_CONV],
                                             "encoder_embed_dim": 8, "encoder_num_layers": 1, "encoder_num_heads": 1,
                                             "encoder_ff_interm_features": 8, "encoder_pos_conv_kernel": 4,
                                             "encoder_pos_conv_groups": 1})
    model = arch.build().eval()
    want = 0 if num_samples < 400 else 1 + (num_samples - 400) // 320
    assert arch.num_frames(num_samples) == want
    if want:
        with torch.no_grad():
            x, _ = model.feature_extractor(torch.zeros(1, num_samples), None)
        assert x.shape[1] == want


def test_bad_architectures():
    with pytest.raises(ConfigError, match="known: base, large, xlarge"):
        resolve_arch("hubert", "small")
    with pytest.raises(ConfigError, match="unknown hubert architecture argument 'encoder_num_buckets'"):
        resolve_arch("hubert", "base", {"encoder_num_buckets": 3})  # a WavLM-only argument
    with pytest.raises(ConfigError, match=r"\[channels, kernel, stride\] triples"):
        resolve_arch("wav2vec2", "base", {"extractor_conv_layer_config": [[512, 10]]})


def test_the_normalisation_rule_is_that_of_torchaudios_bundles():
    import torchaudio.pipelines as pipelines

    from speechbert.audio.frontends.ssl_arch import SSLArch

    seen = 0
    for name in dir(pipelines):
        bundle = getattr(pipelines, name)
        params = getattr(bundle, "_params", None)
        if not isinstance(params, dict) or not hasattr(bundle, "_normalize_waveform"):
            continue
        seen += 1
        assert SSLArch("wav2vec2", params).expects_normalized_input == bundle._normalize_waveform, name
    assert seen >= 20
