"""Load a local Hugging Face-format BERT directory into :class:`speechbert.nets.BertEncoder`.

A BERT directory holds ``config.json``, ``model.safetensors`` (or a sharded
``model.safetensors.index.json``, or ``pytorch_model.bin``, read with ``weights_only=True``) and
``vocab.txt``. A sentence-transformers directory (``modules.json`` naming a ``Transformer``
module in a sub-folder, or at the root) is followed to the folder that holds ``config.json``.

Public API::

    encoder = load_pretrained_bert(path, num_hidden_layers=2, type_vocab_size=3)
    pre = read_pretrained_bert(path, **overrides)   # PretrainedBert: .encoder, .config,
                                                    # .vocab_file, .mlm_state, .span_state
    head = pre.mlm_head()                           # MLMHead tied to pre.encoder, loaded from
                                                    # cls.predictions.* when the checkpoint has it

Overrides: any :class:`BertConfig` field. ``num_hidden_layers`` may be smaller than the
checkpoint's (the first N layers are loaded), ``max_position_embeddings`` smaller (rows
truncated), ``type_vocab_size`` larger (new rows copied from row 0); dropout, ``layer_norm_eps``
and ``pad_token_id`` are free. Changing a shape the weights fix raises ``ConfigError``.

Name mapping (HF → ours), after stripping the model prefix (``bert.``, or whatever precedes
``embeddings.word_embeddings.weight``)::

    embeddings.{word,position,token_type}_embeddings  → embeddings.<same>
    embeddings.LayerNorm                             → embeddings.layer_norm
    encoder.layer.N.attention.self.{query,key,value} → layers.N.qkv  (rows concatenated q, k, v)
    encoder.layer.N.attention.output.dense           → layers.N.attn_out
    encoder.layer.N.attention.output.LayerNorm       → layers.N.attn_norm
    encoder.layer.N.intermediate.dense               → layers.N.ffn_in
    encoder.layer.N.output.dense                     → layers.N.ffn_out
    encoder.layer.N.output.LayerNorm                 → layers.N.ffn_norm

(``LayerNorm.gamma``/``beta`` of old TF conversions are read as ``weight``/``bias``.) Known
keys that are not part of the encoder are set aside: ``pooler.*``, ``embeddings.position_ids``,
``cls.predictions.*`` (MLM head → ``mlm_state``), ``cls.seq_relationship.*`` (NSP head),
``qa_outputs.*`` (span head → ``span_state``) and layers beyond ``num_hidden_layers``. Any other
unexpected key, or any missing encoder weight, raises ``ConfigError`` listing them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from pathlib import Path
from typing import Any, Optional

import torch

from speechbert.errors import ConfigError
from speechbert.nets.bert import BertEncoder
from speechbert.nets.config import BertConfig
from speechbert.nets.heads import MLMHead

logger = logging.getLogger(__name__)

_LAYER_PARTS = {
    "attention.output.dense": "attn_out",
    "attention.output.LayerNorm": "attn_norm",
    "intermediate.dense": "ffn_in",
    "output.dense": "ffn_out",
    "output.LayerNorm": "ffn_norm",
}
_QKV = ("query", "key", "value")
_LAYER_RE = re.compile(r"^encoder\.layer\.(\d+)\.(.+)\.(weight|bias|gamma|beta)$")
_EMB_RE = re.compile(r"^embeddings\.(word_embeddings|position_embeddings|token_type_embeddings|LayerNorm)"
                     r"\.(weight|bias|gamma|beta)$")
#: Fields whose value the checkpoint's tensor shapes fix.
_SHAPE_FIELDS = ("vocab_size", "hidden_size", "num_attention_heads", "intermediate_size")


@dataclasses.dataclass
class PretrainedBert:
    """What :func:`read_pretrained_bert` found in a BERT directory."""

    encoder: BertEncoder
    config: BertConfig
    directory: Path
    vocab_file: Optional[Path]
    mlm_state: Optional[dict[str, torch.Tensor]]
    span_state: Optional[dict[str, torch.Tensor]]
    ignored_keys: list[str]

    def mlm_head(self) -> MLMHead:
        """An MLM head tied to ``self.encoder``; loaded from the checkpoint when it has one."""
        head = MLMHead(self.config, self.encoder.word_embeddings)
        if self.mlm_state:
            head.load_hf_state_dict(self.mlm_state)
        return head


def resolve_bert_dir(path: str | Path) -> Path:
    """The directory holding ``config.json`` (follows a sentence-transformers ``modules.json``)."""
    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"{path}: pretrained BERT directory does not exist")
    if (path / "config.json").is_file():
        return path
    modules = path / "modules.json"
    if modules.is_file():
        try:
            entries = json.loads(modules.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{modules}: not valid JSON ({exc})") from None
        for entry in entries if isinstance(entries, list) else []:
            if str(entry.get("type", "")).endswith(".Transformer"):
                sub = path / entry.get("path", "")
                if (sub / "config.json").is_file():
                    return sub
    raise ConfigError(f"{path}: no config.json (nor a sentence-transformers modules.json pointing to one)")


def _read_weights(directory: Path) -> dict[str, torch.Tensor]:
    safetensors_file = directory / "model.safetensors"
    index_file = directory / "model.safetensors.index.json"
    bin_file = directory / "pytorch_model.bin"
    if safetensors_file.is_file() or index_file.is_file():
        from safetensors.torch import load_file

        if safetensors_file.is_file():
            return load_file(str(safetensors_file))
        shards = sorted(set(json.loads(index_file.read_text(encoding="utf-8"))["weight_map"].values()))
        state: dict[str, torch.Tensor] = {}
        for shard in shards:
            state.update(load_file(str(directory / shard)))
        return state
    if bin_file.is_file():
        try:
            return torch.load(bin_file, map_location="cpu", weights_only=True)
        except Exception as exc:  # pickle errors come in many types
            from speechbert.train.checkpoint import load_failure

            raise ConfigError(f"{bin_file}: cannot read weights ({load_failure(exc)})") from None
    raise ConfigError(f"{directory}: no model.safetensors or pytorch_model.bin")


def _find_prefix(state: dict[str, torch.Tensor], where: Path) -> str:
    suffix = "embeddings.word_embeddings.weight"
    prefixes = sorted(k[: -len(suffix)] for k in state if k.endswith(suffix))
    if not prefixes:
        raise ConfigError(f"{where}: no '{suffix}' in the checkpoint: not a BERT model")
    if len(prefixes) > 1:
        raise ConfigError(f"{where}: several BERT models in the checkpoint (prefixes {prefixes})")
    return prefixes[0]


def _apply_overrides(ckpt: BertConfig, overrides: dict[str, Any], where: Path) -> BertConfig:
    for name in _SHAPE_FIELDS:
        if name in overrides and overrides[name] != getattr(ckpt, name):
            raise ConfigError(f"{where}: cannot override {name}={overrides[name]} "
                              f"(the checkpoint has {getattr(ckpt, name)})")
    if overrides.get("num_hidden_layers", 0) > ckpt.num_hidden_layers:
        raise ConfigError(f"{where}: num_hidden_layers={overrides['num_hidden_layers']} but the "
                          f"checkpoint has only {ckpt.num_hidden_layers} layers")
    if overrides.get("max_position_embeddings", 0) > ckpt.max_position_embeddings:
        raise ConfigError(f"{where}: max_position_embeddings={overrides['max_position_embeddings']} "
                          f"exceeds the checkpoint's {ckpt.max_position_embeddings}")
    if overrides.get("type_vocab_size", ckpt.type_vocab_size) < ckpt.type_vocab_size:
        raise ConfigError(f"{where}: type_vocab_size={overrides['type_vocab_size']} is smaller than "
                          f"the checkpoint's {ckpt.type_vocab_size}")
    if overrides.get("hidden_act", ckpt.hidden_act) != ckpt.hidden_act:
        raise ConfigError(f"{where}: cannot change hidden_act of a pretrained model")
    return ckpt.replace(**overrides)


def map_hf_state_dict(state: dict[str, torch.Tensor], config: BertConfig, where: Path | str = "checkpoint",
                      ) -> tuple[dict[str, torch.Tensor], dict[str, dict[str, torch.Tensor]], list[str]]:
    """Map HF BERT names to ours (see the module docstring).

    Returns ``(encoder_state, heads, ignored)``: ``heads`` has ``"mlm"`` (``cls.predictions.*``)
    and ``"span"`` (``qa_outputs.*``) entries when present; ``ignored`` lists the keys set aside.
    Raises ``ConfigError`` listing unexpected and missing keys.
    """
    where = Path(where)
    prefix = _find_prefix(state, where)
    ours: dict[str, torch.Tensor] = {}
    qkv_parts: dict[tuple[int, str], dict[str, torch.Tensor]] = {}
    heads: dict[str, dict[str, torch.Tensor]] = {}
    ignored: list[str] = []
    unexpected: list[str] = []
    for key, tensor in state.items():
        name = key[len(prefix):] if key.startswith(prefix) else None
        if name is None or not (name.startswith("embeddings.") or name.startswith("encoder.")
                                or name.startswith("pooler.")):
            head_key = key[len(prefix):] if key.startswith(prefix) else key
            if head_key.startswith("cls.predictions."):
                heads.setdefault("mlm", {})[head_key] = tensor
            elif head_key.startswith("qa_outputs."):
                heads.setdefault("span", {})[head_key] = tensor
            elif head_key.startswith("cls.seq_relationship."):
                ignored.append(key)
            else:
                unexpected.append(key)
            continue
        if name.startswith("pooler.") or name == "embeddings.position_ids":
            ignored.append(key)
            continue
        kind_fix = {"gamma": "weight", "beta": "bias"}
        m = _EMB_RE.match(name)
        if m:
            module = "layer_norm" if m.group(1) == "LayerNorm" else m.group(1)
            ours[f"embeddings.{module}.{kind_fix.get(m.group(2), m.group(2))}"] = tensor
            continue
        m = _LAYER_RE.match(name)
        if not m:
            unexpected.append(key)
            continue
        index, part, kind = int(m.group(1)), m.group(2), kind_fix.get(m.group(3), m.group(3))
        if index >= config.num_hidden_layers:
            ignored.append(key)
            continue
        if part.startswith("attention.self.") and part.rsplit(".", 1)[1] in _QKV:
            qkv_parts.setdefault((index, kind), {})[part.rsplit(".", 1)[1]] = tensor
        elif part in _LAYER_PARTS:
            ours[f"layers.{index}.{_LAYER_PARTS[part]}.{kind}"] = tensor
        else:
            unexpected.append(key)
    missing_qkv = []
    for (index, kind), parts in sorted(qkv_parts.items()):
        if set(parts) != set(_QKV):
            missing_qkv += [f"encoder.layer.{index}.attention.self.{p}.{kind}" for p in _QKV if p not in parts]
            continue
        ours[f"layers.{index}.qkv.{kind}"] = torch.cat([parts[p] for p in _QKV], dim=0)
    expected = set(BertEncoder.expected_state_keys(config))
    missing = sorted(expected - set(ours)) + missing_qkv
    if unexpected or missing:
        raise ConfigError(f"{where}: checkpoint does not match a BERT encoder with "
                          f"{config.num_hidden_layers} layers: missing {missing or 'none'}; "
                          f"unexpected {sorted(unexpected) or 'none'}")
    return ours, heads, sorted(ignored)


def read_pretrained_bert(path: str | Path, **overrides: Any) -> PretrainedBert:
    """Read a HF BERT directory into a :class:`PretrainedBert` (see the module docstring)."""
    directory = resolve_bert_dir(path)
    ckpt_config = BertConfig.from_json_file(directory / "config.json")
    config = _apply_overrides(ckpt_config, overrides, directory)
    state = _read_weights(directory)
    weights_file = next((directory / n for n in ("model.safetensors", "model.safetensors.index.json",
                                                  "pytorch_model.bin") if (directory / n).is_file()))
    load_config = config.replace(type_vocab_size=ckpt_config.type_vocab_size,
                                 max_position_embeddings=ckpt_config.max_position_embeddings)
    ours, heads, ignored = map_hf_state_dict(state, load_config, weights_file)
    for name in ("embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
                 "embeddings.word_embeddings.weight"):
        rows = {"embeddings.position_embeddings.weight": ckpt_config.max_position_embeddings,
                "embeddings.token_type_embeddings.weight": ckpt_config.type_vocab_size,
                "embeddings.word_embeddings.weight": ckpt_config.vocab_size}[name]
        if ours[name].shape[0] != rows:
            raise ConfigError(f"{weights_file}: {name} has {ours[name].shape[0]} rows, config.json says {rows}")
    ours["embeddings.position_embeddings.weight"] = \
        ours["embeddings.position_embeddings.weight"][: config.max_position_embeddings]
    encoder = BertEncoder(config.replace(type_vocab_size=ckpt_config.type_vocab_size))
    try:
        encoder.load_state_dict(ours, strict=True)
    except RuntimeError as exc:  # shape mismatches
        raise ConfigError(f"{weights_file}: {exc}") from None
    encoder.resize_token_types(config.type_vocab_size)
    if ignored:
        logger.info("%s: set aside %d checkpoint keys (pooler, NSP head, dropped layers, ...)",
                    weights_file, len(ignored))
    vocab = directory / "vocab.txt"
    return PretrainedBert(encoder=encoder, config=encoder.config, directory=directory,
                          vocab_file=vocab if vocab.is_file() else None,
                          mlm_state=heads.get("mlm"), span_state=heads.get("span"), ignored_keys=ignored)


def load_pretrained_bert(path: str | Path, **overrides: Any) -> BertEncoder:
    """The encoder of the HF BERT directory ``path`` with config ``overrides`` applied."""
    return read_pretrained_bert(path, **overrides).encoder
