"""Stage 5: the audio word encoder pulled into BERT's input-embedding space."""

import numpy as np
import pytest
import torch

import sqa_fixture as fx
from speechbert.nets import AudioWordEncoder, AudioWordEncoderConfig
from speechbert.tasks.common import load_corpus, load_vocab
from speechbert.nets.joint_embedding_model import JointEmbeddingModel, pairwise_distance, row_distance, word_targets
from speechbert.tasks.joint_embedding import JointEmbeddingTask, SpokenWordDataset, collate_words


def _tiny_model(distance="l1", target="mean") -> JointEmbeddingModel:
    torch.manual_seed(0)
    enc = AudioWordEncoder(AudioWordEncoderConfig(input_dim=5, output_size=8, hidden_size=6, decoder_hidden_size=6))
    table = torch.randn(30, 8) * 0.05
    return JointEmbeddingModel(enc, table, target_pieces=target, distance=distance, semantic_weight=10.0)


def _batch():
    rng = np.random.default_rng(0)
    items = [{"id": "u1", "feats": [rng.normal(size=(4, 5)).astype(np.float32),
                                    rng.normal(size=(7, 5)).astype(np.float32)],
              "pieces": [[3], [4, 5, 6]]},
             {"id": "u2", "feats": [rng.normal(size=(2, 5)).astype(np.float32)], "pieces": [[7, 8]]}]
    return collate_words(items)


def test_collate_flattens_words():
    b = _batch()
    assert b["ids"] == ["u1", "u2"]
    assert b["feats"].shape == (3, 7, 5) and b["feat_lens"].tolist() == [4, 7, 2]
    assert b["pieces"].tolist() == [[3, 0, 0], [4, 5, 6], [7, 8, 0]]
    assert b["piece_mask"].sum(1).tolist() == [1, 3, 2]


@pytest.mark.parametrize("distance", ["l1", "l2", "cosine"])
def test_forward_backward_trains_only_the_encoder(distance):
    model = _tiny_model(distance)
    b = _batch()
    b.pop("ids")
    loss, stats, weight = model(**b)
    assert weight == 3 and torch.isfinite(loss)
    assert set(stats) == {"rec", "dist", "cos"}
    loss.backward()
    grads = [p.grad for p in model.audio_encoder.parameters()]
    assert all(g is not None for g in grads) and any(float(g.abs().sum()) > 0 for g in grads)
    # the BERT table is a fixed, unsaved target
    assert not model.embedding_table.requires_grad
    assert all(k.startswith("audio_encoder.") for k in model.state_dict())


def test_word_targets_mean_and_first():
    table = torch.arange(20, dtype=torch.float32).view(10, 2)
    pieces = torch.tensor([[1, 3, 0], [5, 0, 0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]]).bool()
    assert word_targets(table, pieces, mask, "mean").tolist() == [[4.0, 5.0], [10.0, 11.0]]
    assert word_targets(table, pieces, mask, "first").tolist() == [[2.0, 3.0], [10.0, 11.0]]


def test_distances_by_hand():
    a = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    b = torch.tensor([[0.0, 0.0], [0.0, 2.0]])
    assert row_distance(a, b, "l1").tolist() == [1.5, 0.5]
    assert row_distance(a, b, "l2").tolist() == [2.5, 0.5]
    assert row_distance(a, b, "cosine")[1].item() == pytest.approx(0.0, abs=1e-6)
    d = pairwise_distance(a, b, "l1")
    assert d.tolist() == [[3.0, 1.0], [1.0, 1.0]]


def test_dataset_holds_aligned_words_of_each_utterance(sqa_corpus):
    args = JointEmbeddingTask.get_parser().parse_args(fx.corpus_args(sqa_corpus) + ["--output_dir", "x"])
    corpus = load_corpus(args, "train")
    ds = SpokenWordDataset(corpus, load_vocab(args.bert_dir))
    n_words = sum(s.num_words for s in corpus.segments.values())
    assert sum(len(ds.items[i][2]) for i in range(len(ds))) == n_words
    item = ds[0]
    cid, utt, words = ds.items[0]
    assert item["id"] == utt and len(item["feats"]) == len(words) == len(item["pieces"])
    assert ds.lengths[0] == sum(len(m) for m in item["feats"])
    vocab = load_vocab(args.bert_dir)
    assert item["pieces"][0] == vocab.word_ids(corpus.passages[cid].words[words[0]])


@pytest.mark.slow
def test_end_to_end_nearest_neighbour_accuracy_improves(sqa_corpus, joint_embed_exp):
    """Stage 5 on the structured corpus: acc_nn well above the untrained encoder's."""
    from speechbert.command_line import seed_everything

    args = JointEmbeddingTask.get_parser().parse_args(
        fx.corpus_args(sqa_corpus) + fx.AWE_ARGS + ["--output_dir", "x"])
    seed_everything(args.seed)
    untrained = JointEmbeddingTask.build_model(args).eval()
    with torch.no_grad():
        initial = JointEmbeddingTask.validate(untrained, args, torch.device("cpu"))["acc_nn"]
    records = fx.read_metrics(joint_embed_exp)
    final = max(r["valid.acc_nn"] for r in records)
    assert final >= initial + 0.3, (initial, [r["valid.acc_nn"] for r in records])
    assert final >= 0.5
    for name in ("model.avg.pt", "valid.acc_nn.best", "config.yaml"):
        assert (joint_embed_exp / name).is_file()
    # the saved model reloads and reproduces its validation metric
    model, loaded_args = JointEmbeddingTask.load_from_exp(joint_embed_exp, file="valid.acc_nn.best")
    with torch.no_grad():
        again = JointEmbeddingTask.validate(model, loaded_args, torch.device("cpu"))["acc_nn"]
    assert again == pytest.approx(final)


def test_extra_training_sets_add_their_words(sqa_corpus, tmp_path):
    fx.make_split(tmp_path, "extra", 3, seed=5)
    base = fx.corpus_args(sqa_corpus) + ["--output_dir", str(tmp_path / "x")]
    extra = ["--extra_train_data", str(tmp_path / "data/extra"), "--extra_train_dump", str(tmp_path / "dump/extra"),
             "--extra_train_ctm", str(tmp_path / "exp/align/extra/word.ctm")]
    only = JointEmbeddingTask.build_dataset(JointEmbeddingTask.get_parser().parse_args(base), "train")
    both = JointEmbeddingTask.build_dataset(JointEmbeddingTask.get_parser().parse_args(base + extra), "train")
    n_extra_utts = len((tmp_path / "data/extra/text").read_text().splitlines())
    assert len(both) == len(only) + n_extra_utts and len(both.lengths) == len(both)
    item = both[len(only)]
    assert item["id"].startswith("train-0005-")  # make_split names its passages train-<seed>-...
