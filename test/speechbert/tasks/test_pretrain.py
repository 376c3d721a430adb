"""Stage 6: cross-modal masked-language-model pre-training."""

import argparse

import numpy as np
import pytest
import torch

import sqa_fixture as fx
from speechbert.nets import AudioWordEncoder, AudioWordEncoderConfig, BertConfig, BertEncoder, MLMHead
from speechbert.tasks.common import load_corpus, load_vocab
from speechbert.nets.cross_modal_mlm import CrossModalMLM
from speechbert.nets.mixed_encoder import MixedEncoder
from speechbert.tasks.pretrain import PretrainDataset, PretrainTask, make_pretrain_collate

MASK = 4


def _tiny_model(audio_target="first", freeze=False, **kw) -> CrossModalMLM:
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64)
    bert = BertEncoder(cfg)
    awe = AudioWordEncoder(AudioWordEncoderConfig(input_dim=3, output_size=16, hidden_size=8, decoder_hidden_size=8))
    enc = MixedEncoder(bert, awe, freeze_audio_encoder=freeze)
    return CrossModalMLM(enc, MLMHead(cfg, bert.word_embeddings), mask_id=MASK, vocab_size=50,
                         audio_target=audio_target, **kw)


def _items():
    rng = np.random.default_rng(0)
    seg = lambda n: rng.normal(size=(n, 3)).astype(np.float32)  # noqa: E731
    # [CLS] t t t [SEP] a a [SEP]  and  [CLS] a a a [SEP]
    return [{"id": "p", "input_ids": [1, 20, 21, 22, 2, 20, 30, 2], "token_type_ids": [0, 0, 0, 0, 0, 1, 1, 1],
             "text_maskable": [False, True, True, True, False, False, False, False],
             "audio_positions": [5, 6], "audio_feats": [seg(4), seg(3)], "audio_targets": [[20], [30, 31]]},
            {"id": "a", "input_ids": [1, 40, 41, 42, 2], "token_type_ids": [0, 1, 1, 1, 1],
             "text_maskable": [False] * 5, "audio_positions": [1, 2, 3],
             "audio_feats": [seg(2), seg(5), seg(3)], "audio_targets": [[40], [41], [42, 43]]}]


def _batch():
    b = make_pretrain_collate(0)(_items())
    b.pop("ids")
    return b


def test_collate_places_audio_words():
    b = make_pretrain_collate(0)(_items())
    assert b["input_ids"].shape == (2, 8)
    assert b["audio_batch"].tolist() == [0, 0, 1, 1, 1] and b["audio_pos"].tolist() == [5, 6, 1, 2, 3]
    assert b["audio_feats"].shape == (5, 5, 3) and b["audio_lens"].tolist() == [4, 3, 2, 5, 3]
    assert b["audio_targets"].tolist() == [[20, -1], [30, 31], [40, -1], [41, -1], [42, 43]]
    assert b["text_maskable"][0].tolist() == [False, True, True, True, False, False, False, False]
    assert b["attention_mask"][1].tolist() == [True] * 5 + [False] * 3


@pytest.mark.parametrize("target", ["first", "all"])
def test_forward_backward_reaches_every_trained_part(target):
    model = _tiny_model(target, text_mask_prob=0.5, audio_mask_prob=0.5)
    model.train()
    loss, stats, n = model(**_batch())
    assert torch.isfinite(loss) and n >= 1 and 0.0 <= float(stats["acc"]) <= 1.0
    loss.backward()
    named = dict(model.named_parameters())
    assert named["encoder.bert.layers.0.qkv.weight"].grad is not None
    assert named["mlm_head.dense.weight"].grad is not None
    assert named["encoder.audio_encoder.proj.weight"].grad is not None
    # the reconstruction decoder is not used after the joint embedding
    assert not named["encoder.audio_encoder.decoder.weight_ih_l0"].requires_grad
    # DDP (find_unused_parameters false) refuses a trainable parameter that gets no gradient: the
    # decoder-only `condition` layer did, and `./run.sh --ngpu 2` failed in stage 6
    assert [n for n, p in named.items() if p.requires_grad and p.grad is None] == []


