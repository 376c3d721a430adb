"""``frontend: ssl``: features from a self-supervised speech model (wav2vec 2.0, HuBERT, WavLM).

The model comes from a local checkpoint (:mod:`speechbert.audio.frontends.ssl_load`); nothing is
downloaded. For a dump, the frontend runs :class:`SSLEncoder` without gradients:

- on CPU in float32; on a GPU (``device='cuda:0'``, ``compute_feats --ngpu 1``) under bfloat16
  autocast (``gpu_dtype: float32`` turns that off); the features are float32 either way;
- with the weighted sum's weights fixed: ``layer_weights`` as given (normalised to sum 1), uniform
  when empty;
- long audio in chunks of ``chunk_seconds`` with ``chunk_context_seconds`` of audio on each side
  that the model reads but whose frames are dropped; chunk edges are on frame boundaries, so the
  frames are exactly those of the whole utterance (same count, same positions) and differ only by
  what attention (and a group-norm feature encoder's statistics) cannot see beyond the context.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from speechbert.audio.frontends.base import FRONTENDS, Frontend
from speechbert.audio.frontends.ssl_arch import FAMILIES
from speechbert.errors import ConfigError

logger = logging.getLogger(__name__)

GPU_DTYPES = ("bfloat16", "float32")


@dataclass(frozen=True)
class SSLConf:
    """Options of ``frontend: ssl``."""

    family: str = "wav2vec2"
    checkpoint: str = ""
    arch: str = ""
    arch_conf: dict = field(default_factory=dict)
    layer: int = -1
    weighted_sum: bool = False
    layer_weights: list[float] = field(default_factory=list)
    subsample: int = 1
    normalize: bool | None = None
    sample_rate: int = 16000
    chunk_seconds: float = 30.0
    chunk_context_seconds: float = 2.0
    gpu_dtype: str = "bfloat16"

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ConfigError(f"family must be one of {FAMILIES}, got {self.family!r}")
        if not self.checkpoint:
            raise ConfigError("checkpoint is required: a torchaudio state dict file (.pt) or a Hugging Face "
                              "model directory")
        if not isinstance(self.arch_conf, dict):
            raise ConfigError(f"arch_conf must be a mapping of torchaudio builder arguments, got {self.arch_conf!r}")
        if self.layer == 0:
            raise ConfigError("layer counts from 1 (the first transformer layer); -1 is the last")
        if any(w <= 0 for w in self.layer_weights):
            raise ConfigError(f"layer_weights must be positive, got {self.layer_weights}")
        if self.layer_weights and not self.weighted_sum:
            raise ConfigError("layer_weights needs weighted_sum: true")
        if self.subsample < 1:
            raise ConfigError(f"subsample must be >= 1, got {self.subsample}")
        if self.sample_rate <= 0:
            raise ConfigError(f"sample_rate must be positive, got {self.sample_rate}")
        if self.chunk_seconds < 0 or self.chunk_context_seconds < 0:
            raise ConfigError(f"chunk_seconds and chunk_context_seconds must be >= 0, got {self.chunk_seconds} "
                              f"and {self.chunk_context_seconds}")
        if self.gpu_dtype not in GPU_DTYPES:
            raise ConfigError(f"gpu_dtype must be one of {GPU_DTYPES}, got {self.gpu_dtype!r}")


def resolve_checkpoint(value: str, base_dir: str | Path | None = None) -> Path:
    """The checkpoint path as given (absolute or from the working directory), else relative to
    ``base_dir`` (e.g. the recipe directory of an experiment read from elsewhere)."""
    p = Path(value).expanduser()
    if p.exists() or p.is_absolute() or base_dir is None:
        return p
    q = Path(base_dir) / p
    return q if q.exists() else p


class SSLFrontend(Frontend):
    """Dump-time SSL features: :class:`SSLEncoder` with fixed weights, no gradients, chunked."""

    name = "ssl"

    def __init__(self, conf: SSLConf, device: Any = "cpu", base_dir: str | Path | None = None) -> None:
        import torch

        from speechbert.audio.frontends.ssl_encoder import SSLEncoder
        from speechbert.audio.frontends.ssl_load import load_ssl_model

        self.conf = conf
        self.device = torch.device(device or "cpu")
        self.checkpoint = resolve_checkpoint(conf.checkpoint, base_dir)
        model, arch, normalize_hint = load_ssl_model(conf.family, self.checkpoint, conf.arch, conf.arch_conf)
        n = arch.num_layers
        if not conf.weighted_sum and not (1 <= conf.layer <= n or -n <= conf.layer <= -1):
            raise ConfigError(f"frontend_conf.layer {conf.layer}: {self.checkpoint} has {n} layers "
                              f"(1..{n}, or -1 = the last)")
        if conf.weighted_sum and conf.layer_weights and len(conf.layer_weights) != n:
            raise ConfigError(f"frontend_conf.layer_weights has {len(conf.layer_weights)} values, "
                              f"{self.checkpoint} has {n} layers")
        if conf.normalize is not None:
            normalize = conf.normalize
        elif normalize_hint is not None:
            normalize = normalize_hint
        else:
            normalize = arch.expects_normalized_input
        self.arch = arch
        self.encoder = SSLEncoder(model, arch, layer=conf.layer, weighted_sum=conf.weighted_sum,
                                  layer_weights=conf.layer_weights, subsample=conf.subsample,
                                  normalize=normalize).to(self.device).eval()
        logger.info("ssl frontend: %s from %s, %s, %s input normalisation, %d dims every %g s, on %s",
                    arch.describe(), self.checkpoint,
                    f"weighted sum of {n} layers" if conf.weighted_sum else f"layer {self.encoder.layer}",
                    "with" if normalize else "without", self.dim, self.frame_shift, self.device)

    # --- interface ------------------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        return self.conf.sample_rate

    @property
    def dim(self) -> int:
        return self.arch.dim

    @property
    def shift_samples(self) -> int:
        return self.arch.stride * self.conf.subsample

    @property
    def frame_shift(self) -> float:
        return self.shift_samples / self.conf.sample_rate

    @property
    def min_samples(self) -> int:
        return self.arch.receptive_field

    def num_frames(self, num_samples: int) -> int:
        frames = self.arch.num_frames(num_samples)
        return -(-frames // self.conf.subsample)

    def chunks(self, num_samples: int) -> list[tuple[int, int, int, int]]:
        """``(first_sample, end_sample, keep_from, keep_to)`` of each model call for an utterance:
        the call reads samples ``[first, end)`` and its frames ``[keep_from, keep_to)`` are kept.
        Chunk edges are on frame boundaries of the whole utterance."""
        total = self.arch.num_frames(num_samples)
        stride, field = self.arch.stride, self.arch.receptive_field
        per_chunk = int(round(self.conf.chunk_seconds * self.sample_rate / stride))
        if per_chunk <= 0 or total <= per_chunk:
            return [(0, num_samples, 0, total)]
        context = int(round(self.conf.chunk_context_seconds * self.sample_rate / stride))
        out = []
        for a in range(0, total, per_chunk):
            b = min(a + per_chunk, total)
            f0, f1 = max(0, a - context), min(total, b + context)
            # the last call reads the trailing samples too (no frame of their own), as the whole
            # utterance does: a group-norm feature encoder's statistics include them
            end = num_samples if f1 == total else (f1 - 1) * stride + field
            out.append((f0 * stride, end, a - f0, b - f0))
        return out

    def extract(self, samples: np.ndarray) -> np.ndarray:
        import torch

        wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)).to(self.device)[None, :]
        enc = self.encoder
        autocast = self.device.type == "cuda" and self.conf.gpu_dtype == "bfloat16"
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=autocast):
            wave = enc.normalize(wave)  # over the whole utterance, before any chunking
            parts = []
            for first, end, keep_from, keep_to in self.chunks(wave.shape[1]):
                feats, _ = enc.layer_features(wave[:, first:end])
                parts.append(feats[:, keep_from:keep_to].float())
            feats = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
            feats, _ = enc.subsample(feats)
        return feats[0].float().cpu().numpy()


@FRONTENDS.register("ssl", SSLConf)
def build_ssl(conf: SSLConf, device: Any = "cpu", base_dir: str | Path | None = None,
              **_runtime: object) -> SSLFrontend:
    """self-supervised speech model (wav2vec2/hubert/wavlm) from a local checkpoint"""
    return SSLFrontend(conf, device=device, base_dir=base_dir)


def build_ssl_encoder(conf: SSLConf | dict, base_dir: str | Path | None = None, freeze_upstream: bool = True) -> Any:
    """An :class:`SSLEncoder` (``nn.Module``, CPU, training mode) for use inside a model: the
    layer weights are learnable, initialised from ``conf.layer_weights`` (uniform if empty)."""
    from speechbert.audio.frontends.ssl_encoder import SSLEncoder
    from speechbert.audio.frontends.ssl_load import load_ssl_model

    conf = FRONTENDS.make_conf("ssl", conf)
    path = resolve_checkpoint(conf.checkpoint, base_dir)
    model, arch, hint = load_ssl_model(conf.family, path, conf.arch, conf.arch_conf)
    normalize = conf.normalize if conf.normalize is not None else (
        hint if hint is not None else arch.expects_normalized_input)
    try:
        return SSLEncoder(model, arch, layer=conf.layer, weighted_sum=conf.weighted_sum,
                          layer_weights=conf.layer_weights, subsample=conf.subsample, normalize=normalize,
                          freeze_upstream=freeze_upstream)
    except ValueError as e:
        raise ConfigError(f"frontend_conf of {path}: {e}") from None
