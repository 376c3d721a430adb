"""``BertConfig``: the hyper-parameters of the transformer, readable from a Hugging Face ``config.json``.

Example::

    cfg = BertConfig.from_json_file("bert_dir/config.json", num_hidden_layers=2, type_vocab_size=3)
    cfg = BertConfig(vocab_size=1000, hidden_size=64, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=128)

Unknown keys in a ``config.json`` are ignored (HF writes many that do not change the encoder);
keys that would change the computation and that we do not implement
(``position_embedding_type`` other than ``absolute``, an unsupported ``hidden_act``) raise
``ConfigError``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Mapping

from speechbert.errors import ConfigError

#: ``hidden_act`` values we implement, mapped to ``torch.nn.functional.gelu``'s ``approximate``.
GELU_VARIANTS = {"gelu": "none", "gelu_new": "tanh", "gelu_pytorch_tanh": "tanh"}


@dataclasses.dataclass
class BertConfig:
    """Hyper-parameters of :class:`speechbert.nets.BertEncoder` (names follow HF BERT)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    pad_token_id: int = 0
    hidden_act: str = "gelu"
    initializer_range: float = 0.02

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ConfigError`` when the values cannot build a model."""
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                     "intermediate_size", "max_position_embeddings", "type_vocab_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if name == "num_hidden_layers" else 1):
                raise ConfigError(f"BertConfig.{name} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(f"BertConfig.hidden_size={self.hidden_size} is not a multiple of "
                              f"num_attention_heads={self.num_attention_heads}")
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            value = getattr(self, name)
            if not 0.0 <= float(value) < 1.0:
                raise ConfigError(f"BertConfig.{name} must be in [0, 1), got {value!r}")
        if self.hidden_act not in GELU_VARIANTS:
            raise ConfigError(f"BertConfig.hidden_act={self.hidden_act!r} is not supported "
                              f"(supported: {', '.join(sorted(GELU_VARIANTS))})")
        if not 0 <= self.pad_token_id < self.vocab_size:
            raise ConfigError(f"BertConfig.pad_token_id={self.pad_token_id} is outside the vocabulary "
                              f"(vocab_size={self.vocab_size})")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def replace(self, **overrides: Any) -> "BertConfig":
        """A copy with ``overrides`` applied (unknown names raise ``ConfigError``)."""
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ConfigError(f"unknown BertConfig field(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], **overrides: Any) -> "BertConfig":
        """Build from a HF-style dict (extra keys ignored) with ``overrides`` on top."""
        pos_type = values.get("position_embedding_type", "absolute")
        if pos_type != "absolute":
            raise ConfigError(f"position_embedding_type={pos_type!r} is not supported (only 'absolute')")
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in values.items() if k in names}
        if kwargs.get("pad_token_id") is None:
            kwargs.pop("pad_token_id", None)
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ConfigError(f"unknown BertConfig field(s): {', '.join(unknown)}")
        kwargs.update(overrides)
        return cls(**kwargs)

    @classmethod
    def from_json_file(cls, path: str | Path, **overrides: Any) -> "BertConfig":
        """Read a HF ``config.json``; ``overrides`` replace its values."""
        path = Path(path)
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such BERT config file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: expected a JSON object")
        model_type = values.get("model_type", "bert")
        if model_type not in ("bert", None):
            raise ConfigError(f"{path}: model_type={model_type!r}, expected 'bert'")
        try:
            return cls.from_dict(values, **overrides)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        except TypeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
