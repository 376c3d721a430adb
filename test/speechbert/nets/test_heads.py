"""MLMHead (tied decoder) and SpanHead."""

import torch

from speechbert.nets import BertConfig, BertEncoder, MLMHead, SpanHead


def test_mlm_head_is_tied_to_word_embeddings():
    cfg = BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32)
    model = BertEncoder(cfg)
    head = MLMHead(cfg, model.word_embeddings)
    assert head.decoder_weight is model.word_embeddings.weight
    assert not any("word_embeddings" in k for k in head.state_dict())
    hidden = model(torch.randint(1, 30, (2, 5)))[0]
    logits = head(hidden)
    assert logits.shape == (2, 5, 30)
    # Logits equal the tied linear map done by hand.
    h = torch.nn.functional.gelu(head.dense(hidden))
    manual = head.layer_norm(h) @ model.word_embeddings.weight.T + head.bias
    assert torch.allclose(logits, manual, atol=1e-5)
    logits.sum().backward()
    assert model.word_embeddings.weight.grad.abs().sum() > 0


def test_span_head_masks_disallowed_positions():
    head = SpanHead(8)
    hidden = torch.randn(2, 6, 8)
    mask = torch.tensor([[0, 0, 1, 1, 1, 0], [0, 1, 1, 1, 1, 1]], dtype=torch.bool)
    start, end = head(hidden, mask)
    assert start.shape == end.shape == (2, 6)
    assert bool((start.argmax(-1) >= torch.tensor([2, 1])).all())
    assert start[0, 0] == torch.finfo(start.dtype).min and end[1, 0] == torch.finfo(end.dtype).min
    free_start, _ = head(hidden)
    assert torch.equal(free_start[mask], start[mask])
