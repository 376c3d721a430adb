"""load_pretrained_bert: parity with transformers.BertModel, truncation, layouts, strict names."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from speechbert.errors import ConfigError
from speechbert.nets import BertConfig, BertEncoder, load_pretrained_bert, read_pretrained_bert

transformers = pytest.importorskip("transformers")


def _batch(vocab: int = 30522):
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, vocab, (3, 24), generator=gen)
    mask = torch.ones(3, 24, dtype=torch.long)
    mask[1, 17:] = 0
    mask[2, 6:] = 0
    ids[mask == 0] = 0
    types = torch.zeros_like(ids)
    types[:, 10:] = 1
    return ids, mask, types


def _max_diff(ours, theirs, mask):
    return ((ours - theirs).abs() * mask[..., None]).max().item()


def test_minilm_matches_transformers(minilm_dir):
    ours = load_pretrained_bert(minilm_dir).eval()
    hf = transformers.BertModel.from_pretrained(minilm_dir, attn_implementation="sdpa").eval()
    ids, mask, types = _batch()
    with torch.no_grad():
        a = ours(ids, attention_mask=mask, token_type_ids=types)[0]
        b = hf(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    assert _max_diff(a, b, mask) <= 1e-4
    assert a.abs().max() > 0.1  # not a degenerate output


def test_truncated_layers_and_extra_token_types(minilm_dir):
    pre = read_pretrained_bert(minilm_dir, num_hidden_layers=2, type_vocab_size=3, hidden_dropout_prob=0.0)
    ours = pre.encoder.eval()
    assert len(ours.layers) == 2 and pre.config.hidden_dropout_prob == 0.0
    assert any(k.startswith("encoder.layer.5.") for k in pre.ignored_keys)
    assert pre.vocab_file is not None and pre.vocab_file.name == "vocab.txt"
    types_w = ours.embeddings.token_type_embeddings.weight
    assert torch.equal(types_w[2], types_w[0])
    hf = transformers.BertModel.from_pretrained(minilm_dir, num_hidden_layers=2, attn_implementation="sdpa").eval()
    ids, mask, types = _batch()
    with torch.no_grad():
        a = ours(ids, attention_mask=mask, token_type_ids=types)[0]
        b = hf(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    assert _max_diff(a, b, mask) <= 1e-4


def test_bad_overrides_raise(minilm_dir):
    with pytest.raises(ConfigError, match="hidden_size"):
        load_pretrained_bert(minilm_dir, hidden_size=128)
    with pytest.raises(ConfigError, match="only 6 layers"):
        load_pretrained_bert(minilm_dir, num_hidden_layers=7)
    with pytest.raises(ConfigError, match="does not exist"):
        load_pretrained_bert("/nonexistent/bert")


def _tiny_hf_mlm(tmp_path: Path, safe: bool = True) -> tuple[Path, "transformers.BertForMaskedLM"]:
    cfg = transformers.BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=20, type_vocab_size=2)
    torch.manual_seed(3)
    model = transformers.BertForMaskedLM(cfg).eval()
    with torch.no_grad():  # make the head non-trivial so a loading bug shows
        model.cls.predictions.bias.normal_()
        model.cls.predictions.transform.LayerNorm.weight.normal_()
    out = tmp_path / ("safe" if safe else "bin")
    model.save_pretrained(out, safe_serialization=safe)
    return out, model


@pytest.mark.parametrize("safe", [True, False])
def test_bert_prefix_and_mlm_head_match_transformers(tmp_path, safe):
    path, hf = _tiny_hf_mlm(tmp_path, safe)
    assert (path / ("model.safetensors" if safe else "pytorch_model.bin")).is_file()
    pre = read_pretrained_bert(path)
    assert pre.mlm_state is not None
    head = pre.mlm_head()
    assert head.loaded_from_checkpoint
    ids = torch.randint(1, 40, (2, 9))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    with torch.no_grad():
        ours = head(pre.encoder.eval()(ids, attention_mask=mask)[0])
        theirs = hf(input_ids=ids, attention_mask=mask).logits
    assert _max_diff(ours, theirs, mask) <= 1e-4


def test_sentence_transformers_layout(tmp_path, minilm_dir):
    root = tmp_path / "st"
    shutil.copytree(minilm_dir, root / "0_Transformer", ignore=shutil.ignore_patterns("1_Pooling", "*.md"))
    (root / "0_Transformer" / "modules.json").unlink()
    (root / "modules.json").write_text(json.dumps(
        [{"idx": 0, "name": "0", "path": "0_Transformer", "type": "sentence_transformers.models.Transformer"}]))
    pre = read_pretrained_bert(root, num_hidden_layers=1)
    assert pre.directory == root / "0_Transformer"


def _write_checkpoint(tmp_path: Path, state: dict, cfg: BertConfig) -> Path:
    from safetensors.torch import save_file

    out = tmp_path / "ckpt"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({**cfg.to_dict(), "model_type": "bert"}))
    save_file({k: v.contiguous() for k, v in state.items()}, str(out / "model.safetensors"))
    return out


def test_unexpected_and_missing_keys_are_listed(tmp_path):
    cfg = transformers.BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=16, max_position_embeddings=10)
    state = dict(transformers.BertModel(cfg).state_dict())
    state["encoder.layer.0.attention.self.rotary.weight"] = torch.zeros(2)
    del state["encoder.layer.0.output.LayerNorm.bias"]
    ours_cfg = BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                          intermediate_size=16, max_position_embeddings=10)
    path = _write_checkpoint(tmp_path, state, ours_cfg)
    with pytest.raises(ConfigError) as err:
        load_pretrained_bert(path)
    assert "layers.0.ffn_norm.bias" in str(err.value)
    assert "encoder.layer.0.attention.self.rotary.weight" in str(err.value)


def test_random_init_encoder_round_trips_through_hf_names(tmp_path):
    """Our mapping is invertible: HF weights of a random model give the same outputs here."""
    cfg = transformers.BertConfig(vocab_size=30, hidden_size=12, num_hidden_layers=3, num_attention_heads=3,
                                  intermediate_size=20, max_position_embeddings=16, type_vocab_size=1)
    hf = transformers.BertModel(cfg).eval()
    path = _write_checkpoint(tmp_path, hf.state_dict(), BertConfig(
        vocab_size=30, hidden_size=12, num_hidden_layers=3, num_attention_heads=3, intermediate_size=20,
        max_position_embeddings=16, type_vocab_size=1))
    ours = load_pretrained_bert(path, max_position_embeddings=12).eval()
    assert isinstance(ours, BertEncoder) and ours.config.max_position_embeddings == 12
    ids = torch.randint(0, 30, (2, 12))
    with torch.no_grad():
        assert (ours(ids)[0] - hf(ids).last_hidden_state).abs().max() <= 1e-5


def test_question_answering_checkpoint_gives_span_head(tmp_path):
    from speechbert.nets import SpanHead

    cfg = transformers.BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=16, max_position_embeddings=10)
    hf = transformers.BertForQuestionAnswering(cfg).eval()
    hf.save_pretrained(tmp_path / "qa")
    pre = read_pretrained_bert(tmp_path / "qa")
    head = SpanHead(8)
    head.load_hf_state_dict(pre.span_state)
    ids = torch.randint(0, 30, (2, 7))
    with torch.no_grad():
        start, end = head(pre.encoder.eval()(ids)[0])
        ref = hf(input_ids=ids)
    assert torch.allclose(start, ref.start_logits, atol=1e-5) and torch.allclose(end, ref.end_logits, atol=1e-5)


def test_gradients_match_transformers(tmp_path):
    cfg = transformers.BertConfig(vocab_size=30, hidden_size=12, num_hidden_layers=2, num_attention_heads=3,
                                  intermediate_size=20, max_position_embeddings=16, hidden_dropout_prob=0.0,
                                  attention_probs_dropout_prob=0.0, attn_implementation="sdpa")
    hf = transformers.BertModel(cfg, add_pooling_layer=False).train()
    hf.save_pretrained(tmp_path / "m")
    ours = load_pretrained_bert(tmp_path / "m").train()
    ids = torch.randint(1, 30, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    weight = torch.randn(3, 9, 12) * mask[..., None]
    (ours(ids, attention_mask=mask)[0] * weight).sum().backward()
    (hf(input_ids=ids, attention_mask=mask).last_hidden_state * weight).sum().backward()
    layer = hf.encoder.layer[0]
    hf_qkv = torch.cat([layer.attention.self.query.weight.grad, layer.attention.self.key.weight.grad,
                        layer.attention.self.value.weight.grad])
    assert torch.allclose(ours.layers[0].qkv.weight.grad, hf_qkv, atol=1e-5)
    assert torch.allclose(ours.layers[1].ffn_in.weight.grad, hf.encoder.layer[1].intermediate.dense.weight.grad,
                          atol=1e-5)
    assert torch.allclose(ours.word_embeddings.weight.grad, hf.embeddings.word_embeddings.weight.grad, atol=1e-5)
    assert ours.word_embeddings.weight.grad.abs().sum() > 0
