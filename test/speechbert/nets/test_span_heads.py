"""The span head registry: ``linear`` (BERT's SQuAD head) and ``mlp``."""

from __future__ import annotations

import pytest
import torch

from speechbert.errors import ConfigError
from speechbert.nets import SPAN_HEADS, SpanHead
from speechbert.nets.span_heads import MLPSpanHead


def test_linear_is_the_span_head_and_takes_qa_outputs():
    torch.manual_seed(3)
    head = SPAN_HEADS.build("linear", {}, hidden_size=6, initializer_range=0.02)
    torch.manual_seed(3)
    plain = SpanHead(6, 0.02)
    assert isinstance(head, SpanHead) and head.accepts_hf_qa_outputs
    assert torch.equal(head.proj.weight, plain.proj.weight)  # same init, same generator use
    head.load_hf_state_dict({"qa_outputs.weight": torch.ones(2, 6), "qa_outputs.bias": torch.zeros(2)})
    start, end = head(torch.ones(1, 3, 6), mask=torch.tensor([[True, False, True]]))
    assert start.tolist()[0][0] == 6.0 and start[0, 1] == torch.finfo(start.dtype).min


def test_mlp_head_computes_dense_gelu_norm_then_logits_and_masks():
    head = SPAN_HEADS.build("mlp", {"hidden_size": 4, "dropout": 0.0}, hidden_size=6, initializer_range=0.5).eval()
    assert isinstance(head, MLPSpanHead) and not head.accepts_hf_qa_outputs
    assert head.dense.weight.shape == (4, 6) and head.proj.weight.shape == (2, 4)
    hidden = torch.randn(2, 3, 6)
    mask = torch.tensor([[True, True, False], [True, False, True]])
    start, end = head(hidden, mask=mask)
    by_hand = head.proj(head.layer_norm(torch.nn.functional.gelu(head.dense(hidden[0, 1]))))
    assert torch.allclose(start[0, 1], by_hand[0]) and torch.allclose(end[0, 1], by_hand[1])
    assert end[1, 1] == torch.finfo(end.dtype).min and end[0, 2] == torch.finfo(end.dtype).min
    with pytest.raises(ConfigError, match="qa_outputs"):
        head.load_hf_state_dict({})


def test_mlp_inner_size_defaults_to_the_hidden_size_and_bad_options_name_the_key():
    assert SPAN_HEADS.build("mlp", {}, hidden_size=6).dense.weight.shape == (6, 6)
    with pytest.raises(ConfigError, match="span_head_conf.*dropout"):
        SPAN_HEADS.make_conf("mlp", {"dropout": 1.5})
    with pytest.raises(ConfigError, match="unknown span_head 'crf'.*linear, mlp"):
        SPAN_HEADS.get("crf")
