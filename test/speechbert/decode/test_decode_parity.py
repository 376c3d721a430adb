"""Decode = validation (doc/inputs.md): the decode tools reproduce the trainer's metrics of the
averaged model, and the ``answer`` CLI with oracle segmentation gives ``sqa_decode``'s span.

The models use ``--frame_pooling 2`` and ``--max_word_frames 6``: the first version decoded with
neither and lost 9 FF1 points on the mini recipe without any test noticing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
import answer_fixture as af  # noqa: E402
from answer_fixture import fx  # noqa: E402

from speechbert.bin import answer, cascade_decode, score_sqa, sqa_decode  # noqa: E402
from speechbert.errors import ConfigError  # noqa: E402
from speechbert.tasks.sqa_finetune import SQATask  # noqa: E402

SEGMENT_ARGS = ["--frame_pooling", "2", "--max_word_frames", "6"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return fx.make_corpus(tmp_path_factory.mktemp("parity"), n_train=12, n_valid=8)


def _train(corpus: Path, out: Path, *extra: str) -> Path:
    argv = fx.corpus_args(corpus) + fx.RUN_ARGS + [
        "--output_dir", str(out), "--bert_layers", "1", "--max_epoch", "2", "--lr", "3e-4",
        "--max_seq_len", "24", "--max_question_len", "8", "--window_stride", "5", "--nbest_average", "2",
        "--best_criterion", "valid.f1:max", *extra]
    assert SQATask.main(argv) == 0
    return out


@pytest.fixture(scope="module")
def audio_exp(corpus: Path) -> Path:
    return _train(corpus, corpus / "exp" / "finetune", *fx.AWE_ARGS, *SEGMENT_ARGS)


def _score(data: Path, predictions: Path, out_dir: Path) -> dict:
    assert score_sqa.main(["--data", str(data), "--predictions", str(predictions), "--out_dir", str(out_dir),
                           "--system_name", "x"]) == 0
    return json.loads((out_dir / "result.json").read_text())["overall"]


def test_decoding_the_dev_set_reproduces_the_validation_metrics(corpus, audio_exp, tmp_path):
    inputs = (audio_exp / "inputs.yaml").read_text()
    assert "frame_pooling: 2" in inputs and "max_word_frames: 6" in inputs and "cmvn_sha256:" in inputs
    valid = json.loads((audio_exp / "model.avg.metrics.json").read_text())
    pred = tmp_path / "predictions.jsonl"
    assert sqa_decode.main(["--model_dir", str(audio_exp), "--data", str(corpus / "data/dev"),
                            "--dump", str(corpus / "dump/dev"), "--ctm", str(corpus / "exp/align/dev/word.ctm"),
                            "--out", str(pred)]) == 0
    overall = _score(corpus / "data/dev", pred, tmp_path / "score")
    for k in ("f1", "em", "ff1", "aos"):
        assert overall[k] == pytest.approx(valid[f"valid.{k}"], abs=0.01), k


def test_decoding_with_other_segment_settings_changes_the_scores(corpus, audio_exp):
    """The parity above is not vacuous: the first version's inputs (no pooling) score otherwise."""
    from speechbert.tasks.input_pipeline import InputPipeline
    from speechbert.tasks.sqa_finetune import load_span_model, predict_spans

    model, _ = load_span_model(audio_exp)
    good = InputPipeline.from_exp(audio_exp)
    bad = InputPipeline(good.settings.__class__(**{**good.settings.as_dict(), "frame_pooling": 1,
                                                   "max_word_frames": 0}), good.root)
    questions = [json.loads(x) for x in (corpus / "data/dev/questions.jsonl").read_text().splitlines()]
    scores = []
    for p in (good, bad):
        corpus_ = p.corpus(corpus / "data/dev", corpus / "dump/dev", corpus / "exp/align/dev/word.ctm", train=False)
        spans = predict_spans(model, p.sqa_dataset(corpus_, questions, train=False), n_best=1, max_answer_len=5)
        scores.append([spans[q["id"]][0].score for q in questions])
    assert not np.allclose(scores[0], scores[1], atol=1e-4)


def test_text_qa_decoding_reproduces_its_validation_metrics(corpus, tmp_path):
    exp = _train(corpus, tmp_path / "finetune_text", "--input_modality", "text")
    valid = json.loads((exp / "model.avg.metrics.json").read_text())
    pred = tmp_path / "predictions.jsonl"
    assert cascade_decode.main(["--model_dir", str(exp), "--data", str(corpus / "data/dev"), "--reference_text",
                                "--ctm", str(corpus / "exp/align/dev/word.ctm"), "--out", str(pred)]) == 0
    overall = _score(corpus / "data/dev", pred, tmp_path / "score")
    assert overall["f1"] == pytest.approx(valid["valid.f1"], abs=0.01)
    assert overall["em"] == pytest.approx(valid["valid.em"], abs=0.01)