def test_masking_only_where_allowed_and_deterministic_in_eval():
    model = _tiny_model(text_mask_prob=1.0, audio_mask_prob=0.0, mask_token_prob=1.0, random_token_prob=0.0)
    model.eval()
    with torch.no_grad():
        out1 = model.masked_predictions(**_batch())
        out2 = model.masked_predictions(**_batch())
    # all 3 maskable text tokens, no audio word
    assert out1["text_ok"].numel() == 3 and out1["audio_ok"].numel() == 0
    assert torch.equal(out1["text_loss"], out2["text_loss"])
    model = _tiny_model(text_mask_prob=0.0, audio_mask_prob=1.0)
    model.eval()
    with torch.no_grad():
        out = model.masked_predictions(**_batch())
    assert out["text_ok"].numel() == 0 and out["audio_ok"].numel() == 5


def test_nothing_drawn_still_masks_one_position():
    model = _tiny_model(text_mask_prob=0.0, audio_mask_prob=0.0)
    loss, stats, n = model(**_batch())
    assert n == 1 and torch.isfinite(loss)


def test_audio_target_all_counts_any_piece_as_right():
    model = _tiny_model("all", text_mask_prob=0.0, audio_mask_prob=1.0)
    model.eval()

    class Fixed(torch.nn.Module):  # logits that always pick token 31 / 43
        def forward(self, h):
            out = torch.zeros(h.shape[0], 50)
            out[:, 31] = 5.0
            out[:, 43] = 6.0
            return out

    model.mlm_head = Fixed()
    with torch.no_grad():
        out = model.masked_predictions(**_batch())
    # targets [20], [30,31], [40], [41], [42,43]: argmax 43 is right for the last word only
    assert out["audio_ok"].tolist() == [False, False, False, False, True]
    model.audio_target = "first"
    with torch.no_grad():
        out = model.masked_predictions(**_batch())
    assert out["audio_ok"].tolist() == [False] * 5


def test_dataset_sequences(sqa_corpus):
    args = PretrainTask.get_parser().parse_args(fx.corpus_args(sqa_corpus) + ["--output_dir", "x"])
    corpus = load_corpus(args, "train")
    vocab = load_vocab(args.bert_dir)
    ds = PretrainDataset(corpus, vocab, ["paired", "audio", "text"], max_seq_len=24, window_words=12,
                         window_stride=8)
    assert max(ds.lengths) <= 24
    kinds = {}
    for i in range(len(ds)):
        item = ds[i]
        kinds.setdefault(item["id"].rsplit(":", 1)[1], item)
        assert len(item["input_ids"]) == len(item["token_type_ids"]) == ds.lengths[i] <= 24
        assert len(item["audio_positions"]) == len(item["audio_feats"]) == len(item["audio_targets"])
    paired = kinds["paired"]
    ids, types = paired["input_ids"], paired["token_type_ids"]
    sep = ids.index(vocab.sep_id)
    assert ids[0] == vocab.cls_id and ids[-1] == vocab.sep_id
    assert paired["audio_positions"] == list(range(sep + 1, len(ids) - 1))
    assert all(t == 0 for t in types[: sep + 1]) and all(t == 1 for t in types[sep + 1:])
    assert paired["text_maskable"] == [False] + [True] * (sep - 1) + [False] * (len(ids) - sep)
    # the text part is the same words as the audio part
    cid, s, _ = paired["id"].split(":")[0], int(paired["id"].split(":")[1].split("-")[0]), None
    words = corpus.passages[cid].words[s:s + len(paired["audio_positions"])]
    assert ids[1:sep] == [i for w in words for i in vocab.word_ids(w)]
    assert [t[0] for t in paired["audio_targets"]] == [vocab.word_ids(w)[0] for w in words]
    audio = kinds["audio"]
    assert audio["audio_positions"] == list(range(1, len(audio["input_ids"]) - 1))
    assert not any(audio["text_maskable"])
    # every word of every passage is in some audio window
    covered = {cid: set() for cid in corpus.passages}
    for cid_, s_, e_, kind in ds.items:
        if kind == "audio":
            covered[cid_].update(range(s_, e_))
    assert all(covered[c] == set(range(len(p.words))) for c, p in corpus.passages.items())


