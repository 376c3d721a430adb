"""Loading an SSL speech model from a local file: a torchaudio state dict or a Hugging Face directory.

- A file (``.pt``/``.pth``): ``torch.save(model.state_dict(), path)`` of a torchaudio
  ``Wav2Vec2Model`` (e.g. ``torchaudio.pipelines.HUBERT_BASE.get_model()``); the architecture comes
  from the frontend config (``family``, ``arch``, ``arch_conf``). Also read: a mapping holding the
  state dict under ``state_dict`` or ``model``; a ``HuBERTPretrainModel`` state dict (keys under
  ``wav2vec2.``); an ASR head (``aux.*``) is left out; the weight-norm names of older torch
  (``weight_g``/``weight_v``).
- A directory: a Hugging Face ``save_pretrained`` directory (``config.json`` + weights) of a
  ``Wav2Vec2*``, ``Hubert*`` or ``WavLM*`` model, read offline with ``transformers`` and converted
  by ``torchaudio.models.wav2vec2.utils.import_huggingface_model``; ``config.json`` gives the
  architecture.

Nothing is downloaded. A missing checkpoint, or weights that do not fit the architecture, is a
``ConfigError`` naming the file and the architecture expected.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Mapping

from speechbert.audio.frontends.ssl_arch import SSLArch, resolve_arch
from speechbert.errors import ConfigError

logger = logging.getLogger(__name__)

# Hugging Face ``model_type`` -> (family, the transformers class torchaudio's importer converts)
HF_MODEL_TYPES = {"wav2vec2": ("wav2vec2", "Wav2Vec2Model"), "hubert": ("hubert", "HubertModel"),
                  "wavlm": ("wavlm", "WavLMModel")}


def load_ssl_model(family: str, checkpoint: str | Path, arch: str = "",
                   arch_conf: Mapping[str, Any] | None = None) -> tuple[Any, SSLArch, bool | None]:
    """The torchaudio ``Wav2Vec2Model`` in ``checkpoint`` (eval mode, CPU), its architecture, and
    the checkpoint's own input-normalisation flag (``None`` if it does not say).

    Raises:
        ConfigError: naming ``checkpoint`` and the expected architecture, when it is missing,
            unreadable, of another family, or its weights do not fit.
    """
    path = Path(checkpoint)
    if path.is_dir():
        return _load_huggingface(family, path, arch, arch_conf)
    expected = resolve_arch(family, arch, arch_conf)
    if not path.is_file():
        raise ConfigError(f"frontend_conf.checkpoint {path}: no such file or directory (expected the "
                          f"weights of {expected.describe()})")
    model = expected.build()
    state = _read_state_dict(path, expected)
    _check_fit(state, model.state_dict(), path, expected)
    model.load_state_dict(state, strict=True)
    return model.eval(), expected, None


def _read_state_dict(path: Path, expected: SSLArch) -> dict[str, Any]:
    import torch

    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - pickle/zip errors of every kind: not a torch checkpoint
        raise ConfigError(f"frontend_conf.checkpoint {path}: cannot read a torch state dict ({type(e).__name__}: "
                          f"{e}); expected the weights of {expected.describe()}") from None
    if isinstance(data, Mapping):
        for key in ("state_dict", "model"):
            if isinstance(data.get(key), Mapping):
                data = data[key]
                break
    if not isinstance(data, Mapping) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise ConfigError(f"frontend_conf.checkpoint {path}: not a state dict (a mapping of parameter names to "
                          f"tensors); expected the weights of {expected.describe()}")
    state: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key.startswith("wav2vec2."):  # HuBERTPretrainModel wraps the model
            key = key[len("wav2vec2."):]
        if key.startswith("aux.") or not key.startswith(("feature_extractor.", "encoder.")):
            continue  # an ASR head or pre-training heads: not part of the features
        # torch < 2.1 weight norm (torchaudio's positional convolution) -> parametrizations
        if key.endswith(".conv.weight_g"):
            key = key[:-len("weight_g")] + "parametrizations.weight.original0"
        elif key.endswith(".conv.weight_v"):
            key = key[:-len("weight_v")] + "parametrizations.weight.original1"
        state[key] = value
    return state


def _check_fit(state: Mapping[str, Any], want: Mapping[str, Any], path: Path, expected: SSLArch) -> None:
    """ConfigError listing (the first few) missing, unexpected and wrongly shaped weights."""
    missing = [k for k in want if k not in state]
    unexpected = [k for k in state if k not in want]
    shapes = [f"{k} {tuple(state[k].shape)} (expected {tuple(want[k].shape)})"
              for k in want if k in state and tuple(state[k].shape) != tuple(want[k].shape)]
    if not (missing or unexpected or shapes):
        return
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
        if items:
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            parts.append(f"{label}: {', '.join(items[:3])}{more}")
    raise ConfigError(f"frontend_conf.checkpoint {path}: its weights do not fit the configured architecture "
                      f"{expected.describe()} ({'; '.join(parts)}); set frontend_conf family/arch/arch_conf "
                      "to the checkpoint's architecture")


# ------------------------------------------------------------------------------- Hugging Face


def hf_arch(family: str, config: Mapping[str, Any], source: str) -> SSLArch:
    """The architecture a Hugging Face ``config.json`` describes (torchaudio builder arguments)."""
    try:
        kwargs: dict[str, Any] = {
            "extractor_mode": f"{config['feat_extract_norm']}_norm",
            "extractor_conv_layer_config": [list(t) for t in zip(config["conv_dim"], config["conv_kernel"],
                                                                 config["conv_stride"])],
            "extractor_conv_bias": bool(config.get("conv_bias", False)),
            "encoder_embed_dim": int(config["hidden_size"]),
            "encoder_pos_conv_kernel": int(config["num_conv_pos_embeddings"]),
            "encoder_pos_conv_groups": int(config["num_conv_pos_embedding_groups"]),
            "encoder_num_layers": int(config["num_hidden_layers"]),
            "encoder_num_heads": int(config["num_attention_heads"]),
            "encoder_ff_interm_features": int(config["intermediate_size"]),
            "encoder_layer_norm_first": bool(config.get("do_stable_layer_norm", False)),
        }
        if family == "wavlm":
            kwargs["encoder_num_buckets"] = int(config["num_buckets"])
            kwargs["encoder_max_distance"] = int(config["max_bucket_distance"])
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"{source}: not a {family} config.json (cannot read {e})") from None
    return SSLArch(family, kwargs, "(config.json)")


def _load_huggingface(family: str, directory: Path, arch: str,
                      arch_conf: Mapping[str, Any] | None) -> tuple[Any, SSLArch, bool | None]:
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise ConfigError(f"frontend_conf.checkpoint {directory}: a directory without config.json (expected a "
                          f"Hugging Face {family} model directory, or a torchaudio state dict file)")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"{config_path}: cannot read ({e})") from None
    model_type = str(config.get("model_type", ""))
    if model_type not in HF_MODEL_TYPES:
        raise ConfigError(f"{config_path}: model_type {model_type!r} is not supported by torchaudio's Hugging Face "
                          f"importer (supported: {', '.join(HF_MODEL_TYPES)})")
    hf_family, class_name = HF_MODEL_TYPES[model_type]
    if hf_family != family:
        raise ConfigError(f"{config_path}: a {hf_family} model, but frontend_conf.family is {family!r}")
    have = hf_arch(family, config, str(config_path))
    if arch or arch_conf:  # the config asked for an architecture: it must be this one
        want = resolve_arch(family, arch, arch_conf)
        diff = [k for k in want.kwargs if _norm(want.kwargs[k]) != _norm(have.kwargs.get(k))
                and not (k == "extractor_conv_layer_config" and want.conv_layers == have.conv_layers)]
        if diff:
            raise ConfigError(f"frontend_conf.checkpoint {directory}: {have.describe()} is not the configured "
                              f"architecture {want.describe()} (differs in {', '.join(diff)})")
    normalize = None
    pre = directory / "preprocessor_config.json"
    if pre.is_file():
        try:
            value = json.loads(pre.read_text(encoding="utf-8")).get("do_normalize")
            normalize = None if value is None else bool(value)
        except (OSError, ValueError) as e:
            raise ConfigError(f"{pre}: cannot read ({e})") from None
    return _import_hf(directory, class_name, have), have, normalize


def _norm(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    return value


def _import_hf(directory: Path, class_name: str, arch: SSLArch) -> Any:
    import transformers
    from torchaudio.models.wav2vec2.utils import import_huggingface_model

    cls = getattr(transformers, class_name)
    # transformers and the importer log warnings that are expected here (no lm_head: the model is
    # used for features); errors still raise.
    quiet = [logging.getLogger(n) for n in ("transformers", "torchaudio.models.wav2vec2.utils.import_huggingface")]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.ERROR)
    try:
        try:
            original, info = cls.from_pretrained(str(directory), local_files_only=True, output_loading_info=True)
        except (OSError, ValueError, RuntimeError) as e:
            raise ConfigError(f"frontend_conf.checkpoint {directory}: cannot load the Hugging Face model "
                              f"{arch.describe()} ({' '.join(str(e).split())})") from None
        missing = list(info.get("missing_keys", [])) + [str(m) for m in info.get("mismatched_keys", [])]
        if missing:
            raise ConfigError(f"frontend_conf.checkpoint {directory}: its weights do not fit its config.json "
                              f"{arch.describe()} (missing or mismatched: {', '.join(missing[:3])}"
                              f"{' ...' if len(missing) > 3 else ''})")
        try:
            model = import_huggingface_model(original.eval())
        except (RuntimeError, KeyError, AttributeError) as e:
            raise ConfigError(f"frontend_conf.checkpoint {directory}: torchaudio's importer cannot convert this "
                              f"{class_name} ({' '.join(str(e).split())})") from None
    finally:
        for lg, level in zip(quiet, levels):
            lg.setLevel(level)
    return model.eval()
