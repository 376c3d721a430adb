"""Tiny randomly initialised SSL models of each family, saved the ways users' checkpoints are.

The feature encoder has the published models' 320-sample stride (20 ms at 16 kHz) with 8 channels;
the transformer has 2 layers of 32 dims, so a model builds and runs in milliseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

CONV = [[8, 10, 5], [8, 8, 4], [8, 4, 4], [8, 4, 4]]  # stride 320, receptive field 345 samples
STRIDE, FIELD = 320, 345


def tiny_arch(family: str, mode: str = "layer_norm") -> dict[str, Any]:
    """The ``arch_conf`` of a tiny ``family`` model (torchaudio builder arguments)."""
    kw: dict[str, Any] = {
        "extractor_mode": mode, "extractor_conv_layer_config": CONV, "extractor_conv_bias": mode == "layer_norm",
        "encoder_embed_dim": 32, "encoder_pos_conv_kernel": 16, "encoder_pos_conv_groups": 2,
        "encoder_num_layers": 2, "encoder_num_heads": 2, "encoder_ff_interm_features": 64,
        "encoder_layer_norm_first": mode == "layer_norm",
    }
    if family == "wavlm":
        kw.update(encoder_num_buckets=16, encoder_max_distance=64)
    return kw


def tiny_model(family: str, mode: str = "layer_norm", seed: int = 0) -> torch.nn.Module:
    """A randomly initialised torchaudio ``Wav2Vec2Model`` (eval mode)."""
    from torchaudio.models import wav2vec2_model, wavlm_model

    torch.manual_seed(seed)
    kw = dict(tiny_arch(family, mode))
    kw["extractor_conv_layer_config"] = [tuple(c) for c in CONV]
    builder = wavlm_model if family == "wavlm" else wav2vec2_model
    model = builder(**kw, encoder_projection_dropout=0.0, encoder_attention_dropout=0.0,
                    encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_drop=0.0, aux_num_out=None)
    with torch.no_grad():  # random weights at a scale where layers differ visibly
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


def save_state_dict(model: torch.nn.Module, path: Path) -> Path:
    """``torch.save(model.state_dict(), path)``: a torchaudio-style checkpoint."""
    torch.save(model.state_dict(), path)
    return path


def tiny_hf_dir(family: str, path: Path, mode: str = "layer", seed: int = 0) -> tuple[Path, Any]:
    """A Hugging Face ``save_pretrained`` directory of a tiny ``family`` model, and the model."""
    import transformers as tr

    classes = {"wav2vec2": (tr.Wav2Vec2Config, tr.Wav2Vec2Model), "hubert": (tr.HubertConfig, tr.HubertModel),
               "wavlm": (tr.WavLMConfig, tr.WavLMModel)}
    config_cls, model_cls = classes[family]
    extra = {"num_buckets": 16, "max_bucket_distance": 64} if family == "wavlm" else {}
    config = config_cls(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                        conv_dim=[c[0] for c in CONV], conv_kernel=[c[1] for c in CONV],
                        conv_stride=[c[2] for c in CONV], conv_bias=mode == "layer",
                        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                        feat_extract_norm=mode, do_stable_layer_norm=mode == "layer",
                        hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, feat_proj_dropout=0.0,
                        layerdrop=0.0, vocab_size=8, **extra)
    torch.manual_seed(seed)
    model = model_cls(config).eval()
    model.save_pretrained(str(path))
    return path, model


def speechlike(seconds: float, rate: int = 16000, seed: int = 0) -> np.ndarray:
    """A chirp with amplitude modulation and a little noise, float32 in [-1, 1]."""
    t = np.arange(int(round(seconds * rate))) / rate
    rng = np.random.default_rng(seed)
    x = 0.3 * np.sin(2 * np.pi * (150 + 400 * t) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return (x + 0.02 * rng.standard_normal(len(t))).astype(np.float32)