@pytest.mark.slow
def test_end_to_end_audio_mlm_accuracy_improves(sqa_corpus, joint_embed_exp, pretrain_exp):
    """Stage 6 on the structured corpus: masked audio words predicted far better than before."""
    from speechbert.command_line import seed_everything
    from speechbert.train.model_io import init_parameters

    args = PretrainTask.get_parser().parse_args(
        fx.corpus_args(sqa_corpus) + fx.pretrain_model_args(joint_embed_exp) + ["--output_dir", "x"])
    seed_everything(args.seed)
    model = PretrainTask.build_model(args)
    assert args.awe == "rnn" and args.awe_conf["hidden_size"] == 64  # from the joint-embedding run's config.yaml
    init_parameters(model, args.init_param)
    model.eval()
    with torch.no_grad():
        initial = PretrainTask.validate(model, args, torch.device("cpu"))
    records = fx.read_metrics(pretrain_exp)
    final = max(r["valid.acc_audio_mlm"] for r in records)
    assert final >= initial["acc_audio_mlm"] + 0.2, (initial, [r["valid.acc_audio_mlm"] for r in records])
    assert "valid.acc_text_mlm" in records[-1]
    assert (pretrain_exp / "model.avg.pt").is_file()


def _extra_set(tmp_path):
    """A second training set (another seed of the structured corpus) with one utterance unaligned."""
    fx.make_split(tmp_path, "extra", 4, seed=5)
    ctm = tmp_path / "exp/align/extra/word.ctm"
    lines = ctm.read_text().splitlines(keepends=True)
    dropped = lines[0].split()[0]
    ctm.write_text("".join(x for x in lines if x.split()[0] != dropped))
    return ["--extra_train_data", str(tmp_path / "data/extra"), "--extra_train_dump", str(tmp_path / "dump/extra"),
            "--extra_train_ctm", str(ctm)], dropped


def test_extra_training_sets_are_read_like_the_training_set(sqa_corpus, tmp_path):
    from speechbert.errors import ConfigError

    extra, dropped = _extra_set(tmp_path)
    base = fx.corpus_args(sqa_corpus) + ["--output_dir", str(tmp_path / "x"), "--window_words", "2",
                                         "--window_stride", "2", "--pretrain_inputs", "audio"]
    only = PretrainTask.build_dataset(PretrainTask.get_parser().parse_args(base), "train")
    both = PretrainTask.build_dataset(PretrainTask.get_parser().parse_args(base + extra), "train")
    args = PretrainTask.get_parser().parse_args(base + extra)
    extra_ds = PretrainDataset(load_corpus(argparse.Namespace(**{**vars(args), "train_data": args.extra_train_data[0],
                                                                  "train_dump": args.extra_train_dump[0],
                                                                  "train_ctm": args.extra_train_ctm[0]}), "train"),
                               load_vocab(args.bert_dir), ["audio"], args.max_seq_len, 2, 2)
    assert len(both) == len(only) + len(extra_ds) and both.lengths == only.lengths + extra_ds.lengths
    # only the windows with words of the unaligned utterance are left out, not its whole passage
    cid = next(c for c, utts in ((c, p.utts) for c, p in extra_ds.corpus.passages.items()) if dropped in utts)
    kept = {s for c, s, e, k in extra_ds.items if c == cid}
    n_utt_words = len(extra_ds.corpus.passages[cid].words) - sum(
        1 for w, k in zip(extra_ds.corpus.passages[cid].words, extra_ds.corpus.passages[cid].word_utt) if k > 0)
    assert kept and min(kept) >= n_utt_words  # the unaligned first sentence's windows are gone
    with pytest.raises(ConfigError, match="one entry per set; got 1, 1 and 0"):
        PretrainTask.build_dataset(PretrainTask.get_parser().parse_args(base + extra[:4]), "train")
