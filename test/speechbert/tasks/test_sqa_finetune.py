"""Stage 7: SQA fine-tuning over audio words, and the text QA model of the cascade."""

import json

import numpy as np
import pytest
import torch

import sqa_fixture as fx
from speechbert.io.sqa_data import read_questions
from speechbert.nets import AudioWordEncoder, AudioWordEncoderConfig, BertConfig, BertEncoder, SpanHead
from speechbert.tasks.common import load_vocab
from speechbert.nets.mixed_encoder import MixedEncoder
from speechbert.nets.span_qa_model import SpanQAModel
from speechbert.tasks.sqa_dataset import SQADataset, make_sqa_collate
from speechbert.tasks.sqa_finetune import SQATask, predict_from_exp
from speechbert.tasks.word_segments import SpokenCorpus

FT_ARGS = ["--max_seq_len", "20", "--max_question_len", "8", "--window_stride", "5", "--max_epoch", "3",
           "--lr", "3e-4", "--best_criterion", "valid.f1:max"]


def _datasets(root, modality, train, negative="cls"):
    corpus = (SpokenCorpus.load(root / "data/train", root / "dump/train", root / "exp/align/train/word.ctm",
                                root / "dump/train/cmvn.ark") if modality == "audio"
              else SpokenCorpus.load(root / "data/train", None, None, None))
    questions = read_questions(root / "data/train/questions.jsonl")
    ds = SQADataset(corpus, questions, load_vocab(fx.bert_dir()), modality=modality, max_seq_len=20,
                    max_question_len=8, window_units=0, window_stride=5, train=train, negative_windows=negative)
    return corpus, questions, ds


@pytest.mark.parametrize("modality", ["audio", "text"])
def test_windows_cover_every_word_and_targets_point_at_the_answer(sqa_corpus, modality):
    corpus, questions, ds = _datasets(sqa_corpus, modality, train=True)
    vocab = ds.vocab
    seen_words = {q["id"]: set() for q in questions}
    n_pos = n_cls = 0
    for i in range(len(ds)):
        item = ds[i]
        ex = ds.examples[i]
        q = ds.questions[ex.question]
        units = ds.units[q["context_id"]]
        off, n = item["passage_offset"], item["n_units"]
        assert len(item["input_ids"]) == ds.lengths[i] == off + n + 1 <= 20
        assert item["input_ids"][off - 1] == vocab.sep_id and item["input_ids"][-1] == vocab.sep_id
        assert item["token_type_ids"] == [0] * off + [1] * (n + 1)
        seen_words[q["id"]].update(units.unit_words[ex.start:ex.end].tolist())
        a0, a1 = q["answer_word_spans"][0]
        if (item["start"], item["end"]) == (0, 0):
            n_cls += 1
            first_unit = int(np.searchsorted(units.unit_words, a0))
            last_unit = int(np.searchsorted(units.unit_words, a1, side="right")) - 1
            assert not (ex.start <= first_unit and last_unit < ex.end)
        else:
            n_pos += 1
            u0, u1 = ex.start + item["start"] - off, ex.start + item["end"] - off
            assert units.unit_words[u0] == a0 and units.unit_words[u1] == a1
            assert u0 == 0 or units.unit_words[u0 - 1] != a0  # first piece of the first word
            assert u1 == len(units.unit_words) - 1 or units.unit_words[u1 + 1] != a1  # last piece
            if modality == "audio":
                # the audio word at the start target is the answer word itself
                words = corpus.passages[q["context_id"]].words
                assert vocab.word_ids(words[a0])[0] == item["input_ids"][item["start"]]
        if modality == "audio":
            assert item["audio_positions"] == list(range(off, off + n)) and len(item["audio_feats"]) == n
        else:
            assert item["audio_positions"] == []
    positives = [0] * len(ds.questions)
    windows = [0] * len(ds.questions)
    for ex in ds.examples:
        windows[ex.question] += 1
        positives[ex.question] += ex.target != (0, 0)
    assert len(ds.questions) == len(questions) and min(positives) >= 1 and n_pos == sum(positives)
    assert n_cls > 0 and max(windows) > 1
    for q in questions:
        n_words = len(corpus.passages[q["context_id"]].words)
        assert seen_words[q["id"]] == set(range(n_words))


def test_drop_mode_keeps_only_windows_with_the_answer(sqa_corpus):
    _, questions, ds = _datasets(sqa_corpus, "audio", train=True, negative="drop")
    assert len(ds) >= len(questions)
    assert all(ex.target != (0, 0) for ex in ds.examples)


def test_collate_span_mask(sqa_corpus):
    _, _, ds = _datasets(sqa_corpus, "audio", train=True)
    items = [ds[0], ds[1]]
    b = make_sqa_collate(0, allow_cls=True)(items)
    for row, it in enumerate(items):
        mask = b["span_mask"][row].tolist()
        expect = [False] * len(mask)
        expect[0] = True
        for p in range(it["passage_offset"], it["passage_offset"] + it["n_units"]):
            expect[p] = True
        assert mask == expect
    assert b["start_positions"].tolist() == [items[0]["start"], items[1]["start"]]
    assert not make_sqa_collate(0, allow_cls=False)(items)["span_mask"][:, 0].any()


