"""The BERT encoder of a trained model in Hugging Face names (the inverse of
:func:`speechbert.nets.map_hf_state_dict`).

A packed model stores the BERT *config* and vocabulary, not the pretrained weights: every
encoder weight is in the fine-tuned model file anyway. The standard model builder
(``SQATask.build_model`` → ``read_pretrained_bert``) needs a weights file beside the config, so
the reader writes the model's own encoder there in Hugging Face names; loading the model file
then sets every parameter again, so these values never decide an answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import torch

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_path

#: Our layer parts → the Hugging Face names (``encoder.layer.N.<name>``).
_LAYER_PARTS = {
    "attn_out": "attention.output.dense",
    "attn_norm": "attention.output.LayerNorm",
    "ffn_in": "intermediate.dense",
    "ffn_out": "output.dense",
    "ffn_norm": "output.LayerNorm",
}
_EMBEDDINGS = ("word_embeddings", "position_embeddings", "token_type_embeddings")
#: Where the BERT encoder sits in a span QA model's state dict (``SpanQAModel.encoder.bert``).
ENCODER_PREFIX = "encoder.bert."


def hf_bert_state(state: Mapping[str, torch.Tensor], bert_config: Mapping, prefix: str = ENCODER_PREFIX,
                  source: str | Path = "model") -> dict[str, torch.Tensor]:
    """The encoder weights of ``state`` (keys under ``prefix``) in Hugging Face BERT names.

    The token-type table is cut back to the ``type_vocab_size`` of ``bert_config`` (the model may
    have grown it for modality types; the builder grows it again).

    Raises:
        DataError: naming ``source`` when ``state`` holds no encoder or a part this mapping does
            not know.
    """
    ours = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not ours:
        raise DataError(f"no BERT encoder weights (keys {prefix}*)", source)
    out: dict[str, torch.Tensor] = {}
    for key, tensor in ours.items():
        parts = key.split(".")
        if parts[0] == "embeddings" and len(parts) == 3 and parts[1] in _EMBEDDINGS:
            if parts[1] == "token_type_embeddings":
                tensor = tensor[: int(bert_config.get("type_vocab_size", tensor.shape[0]))]
            out[key] = tensor
        elif parts[0] == "embeddings" and parts[1] == "layer_norm" and len(parts) == 3:
            out[f"embeddings.LayerNorm.{parts[2]}"] = tensor
        elif parts[0] == "layers" and len(parts) == 4 and parts[2] == "qkv":
            for name, piece in zip(("query", "key", "value"), torch.chunk(tensor, 3, dim=0)):
                out[f"encoder.layer.{parts[1]}.attention.self.{name}.{parts[3]}"] = piece
        elif parts[0] == "layers" and len(parts) == 4 and parts[2] in _LAYER_PARTS:
            out[f"encoder.layer.{parts[1]}.{_LAYER_PARTS[parts[2]]}.{parts[3]}"] = tensor
        else:
            raise DataError(f"unknown encoder weight {prefix}{key}: cannot write it in Hugging Face names", source)
    return {k: v.detach().contiguous().clone() for k, v in out.items()}


def write_hf_weights(state: Mapping[str, torch.Tensor], bert_dir: str | Path, source: str | Path = "model") -> Path:
    """Write ``bert_dir/model.safetensors`` with the encoder of ``state``; returns its path."""
    from safetensors.torch import save_file

    bert_dir = Path(bert_dir)
    config = json.loads((bert_dir / "config.json").read_text(encoding="utf-8"))
    path = bert_dir / "model.safetensors"
    with atomic_path(path) as tmp:
        save_file(hf_bert_state(state, config, source=source), str(tmp))
    return path
