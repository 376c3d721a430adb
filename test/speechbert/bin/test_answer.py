"""answer CLI end to end on a synthesized stereo 22.05 kHz recording with a tiny model, and its
errors for bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "decode"))
import answer_fixture as af  # noqa: E402

from speechbert.audio.features import FeatureConfig, FeatureExtractor  # noqa: E402
from speechbert.bin.answer import main  # noqa: E402


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Path]:
    """A one-step end-to-end model (20-dim features), an energy aligner and a recording."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("answer")
    af.make_corpus(root, n_train=4, n_test=1)
    exp = af.train_qa_exp(root, root / "exp" / "finetune", "audio")
    audio, _ = af.synthesize(["john likes red", "the cat sat near the river"])
    wav = root / "passage.wav"
    import torchaudio

    stereo = torch.from_numpy(np.stack([audio, 0.5 * audio]))
    soundfile.write(wav, torchaudio.functional.resample(stereo, 16000, 22050).numpy().T, 22050)
    feats = FeatureExtractor(FeatureConfig(num_mel_bins=af.DIM))(audio)
    aligner = af.make_energy_aligner(root / "exp" / "align", af.DIM, af.write_cmvn(root / "rec_cmvn.ark", feats))
    conf = root / "fbank20.yaml"
    conf.write_text(f"feats_type: fbank\nnum_mel_bins: {af.DIM}\nframe_shift: 10\n")
    return {"exp": exp, "aligner": aligner, "wav": wav, "conf": conf}


def base(s: dict[str, Path], **kw: str) -> list[str]:
    args = {"model_dir": str(s["exp"]), "aligner_dir": str(s["aligner"]), "audio": str(s["wav"]),
            "question": "What does John like?", **kw}
    return [x for k, v in args.items() for x in (f"--{k}", v)]


