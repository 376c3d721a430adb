"""Random-init BertEncoder: shapes, padding, word_embeds path, gradients, config validation."""

import pytest
import torch

from speechbert.errors import ConfigError
from speechbert.nets import BertConfig, BertEncoder


def tiny(**kw) -> BertConfig:
    base = dict(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=64, max_position_embeddings=40, hidden_dropout_prob=0.0,
                attention_probs_dropout_prob=0.0)
    base.update(kw)
    return BertConfig(**base)


@pytest.mark.parametrize("layers,hidden,heads", [(0, 8, 1), (1, 16, 2), (3, 48, 6)])
def test_random_configs_build_and_run(layers, hidden, heads):
    model = BertEncoder(tiny(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads))
    out = model(torch.randint(1, 50, (2, 7)))
    assert out[0].shape == (2, 7, hidden)
    assert out.hidden_states is None
    assert len(model.layers) == layers


def test_padding_does_not_change_real_positions():
    model = BertEncoder(tiny()).eval()
    ids = torch.randint(1, 50, (1, 9))
    padded = torch.cat([ids, torch.zeros(1, 6, dtype=torch.long)], dim=1)
    mask = torch.cat([torch.ones(1, 9), torch.zeros(1, 6)], dim=1).long()
    with torch.no_grad():
        ref = model(ids)[0]
        got = model(padded, attention_mask=mask)[0][:, :9]
        unmasked = model(padded)[0][:, :9]
    assert torch.allclose(ref, got, atol=1e-5)
    assert (ref - unmasked).abs().max() > 1e-3  # without the mask the pads are attended to


def test_all_ones_mask_equals_no_mask_and_default_positions():
    model = BertEncoder(tiny()).eval()
    ids = torch.randint(1, 50, (3, 11))
    with torch.no_grad():
        a = model(ids)[0]
        b = model(ids, attention_mask=torch.ones(3, 11, dtype=torch.bool),
                  position_ids=torch.arange(11).expand(3, 11), token_type_ids=torch.zeros_like(ids))[0]
    assert torch.allclose(a, b, atol=1e-6)


def test_word_embeds_replace_only_the_lookup():
    model = BertEncoder(tiny(type_vocab_size=3)).eval()
    ids = torch.randint(1, 50, (2, 8))
    types = torch.randint(0, 3, (2, 8))
    with torch.no_grad():
        a = model(ids, token_type_ids=types)[0]
        b = model(word_embeds=model.embed_tokens(ids), token_type_ids=types)[0]
        emb = model.embed_tokens(ids)
        emb[:, 3] = torch.randn(2, 32)  # an "audio word" vector
        c = model(word_embeds=emb, token_type_ids=types)[0]
    assert torch.equal(model.embed_tokens(ids), model.embeddings.word_embeddings.weight[ids])
    assert torch.allclose(a, b, atol=1e-6)
    assert (a - c).abs().max() > 1e-3
    with pytest.raises(ValueError):
        model(ids, word_embeds=emb)


def test_gradients_reach_every_parameter_and_word_embeds():
    model = BertEncoder(tiny(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)).train()
    emb = torch.randn(2, 6, 32, requires_grad=True)
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2])
    model(word_embeds=emb, attention_mask=mask)[0].pow(2).sum().backward()
    assert emb.grad is not None and emb.grad.abs().sum() > 0
    no_grad = [n for n, p in model.named_parameters() if p.grad is None and "word_embeddings" not in n]
    assert no_grad == []


def test_output_hidden_states_and_resize_token_types():
    model = BertEncoder(tiny())
    out = model(torch.randint(1, 50, (1, 5)), output_hidden_states=True)
    assert len(out.hidden_states) == 3 and torch.equal(out.hidden_states[-1], out[0])
    model.resize_token_types(4)
    w = model.embeddings.token_type_embeddings.weight
    assert w.shape[0] == 4 and model.config.type_vocab_size == 4
    assert torch.equal(w[2], w[0]) and torch.equal(w[3], w[0])


def test_bad_configs_raise():
    with pytest.raises(ConfigError, match="multiple"):
        tiny(hidden_size=30)
    with pytest.raises(ConfigError, match="hidden_act"):
        tiny(hidden_act="relu")
    with pytest.raises(ConfigError, match="unknown"):
        tiny().replace(hidden=3)
    with pytest.raises(ConfigError, match="max_position"):
        BertEncoder(tiny())(torch.ones(1, 41, dtype=torch.long))


def test_padding_positions_are_zero_and_token_types_matter():
    model = BertEncoder(tiny(type_vocab_size=2)).eval()
    ids = torch.randint(1, 50, (2, 6))
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]])
    with torch.no_grad():
        out = model(ids, attention_mask=mask, output_hidden_states=True)
        other = model(ids, attention_mask=mask, token_type_ids=torch.ones_like(ids))[0]
    assert out[0][0, 4:].abs().sum() == 0 and out[0][0, :4].abs().sum() > 0
    assert all(h[0, 4:].abs().sum() == 0 for h in out.hidden_states)
    assert (other - out[0])[:, :4].abs().max() > 1e-3


# ------------------------------------------------------------------ speed paths (issue 12 item 5)