def test_contradicting_decode_options_are_errors_naming_both_values(corpus, audio_exp, tmp_path):
    base = ["--model_dir", str(audio_exp), "--data", str(corpus / "data/dev"), "--dump", str(corpus / "dump/dev"),
            "--ctm", str(corpus / "exp/align/dev/word.ctm"), "--out", str(tmp_path / "p.jsonl")]
    other_cmvn = tmp_path / "cmvn.ark"
    af.write_cmvn(other_cmvn, np.ones((4, fx.DIM), np.float32))
    from speechbert.bin.sqa_decode import get_parser, run

    with pytest.raises(ConfigError, match=r"--cmvn .*cmvn.ark is not the CMVN the model was trained with"):
        run(get_parser().parse_args(base + ["--cmvn", str(other_cmvn)]))
    with pytest.raises(ConfigError, match="--window_stride 7 contradicts the experiment's window_stride 5"):
        run(get_parser().parse_args(base + ["--window_stride", "7"]))
    dump = tmp_path / "dump"
    dump.mkdir()
    for f in ("feats.scp", "utt2num_frames", "frame_shift"):
        (dump / f).write_bytes((corpus / "dump/dev" / f).read_bytes())
    (dump / "feats_type").write_text(f"mfcc {fx.DIM}\n")
    with pytest.raises(ConfigError, match=rf"feature type 'mfcc {fx.DIM}', but the model was trained on 'fbank "
                                          rf"{fx.DIM}'"):
        run(get_parser().parse_args(base[:4] + ["--dump", str(dump)] + base[6:]))
    assert not (tmp_path / "p.jsonl").exists()


def _spoken_test_set(root: Path) -> tuple[Path, Path, list[Path], Path]:
    """A one-passage test set spoken by eSpeak NG (two wavs), its stage-2 features made by
    ``compute_feats`` from the wav files, and its oracle word CTM. Returns (data, dump, wavs, ctm)."""
    from speechbert.bin import compute_feats

    data, dump = root / "data" / "test", root / "dump" / "test"
    data.mkdir(parents=True)
    dump.mkdir(parents=True)
    sentences = {"rec-000": "the old man read a book", "rec-001": "mary likes green"}
    wavs, ctm_lines, words = [], [], []
    for k, (utt, sentence) in enumerate(sentences.items()):
        audio, times = af.synthesize([sentence], gap=0.2, seed=k)
        wav = data / f"{utt}.wav"
        soundfile.write(wav, audio, 16000)
        wavs.append(wav)
        ctm_lines += [f"{utt} 1 {s:.3f} {e - s:.3f} {w}\n" for w, s, e in times]
        words += sentence.split()
    (data / "wav.scp").write_text("".join(f"{u} {data / u}.wav\n" for u in sentences))
    (data / "text").write_text("".join(f"{u} {s}\n" for u, s in sentences.items()))
    (data / "utt2dur").write_text("".join(f"{u} {soundfile.info(str(data / f'{u}.wav')).duration:.3f}\n"
                                          for u in sentences))
    (data / "contexts").write_text("c1 " + " ".join(sentences) + "\n")
    passage = " ".join(words)
    q = {"id": "q1", "context_id": "c1", "question": "what does mary like",
         "answers": [{"text": "green", "char_start": passage.index("green")}]}
    (data / "questions.jsonl").write_text(json.dumps(q) + "\n")
    ctm = root / "word.ctm"
    ctm.write_text("".join(ctm_lines))
    assert compute_feats.main(["--wav_scp", str(data / "wav.scp"), "--out_ark", str(dump / "feats.ark"),
                               "--out_scp", str(dump / "feats.scp"), "--out_utt2num_frames",
                               str(dump / "utt2num_frames"), "--num_mel_bins", str(fx.DIM)]) == 0
    (dump / "frame_shift").write_text("0.01\n")
    (dump / "feats_type").write_text(f"fbank {fx.DIM}\n")
    return data, dump, wavs, ctm


def test_answer_with_oracle_segmentation_gives_the_sqa_decode_span(audio_exp, tmp_path, capsys):
    data, dump, wavs, ctm = _spoken_test_set(tmp_path)
    pred = tmp_path / "predictions.jsonl"
    assert sqa_decode.main(["--model_dir", str(audio_exp), "--data", str(data), "--dump", str(dump),
                            "--ctm", str(ctm), "--out", str(pred)]) == 0
    decoded = json.loads(pred.read_text().splitlines()[0])
    conf = tmp_path / "fbank.yaml"
    conf.write_text(f"feats_type: fbank\nnum_mel_bins: {fx.DIM}\nframe_shift: 10\n")
    capsys.readouterr()
    assert answer.main(["--model_dir", str(audio_exp), "--audio", *map(str, wavs), "--ctm", str(ctm),
                        "--question", "What does Mary like?", "--feats_config", str(conf), "--json"]) == 0
    answered = json.loads(capsys.readouterr().out)
    assert answered["word_source"] == "ctm" and answered["transcript"] == "the old man read a book mary likes green"
    assert answered["word_span"] == decoded["word_span"]
    assert (answered["start"], answered["end"]) == (decoded["start"], decoded["end"])
    assert answered["score"] == pytest.approx(decoded["score"], abs=1e-4)
    assert [e["word_span"] for e in answered["nbest"]] == [e["word_span"] for e in decoded["nbest"]]