def test_answer_json_span_and_clip(setup, tmp_path, capsys):
    clip = tmp_path / "answer.wav"
    assert main(base(setup, feats_config=str(setup["conf"]), clip_out=str(clip)) + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    duration = soundfile.info(setup["wav"]).duration
    assert out["duration"] == pytest.approx(duration, abs=1e-3) and out["sample_rate"] == 22050
    assert 0.0 <= out["start"] < out["end"] <= duration + 1e-3
    assert out["recognized_words"] >= 2 and out["transcript"].split()[0] == "a"
    i, j = out["word_span"]
    assert out["words"] == " ".join(out["transcript"].split()[i:j + 1])
    assert out["nbest"][0]["start"] == out["start"] and math_isfinite(out["score"])
    assert out["notes"] == ["mixed 2 channels down to mono", "resampled 22050 Hz to 16000 Hz"]
    assert out["normalized_question"] == "what does john like"
    info = soundfile.info(clip)
    assert info.samplerate == 22050 and info.channels == 1
    assert info.frames / 22050 == pytest.approx(out["end"] - out["start"], abs=1.5 / 22050)
    assert out["clip_duration"] == pytest.approx(out["end"] - out["start"], abs=1e-3)


def math_isfinite(x: float) -> bool:
    return isinstance(x, float) and np.isfinite(x)


def test_readable_output_and_feature_config_from_the_training_dump(setup, capsys):
    # no --feats_config: the training dump's feats_type ("fbank 20") gives the features
    assert main(base(setup)) == 0
    text = capsys.readouterr().out
    assert text.startswith("answer: ") and "recognised" in text


def test_bad_input_is_one_clear_line(setup, tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    assert main(base(setup, audio=str(bad))) == 1
    assert "cannot read audio" in capsys.readouterr().err
    assert main(base(setup, audio=str(tmp_path / "none.wav"))) == 1
    assert "no such audio file" in capsys.readouterr().err
    assert main(base(setup, question=" ?! ")) == 1
    assert "is empty" in capsys.readouterr().err
    assert main(base(setup, model_dir=str(tmp_path / "nomodel"))) == 1
    assert "no such model directory" in capsys.readouterr().err
    assert main(base(setup, aligner_dir=str(tmp_path))) == 1
    assert "not an aligner model directory" in capsys.readouterr().err
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(16000, np.float32), 16000)
    assert main(base(setup, audio=str(silent))) == 1
    assert "no word was recognised" in capsys.readouterr().err


def test_clip_out_into_a_missing_directory_is_an_error_that_creates_nothing(setup, tmp_path, capsys):
    clip = tmp_path / "no" / "such" / "dir" / "clip.wav"
    assert main(base(setup, feats_config=str(setup["conf"]), clip_out=str(clip))) == 1
    assert f"the directory {clip.parent} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


def test_a_question_longer_than_the_model_reads_is_noted(setup, capsys):
    long_question = "what does john like " * 250  # 1,000 words
    assert main(base(setup, feats_config=str(setup["conf"]), question=long_question) + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert any("the question has 1000 WordPieces; the model reads the first" in n for n in out["notes"])


def test_a_truncated_recording_is_an_error(setup, tmp_path, capsys):
    cut = tmp_path / "cut.wav"
    soundfile.write(cut, np.zeros(16000, np.float32), 16000, subtype="PCM_16")
    cut.write_bytes(cut.read_bytes()[:10000])
    assert main(base(setup, audio=str(cut))) == 1
    assert "truncated audio: its header declares 32000 bytes" in capsys.readouterr().err


def test_help_and_doc_name_the_aligner_experiment_not_the_alignments():
    """The aligner model is exp/ctc_aligner; exp/align holds the word CTMs it produced."""
    from speechbert.bin.answer import get_parser

    assert "exp/ctc_aligner" in " ".join(get_parser().format_help().split())
    doc = (Path(__file__).resolve().parents[3] / "doc" / "answering.md").read_text(encoding="utf-8")
    for line in doc.splitlines():
        for opt in ("--aligner_dir ", "--model_dir exp/align"):
            if opt in line:
                after = line.split(opt.split()[0], 1)[1].split()[0]
                assert after != "exp/align", line
    assert "--aligner_dir exp/ctc_aligner" in doc


# ------------------------------------------------------------------------------ packed models


def answer_json(capsys, *args: str) -> dict:
    assert main([*args, "--json", "--verbose", "0"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_packed_model_answers_a_new_recording_as_before_packing(setup, tmp_path, monkeypatch, capsys):
    """Issue 14's "done when": pack, copy the archive to a fresh directory without exp/, answer a
    new recording: the same span and score as from the experiment directory."""
    import shutil

    from speechbert.bin import pack_model

    packed = tmp_path / "model.zip"
    assert pack_model.main(["--exp_dir", str(setup["exp"]), "--aligner_dir", str(setup["aligner"]),
                            "--out", str(packed)]) == 0
    assert "packed " in capsys.readouterr().out
    audio, _ = af.synthesize(["mary likes green apples", "the dog ran to the park"], seed=11)
    wav = tmp_path / "new.wav"
    soundfile.write(wav, audio, 16000)
    before = answer_json(capsys, *base(setup, audio=str(wav), question="What does Mary like?"))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(packed, fresh / "model.zip")
    shutil.copy(wav, fresh / "new.wav")
    monkeypatch.chdir(fresh)
    exp_root = setup["exp"].parent  # hide the trained system: only the archive can answer
    shutil.move(exp_root, tmp_path / "exp_hidden")
    try:
        after = answer_json(capsys, "--model_pack", "model.zip", "--audio", "new.wav",
                            "--question", "What does Mary like?")
    finally:
        shutil.move(tmp_path / "exp_hidden", exp_root)
    assert before["recognized_words"] >= 4
    for key in ("start", "end", "score", "word_span", "words", "nbest", "transcript", "chunks"):
        assert after[key] == before[key], key
    assert sorted(p.name for p in fresh.iterdir()) == ["model.zip", "new.wav"]  # the unpacked copy is gone
    # --unpack_dir keeps the verified copy
    again = answer_json(capsys, "--model_pack", "model.zip", "--unpack_dir", "kept", "--audio", "new.wav",
                        "--question", "What does Mary like?")
    assert again["score"] == before["score"] and (fresh / "kept" / "run" / "inputs.yaml").is_file()


def test_model_pack_option_errors(setup, tmp_path, capsys):
    args = ["--audio", str(setup["wav"]), "--question", "what does john like"]
    assert main(["--model_pack", str(tmp_path / "none.zip"), *args]) == 1
    assert "--model_pack" in capsys.readouterr().err
    assert main(["--model_pack", str(tmp_path / "m.zip"), "--model_dir", str(setup["exp"]), *args]) == 1
    assert "not both" in capsys.readouterr().err
    assert main(args) == 1
    assert "--model_dir" in capsys.readouterr().err
    (tmp_path / "m.zip").write_bytes(b"x")
    assert main(["--model_pack", str(tmp_path / "m.zip"), "--model_file", "snapshot.ep.1", *args]) == 1
    assert "--model_file" in capsys.readouterr().err
    assert main(["--model_pack", str(tmp_path / "m.zip"), *args]) == 1
    assert "not a zip archive" in capsys.readouterr().err
    assert main(base(setup, unpack_dir=str(tmp_path / "u"))) == 1
    assert "--unpack_dir goes with --model_pack" in capsys.readouterr().err