def _reference_forward(model: BertEncoder, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
    """The encoder's computation written out plainly on the padded batch (the pre-speed-up
    definition): embeddings, then per layer fused-qkv attention with an additive mask and the
    post-LN feed-forward block; padding outputs zero."""
    import math

    import torch.nn.functional as F

    cfg, sd = model.config, model.state_dict()
    h, heads = cfg.hidden_size, cfg.num_attention_heads
    d = h // heads
    b, t = ids.shape
    x = (sd["embeddings.word_embeddings.weight"][ids] + sd["embeddings.position_embeddings.weight"][:t]
         + sd["embeddings.token_type_embeddings.weight"][types])
    x = F.layer_norm(x, (h,), sd["embeddings.layer_norm.weight"], sd["embeddings.layer_norm.bias"], cfg.layer_norm_eps)
    add = (~mask.bool()).float()[:, None, None, :] * torch.finfo(torch.float32).min
    for i in range(cfg.num_hidden_layers):
        def w(name: str) -> torch.Tensor:
            return sd[f"layers.{i}.{name}"]
        q, k, v = (x @ w("qkv.weight").T + w("qkv.bias")).view(b, t, 3, heads, d).permute(2, 0, 3, 1, 4)
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + add, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(b, t, h)
        x = F.layer_norm(x + ctx @ w("attn_out.weight").T + w("attn_out.bias"), (h,), w("attn_norm.weight"),
                         w("attn_norm.bias"), cfg.layer_norm_eps)
        f = F.gelu(x @ w("ffn_in.weight").T + w("ffn_in.bias")) @ w("ffn_out.weight").T + w("ffn_out.bias")
        x = F.layer_norm(x + f, (h,), w("ffn_norm.weight"), w("ffn_norm.bias"), cfg.layer_norm_eps)
    return x * mask[..., None]


def _padded_batch(vocab: int = 50, b: int = 3, t: int = 13):
    gen = torch.Generator().manual_seed(4)
    ids = torch.randint(1, vocab, (b, t), generator=gen)
    mask = torch.ones(b, t, dtype=torch.long)
    mask[1, 9:] = 0
    mask[2, 4:] = 0
    types = torch.zeros_like(ids)
    types[:, 6:] = 1
    return ids * mask, mask, types


def test_eval_output_equals_the_reference_computation():
    """fp32 CPU eval: our packed/SDPA forward is the plain computation within 1e-6."""
    model = BertEncoder(tiny(num_hidden_layers=3, type_vocab_size=2)).eval()
    with torch.no_grad():
        for p in model.parameters():  # non-trivial norms and biases, so that a mix-up shows
            p.add_(0.05 * torch.randn_like(p))
    ids, mask, types = _padded_batch()
    with torch.no_grad():
        ours = model(ids, attention_mask=mask, token_type_ids=types)[0]
        ref = _reference_forward(model, ids, mask, types)
        full = model(ids, token_type_ids=types)[0]
        full_ref = _reference_forward(model, ids, torch.ones_like(mask), types)
    assert (ours - ref).abs().max().item() <= 1e-6
    assert (full - full_ref).abs().max().item() <= 1e-6
    assert ref.abs().max() > 0.5


def test_state_dict_layout_is_unchanged():
    cfg = tiny()
    model = BertEncoder(cfg)
    assert list(model.state_dict()) == BertEncoder.expected_state_keys(cfg)
    assert model.state_dict()["layers.0.qkv.weight"].shape == (3 * 32, 32)


def test_padded_layout_of_accelerators_equals_the_packed_one(monkeypatch):
    """The non-CPU path (padded batch throughout, no token index): same outputs, zero pads."""
    import speechbert.nets.bert as bert

    model = BertEncoder(tiny()).eval()
    ids, mask, types = _padded_batch()
    with torch.no_grad():
        packed = model(ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
        monkeypatch.setattr(bert, "_packs_tokens", lambda device: False)
        padded = model(ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
    assert (packed[0] - padded[0]).abs().max().item() <= 1e-6
    assert padded[0][2, 4:].abs().sum() == 0
    assert all(h[1, 9:].abs().sum() == 0 for h in padded.hidden_states)


def test_cpu_training_attention_is_sdpa_when_nothing_is_dropped(monkeypatch):
    """The written-out CPU training attention computes what SDPA does (mask forced to keep all)."""
    import speechbert.nets.bert as bert

    model = BertEncoder(tiny(attention_probs_dropout_prob=0.1))
    ids, mask, types = _padded_batch()
    with torch.no_grad():
        expected = model.eval()(ids, attention_mask=mask, token_type_ids=types)[0]
    monkeypatch.setattr(bert, "keep_mask", lambda shape, p, device: (torch.ones(shape, dtype=torch.bool), 1.0))
    got = model.train()(ids, attention_mask=mask, token_type_ids=types)[0]
    assert (got - expected).abs().max().item() <= 1e-6


def test_training_step_reads_no_tensor_value_into_python():
    """No aten::item / _local_scalar_dense (a host sync on CUDA) in forward + backward, with padding."""
    from torch.profiler import ProfilerActivity, profile

    model = BertEncoder(tiny(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)).train()
    ids, mask, types = _padded_batch()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        model(ids, attention_mask=mask, token_type_ids=types)[0].pow(2).mean().backward()
    names = [e.name for e in prof.events()]
    assert "aten::addmm" in names  # the profiler saw the step
    assert names.count("aten::item") == 0 and names.count("aten::_local_scalar_dense") == 0
