"""Architectures of the SSL speech models: wav2vec 2.0, HuBERT and WavLM (torchaudio's builders).

An architecture is the keyword arguments of ``torchaudio.models.wav2vec2_model`` (wav2vec 2.0
and HuBERT, which share the network) or ``torchaudio.models.wavlm_model`` (WavLM), with every
dropout at 0: features are extracted in inference mode. A named preset (``base``, ``large``,
...) gives the published sizes (the values of torchaudio's ``<family>_<preset>()`` builders);
``arch_conf`` overrides single arguments, e.g. a 2-layer 32-dim model in tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from speechbert.errors import ConfigError

FAMILIES = ("wav2vec2", "hubert", "wavlm")

# The convolutional feature encoder of every published model (torchaudio's default when
# extractor_conv_layer_config is None): (channels, kernel, stride); 25 ms window, 20 ms shift.
DEFAULT_CONV = ((512, 10, 5),) + ((512, 3, 2),) * 4 + ((512, 2, 2),) * 2

_BASE: dict[str, Any] = {
    "extractor_mode": "group_norm", "extractor_conv_layer_config": None, "extractor_conv_bias": False,
    "encoder_embed_dim": 768, "encoder_pos_conv_kernel": 128, "encoder_pos_conv_groups": 16,
    "encoder_num_layers": 12, "encoder_num_heads": 12, "encoder_ff_interm_features": 3072,
    "encoder_layer_norm_first": False,
}
_LARGE = {"encoder_embed_dim": 1024, "encoder_num_layers": 24, "encoder_num_heads": 16,
          "encoder_ff_interm_features": 4096}
_LARGE_LN = {**_LARGE, "extractor_mode": "layer_norm", "encoder_layer_norm_first": True}
_XL = {"encoder_embed_dim": 1280, "encoder_num_layers": 48, "encoder_ff_interm_features": 5120}
_WAVLM = {"encoder_num_buckets": 320, "encoder_max_distance": 800}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "wav2vec2": {
        "base": {},
        "large": _LARGE,
        "large_lv60k": {**_LARGE_LN, "extractor_conv_bias": True},
        "xlsr_300m": {**_LARGE_LN, "extractor_conv_bias": True},
        "xlsr_1b": {**_LARGE_LN, **_XL, "extractor_conv_bias": True},
        "xlsr_2b": {**_LARGE_LN, **_XL, "extractor_conv_bias": True, "encoder_embed_dim": 1920,
                    "encoder_ff_interm_features": 7680},
    },
    "hubert": {"base": {}, "large": _LARGE_LN, "xlarge": {**_LARGE_LN, **_XL}},
    "wavlm": {"base": _WAVLM, "large": {**_LARGE_LN, **_WAVLM}},
}

# Not architecture: inference uses no dropout and no layer drop.
_INFERENCE = {"encoder_projection_dropout": 0.0, "encoder_attention_dropout": 0.0,
              "encoder_ff_interm_dropout": 0.0, "encoder_dropout": 0.0, "encoder_layer_drop": 0.0,
              "aux_num_out": None}


@dataclass(frozen=True)
class SSLArch:
    """One model architecture: its family and builder arguments (dropouts left out)."""

    family: str
    kwargs: Mapping[str, Any]
    source: str = ""  # where it came from (a preset name, a config.json), for messages

    @property
    def dim(self) -> int:
        return int(self.kwargs["encoder_embed_dim"])

    @property
    def num_layers(self) -> int:
        return int(self.kwargs["encoder_num_layers"])

    @property
    def conv_layers(self) -> tuple[tuple[int, int, int], ...]:
        conv = self.kwargs.get("extractor_conv_layer_config")
        return DEFAULT_CONV if conv is None else tuple(tuple(int(v) for v in layer) for layer in conv)

    @property
    def stride(self) -> int:
        """Samples between frames of the convolutional encoder."""
        return math.prod(s for _, _, s in self.conv_layers)

    @property
    def receptive_field(self) -> int:
        """Samples one frame sees (the fewest samples that give a frame)."""
        field, jump = 1, 1
        for _, kernel, stride in self.conv_layers:
            field += (kernel - 1) * jump
            jump *= stride
        return field

    def num_frames(self, num_samples: int) -> int:
        """Frames of the convolutional encoder for ``num_samples`` samples (no padding)."""
        n = int(num_samples)
        for _, kernel, stride in self.conv_layers:
            if n < kernel:
                return 0
            n = (n - kernel) // stride + 1
        return n

    @property
    def expects_normalized_input(self) -> bool:
        """Whether the model was trained on per-utterance zero-mean unit-variance waveforms.

        The published models with a layer-normalised feature encoder (wav2vec 2.0 large-lv60k /
        XLS-R, HuBERT large/xlarge, WavLM large) were; the group-norm ``base`` ones were not
        (torchaudio's bundles and fairseq's ``normalize`` flag agree on this).
        """
        return self.kwargs.get("extractor_mode") == "layer_norm"

    def describe(self) -> str:
        """``hubert base (12 layers, 768 dims, group_norm)`` style text for messages."""
        k = self.kwargs
        src = f" {self.source}" if self.source else ""
        return (f"{self.family}{src} ({k['encoder_num_layers']} layers, {k['encoder_embed_dim']} dims, "
                f"{k['encoder_num_heads']} heads, {k['extractor_mode']} feature encoder)")

    def build(self) -> Any:
        """A randomly initialised torchaudio ``Wav2Vec2Model`` of this architecture."""
        from torchaudio.models import wav2vec2_model, wavlm_model

        builder = wavlm_model if self.family == "wavlm" else wav2vec2_model
        kwargs = dict(self.kwargs)
        if kwargs.get("extractor_conv_layer_config") is not None:
            kwargs["extractor_conv_layer_config"] = [tuple(layer) for layer in self.conv_layers]
        return builder(**kwargs, **_INFERENCE)


def arch_keys(family: str) -> list[str]:
    """The builder arguments ``arch_conf`` may set for ``family``."""
    keys = list(_BASE)
    if family == "wavlm":
        keys += list(_WAVLM)
    return keys


def resolve_arch(family: str, preset: str = "", overrides: Mapping[str, Any] | None = None) -> SSLArch:
    """The architecture of ``family`` preset ``preset`` (``""`` = ``base``) with ``overrides``.

    Raises:
        ConfigError: for an unknown family, preset or builder argument.
    """
    if family not in FAMILIES:
        raise ConfigError(f"frontend_conf.family must be one of {FAMILIES}, got {family!r}")
    name = preset or "base"
    presets = PRESETS[family]
    if name not in presets:
        raise ConfigError(f"frontend_conf.arch: unknown {family} preset {name!r} (known: {', '.join(presets)})")
    kwargs = {**_BASE, **(_WAVLM if family == "wavlm" else {}), **presets[name]}
    allowed = arch_keys(family)
    for key, value in (overrides or {}).items():
        if key not in allowed:
            raise ConfigError(f"frontend_conf.arch_conf: unknown {family} architecture argument {key!r} "
                              f"(known: {', '.join(allowed)})")
        kwargs[key] = value
    conv = kwargs.get("extractor_conv_layer_config")
    if conv is not None:
        try:
            kwargs["extractor_conv_layer_config"] = [[int(v) for v in layer] for layer in conv]
            if not kwargs["extractor_conv_layer_config"] or any(len(layer) != 3 for layer in conv):
                raise ValueError
        except (TypeError, ValueError):
            raise ConfigError("frontend_conf.arch_conf.extractor_conv_layer_config: expected a list of "
                              f"[channels, kernel, stride] triples, got {conv!r}") from None
    if kwargs["extractor_mode"] not in ("group_norm", "layer_norm"):
        raise ConfigError(f"frontend_conf.arch_conf.extractor_mode must be group_norm or layer_norm, "
                          f"got {kwargs['extractor_mode']!r}")
    return SSLArch(family, kwargs, name if not overrides else f"{name} + arch_conf")