def test_forward_backward_tiny_model():
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=32)
    awe = AudioWordEncoder(AudioWordEncoderConfig(input_dim=3, output_size=16, hidden_size=8, decoder_hidden_size=8))
    model = SpanQAModel(MixedEncoder(BertEncoder(cfg), awe), SpanHead(16))
    rng = np.random.default_rng(0)
    items = [{"id": "q1:0", "input_ids": [1, 7, 8, 2, 20, 21, 22, 2], "token_type_ids": [0] * 4 + [1] * 4,
              "passage_offset": 4, "n_units": 3, "audio_positions": [4, 5, 6],
              "audio_feats": [rng.normal(size=(n, 3)).astype(np.float32) for n in (3, 4, 2)], "start": 5, "end": 6},
             {"id": "q2:0", "input_ids": [1, 9, 2, 30, 2], "token_type_ids": [0, 0, 0, 1, 1],
              "passage_offset": 3, "n_units": 1, "audio_positions": [3],
              "audio_feats": [rng.normal(size=(5, 3)).astype(np.float32)], "start": 0, "end": 0}]
    batch = make_sqa_collate(0, allow_cls=True)(items)
    batch.pop("ids")
    loss, stats, n = model(**batch)
    assert n == 2 and torch.isfinite(loss) and set(stats) == {"acc_span"}
    loss.backward()
    assert model.encoder.audio_encoder.proj.weight.grad is not None
    assert model.span_head.proj.weight.grad is not None
    start, end = model.logits(**{k: v for k, v in batch.items() if not k.endswith("_positions")})
    # question and separator positions are masked; [CLS] (no-answer target) and the passage are not
    assert start[0, 1:4].max() < -1e30 and start[0, 7].item() < -1e30
    assert start[0, 0] > -1e30 and start[0, 4:7].min() > -1e30


def _initial_f1(args):
    from speechbert.command_line import seed_everything
    from speechbert.train.model_io import init_parameters

    seed_everything(args.seed)
    model = SQATask.build_model(args)
    init_parameters(model, args.init_param)
    model.eval()
    with torch.no_grad():
        return SQATask.validate(model, args, torch.device("cpu"))["f1"]


@pytest.mark.slow
def test_end_to_end_audio_finetuning_improves_f1(sqa_corpus, pretrain_exp, tmp_path):
    """Stage 7 from the pre-trained model: word F1 far above the untrained span head's."""
    out = tmp_path / "finetune"
    argv = fx.corpus_args(sqa_corpus) + fx.RUN_ARGS + FT_ARGS + [
        "--output_dir", str(out), "--init_model", str(pretrain_exp / "model.avg.pt"),
        "--freeze_param", "encoder.bert.embeddings.word_embeddings"]
    assert SQATask.main(argv) == 0
    args = SQATask.get_parser().parse_args(argv)
    initial = _initial_f1(args)
    # inherited through pretrain -> joint_embed
    assert args.bert_layers == 2 and args.awe == "rnn" and args.awe_conf["hidden_size"] == 64
    records = fx.read_metrics(out)
    final = max(r["valid.f1"] for r in records)
    assert final >= initial + 30.0, (initial, [r["valid.f1"] for r in records])

    # the decoding library: n-best spans with passage times for every dev question
    preds = predict_from_exp(out, sqa_corpus / "data/dev", dump_dir=sqa_corpus / "dump/dev",
                             ctm=sqa_corpus / "exp/align/dev/word.ctm", n_best=3)
    questions = {q["id"]: q for q in read_questions(sqa_corpus / "data/dev/questions.jsonl")}
    assert [p["id"] for p in preds] == list(questions)
    right = 0
    for p in preds:
        q = questions[p["id"]]
        assert p["context_id"] == q["context_id"] and 1 <= len(p["nbest"]) <= 3
        assert p["nbest"][0]["word_span"] == p["word_span"] and p["score"] == p["nbest"][0]["score"]
        assert all(a["score"] >= b["score"] for a, b in zip(p["nbest"], p["nbest"][1:]))
        assert p["start"] < p["end"]
        if p["word_span"] == q["answer_word_spans"][0]:
            right += 1
            assert p["words"] == q["answers"][0]["text"]
            assert p["start"] == pytest.approx(q["answer_time_spans"][0][0], abs=2e-3)
            assert p["end"] == pytest.approx(q["answer_time_spans"][0][1], abs=2e-3)
    assert right / len(preds) * 100 == pytest.approx(max(r["valid.em"] for r in records), abs=15)
    json.dumps(preds)  # JSON-serialisable as it is


@pytest.mark.slow
def test_end_to_end_text_qa_improves_f1(sqa_corpus, tmp_path):
    """The cascade's text QA model: trained from the text BERT on reference passage pieces."""
    out = tmp_path / "finetune_text"
    argv = fx.corpus_args(sqa_corpus) + fx.RUN_ARGS + FT_ARGS + [
        "--output_dir", str(out), "--input_modality", "text", "--bert_layers", "2"]
    assert SQATask.main(argv) == 0
    initial = _initial_f1(SQATask.get_parser().parse_args(argv))
    records = fx.read_metrics(out)
    assert max(r["valid.f1"] for r in records) >= initial + 30.0
    # decoding text passages needs no features; times come from a CTM of the same words
    preds = predict_from_exp(out, sqa_corpus / "data/dev", ctm=sqa_corpus / "exp/align/dev/word.ctm")
    assert all(p["start"] is not None for p in preds)
    no_times = predict_from_exp(out, sqa_corpus / "data/dev")
    assert [p["word_span"] for p in no_times] == [p["word_span"] for p in preds]
    assert all(p["start"] is None for p in no_times)
