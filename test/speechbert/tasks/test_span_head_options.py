"""The fine-tuning task's ``span_head``/``span_head_conf`` options."""

from __future__ import annotations

import argparse

import pytest
import sqa_fixture as fx

from speechbert.errors import ConfigError
from speechbert.nets import SpanHead
from speechbert.nets.span_heads import MLPSpanHead
from speechbert.tasks.sqa_finetune import SQATask


def text_qa_args(tmp_path, *extra: str) -> argparse.Namespace:
    return SQATask.get_parser().parse_args(
        ["--bert_dir", fx.bert_dir(), "--train_data", str(tmp_path / "none"), "--output_dir", str(tmp_path / "o"),
         "--input_modality", "text", "--bert_layers", "1", *extra])


def test_the_default_head_is_linear_and_recorded(tmp_path):
    args = text_qa_args(tmp_path)
    model = SQATask.build_model(args)
    assert type(model.span_head) is SpanHead and model.span_head.proj.weight.shape == (2, 384)
    assert (args.span_head, args.span_head_conf) == ("linear", {})


def test_an_mlp_head_is_built_from_its_options(tmp_path):
    args = text_qa_args(tmp_path, "--span_head", "mlp", "--span_head_conf", "{hidden_size: 16}")
    model = SQATask.build_model(args)
    head = model.span_head
    assert isinstance(head, MLPSpanHead) and head.dense.weight.shape == (16, 384) and head.proj.weight.shape == (2, 16)
    assert args.span_head_conf == {"hidden_size": 16, "dropout": 0.1}


def test_a_config_without_span_head_options_builds_the_linear_head(tmp_path):
    args = text_qa_args(tmp_path)
    del args.span_head, args.span_head_conf  # a namespace of a config.yaml from before the registry
    assert type(SQATask.build_model(args).span_head) is SpanHead


def test_a_bad_head_option_names_the_key(tmp_path):
    args = text_qa_args(tmp_path, "--span_head", "mlp", "--span_head_conf", "{hidden: 16}")
    with pytest.raises(ConfigError, match="span_head_conf: unknown option 'hidden' for span_head 'mlp'"):
        SQATask.build_model(args)
