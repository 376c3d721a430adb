"""A frozen audio encoder's vectors, encoded once per passage, stand in for its per-batch output."""

import numpy as np
import pytest
import torch

import sqa_fixture as fx
from speechbert.io.sqa_data import read_questions
from speechbert.nets import AudioWordEncoder, AudioWordEncoderConfig, BertConfig, BertEncoder, SpanHead
from speechbert.tasks.audio_vector_table import WORDS_PER_CHUNK, AudioVectorTable
from speechbert.nets.mixed_encoder import MixedEncoder
from speechbert.nets.span_qa_model import SpanQAModel
from speechbert.tasks.common import load_vocab
from speechbert.tasks.padding import pad_feats
from speechbert.tasks.sqa_dataset import SQADataset, make_sqa_collate
from speechbert.tasks.sqa_finetune import SQATask, attach_vector_table, predict_spans
from speechbert.tasks.word_segments import SpokenCorpus


def _corpus(root):
    return SpokenCorpus.load(root / "data/train", root / "dump/train", root / "exp/align/train/word.ctm",
                             root / "dump/train/cmvn.ark")


def _model(feat_dim, vocab_size, frozen=True, layers=2, seed=0):
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64)
    awe = AudioWordEncoder(AudioWordEncoderConfig(input_dim=feat_dim, output_size=16, hidden_size=8,
                                                  decoder_hidden_size=8, num_layers=layers, dropout=0.5))
    return SpanQAModel(MixedEncoder(BertEncoder(cfg), awe, freeze_audio_encoder=frozen), SpanHead(16))


def _dataset(corpus, root, train):
    questions = read_questions(root / "data/train/questions.jsonl")
    return SQADataset(corpus, questions, load_vocab(fx.bert_dir()), modality="audio", max_seq_len=24,
                      max_question_len=8, window_units=0, window_stride=5, train=train)


def test_table_holds_the_encoder_output_of_every_word_whatever_asks_first(sqa_corpus):
    corpus = _corpus(sqa_corpus)
    model = _model(corpus.feat_dim, 100)
    enc = model.encoder.audio_encoder.eval()
    cids = sorted(corpus.segments)
    a, b = AudioVectorTable(corpus, enc), AudioVectorTable(corpus, enc)
    a.fill(cids)
    last = cids[-1]
    n = corpus.segments[last].num_words
    b.vectors(last, [n - 1, 0])          # b fills the last passage first, through a lookup
    b.fill(reversed(cids))
    assert len(a) == len(b) == len(cids)
    for cid in cids:
        words = list(range(corpus.segments[cid].num_words))
        va, vb = a.vectors(cid, words), b.vectors(cid, words)
        assert torch.equal(va, vb)       # bit for bit: the passage, not the caller, decides the batches
        with torch.no_grad():
            x, lens = pad_feats(corpus.word_feats(cid))
            direct = enc.encode(x, lens)
        assert va.shape == (len(words), 16)
        torch.testing.assert_close(va, direct, rtol=1e-5, atol=1e-6)
    assert torch.equal(a.vectors(last, [n - 1, 0]), a.vectors(last, list(range(n)))[[n - 1, 0]])
    assert WORDS_PER_CHUNK > 0


def test_dataset_with_a_table_gives_the_model_the_same_logits(sqa_corpus):
    corpus = _corpus(sqa_corpus)
    ds_frames, ds_vectors = _dataset(corpus, sqa_corpus, True), _dataset(corpus, sqa_corpus, True)
    model = _model(corpus.feat_dim, ds_frames.vocab.vocab_size)
    model.train()
    # A frozen encoder is a fixed function: no dropout between its layers even in training mode.
    assert not model.encoder.audio_encoder.training and model.encoder.bert.training
    assert attach_vector_table(model, ds_vectors, "cpu") and ds_vectors.vector_table is not None
    assert len(ds_vectors.vector_table) == len(ds_vectors.context_ids())   # filled before any batch
    collate = make_sqa_collate(ds_frames.vocab.pad_id, allow_cls=True)
    idx = list(range(min(6, len(ds_frames))))
    frames = collate([ds_frames[i] for i in idx])
    vectors = collate([ds_vectors[i] for i in idx])
    assert "audio_feats" in frames and "audio_feats" not in vectors
    assert vectors["audio_vectors"].shape == (frames["audio_feats"].shape[0], 16)
    assert torch.equal(vectors["audio_batch"], frames["audio_batch"])
    assert torch.equal(vectors["audio_pos"], frames["audio_pos"])
    model.eval()
    with torch.no_grad():
        for b in (frames, vectors):
            b.pop("ids")
        loss_f, _, _ = model(**frames)
        loss_v, _, _ = model(**vectors)
    torch.testing.assert_close(loss_v, loss_f, rtol=1e-5, atol=1e-6)


def test_decoding_with_and_without_the_table_agrees(sqa_corpus):
    corpus = _corpus(sqa_corpus)
    model = _model(corpus.feat_dim, load_vocab(fx.bert_dir()).vocab_size)
    plain = predict_spans(model, _dataset(corpus, sqa_corpus, False), n_best=3, max_answer_len=5,
                          vector_table=False)
    ds = _dataset(corpus, sqa_corpus, False)
    tabled = predict_spans(model, ds, n_best=3, max_answer_len=5)
    assert ds.vector_table is not None
    assert plain.keys() == tabled.keys()
    for qid in plain:
        assert [(s.first, s.last) for s in plain[qid]] == [(s.first, s.last) for s in tabled[qid]]
        np.testing.assert_allclose([s.score for s in plain[qid]], [s.score for s in tabled[qid]], rtol=1e-4)


def test_no_table_for_a_trainable_encoder_or_text(sqa_corpus):
    corpus = _corpus(sqa_corpus)
    trainable = _model(corpus.feat_dim, load_vocab(fx.bert_dir()).vocab_size, frozen=False)
    ds = _dataset(corpus, sqa_corpus, True)
    assert not attach_vector_table(trainable, ds, "cpu") and ds.vector_table is None
    assert "audio_feats" in ds[0]
    trainable.train()
    assert trainable.encoder.audio_encoder.training
    with pytest.raises(ValueError, match="only for a frozen audio word encoder"):
        trainable.encoder(torch.ones(1, 3, dtype=torch.long), torch.zeros(1, 3, dtype=torch.long),
                          torch.ones(1, 3, dtype=torch.bool), audio_vectors=torch.zeros(1, 16),
                          audio_batch=torch.zeros(1, dtype=torch.long), audio_pos=torch.ones(1, dtype=torch.long))
    text = SQADataset(SpokenCorpus.load(sqa_corpus / "data/train", None, None, None),
                      read_questions(sqa_corpus / "data/train/questions.jsonl"), load_vocab(fx.bert_dir()),
                      modality="text", max_seq_len=24, max_question_len=8, window_units=0, window_stride=5,
                      train=True)
    assert not attach_vector_table(_model(corpus.feat_dim, load_vocab(fx.bert_dir()).vocab_size), text, "cpu")


def test_validation_keeps_one_decoding_set_per_model():
    a, b = _model(3, 50), _model(3, 50, seed=1)
    SQATask._eval_sets.setdefault(a, {})["k"] = "set of a"
    assert SQATask._eval_sets.get(b) is None
    del a
    import gc

    gc.collect()
    assert all(v != {"k": "set of a"} for v in SQATask._eval_sets.values())
