"""The input record of an experiment and the one builder of model inputs (doc/inputs.md)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

import sqa_fixture as fx
from speechbert.errors import ConfigError, DataError
from speechbert.tasks.input_pipeline import (INPUTS_FILE, InputPipeline, InputSettings, file_sha256,
                                             read_input_settings, settings_from_args, write_input_settings)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    fx.make_split(root, "train", 4, seed=1)
    fx.make_split(root, "dev", 2, seed=2)
    (root / "dump/train/conf").mkdir()
    (root / "dump/train/conf/fbank.yaml").write_text(f"feats_type: fbank\nnum_mel_bins: {fx.DIM}\n")
    return root


def _args(root: Path, **kw) -> argparse.Namespace:
    base = dict(bert_dir=fx.bert_dir(), train_dump=str(root / "dump/train"), cmvn=str(root / "dump/train/cmvn.ark"),
                feat_dim=None, frame_pooling=3, max_word_frames=5, max_seq_len=64, max_question_len=16,
                window_units=0, window_stride=16, negative_windows="cls")
    base.update(kw)
    return argparse.Namespace(**base)


def test_the_record_holds_the_training_inputs_and_round_trips(small, tmp_path):
    s = settings_from_args(_args(small), "audio", windows=True)
    assert (s.feats_type, s.feat_dim, s.frame_shift) == (f"fbank {fx.DIM}", fx.DIM, 0.01)
    assert s.feats_config == {"feats_type": "fbank", "num_mel_bins": fx.DIM}
    assert s.cmvn_sha256 == file_sha256(small / "dump/train/cmvn.ark")
    assert (s.frame_pooling, s.max_word_frames, s.window_stride) == (3, 5, 16)
    assert s.vocab.endswith("vocab.txt") and len(s.vocab_sha256) == 64
    write_input_settings(tmp_path, s)
    assert read_input_settings(tmp_path) == s
    # text models record no features
    t = settings_from_args(_args(small), "text", windows=True)
    assert t.feats_type is None and t.cmvn is None and t.frame_pooling == 1


def test_a_bad_or_missing_record_is_a_named_error(tmp_path):
    with pytest.raises(DataError, match=f"{INPUTS_FILE}.*no input record"):
        read_input_settings(tmp_path)
    (tmp_path / INPUTS_FILE).write_text(yaml.safe_dump({"modality": "audio", "colour": "red"}))
    with pytest.raises(DataError, match=r"unknown input settings \['colour'\]"):
        read_input_settings(tmp_path)
    (tmp_path / INPUTS_FILE).write_text(yaml.safe_dump({"modality": "audio", "version": 99}))
    with pytest.raises(DataError, match="version 99"):
        read_input_settings(tmp_path)


def test_the_corpus_is_cut_with_the_recorded_segment_settings(small):
    pipeline = InputPipeline(settings_from_args(_args(small), "audio", windows=True))
    corpus = pipeline.corpus(small / "data/dev", small / "dump/dev", small / "exp/align/dev/word.ctm", train=False)
    assert (corpus.frame_pooling, corpus.max_word_frames) == (3, 5)
    cid = next(iter(corpus.passages))
    seg = corpus.segments[cid]
    mats = corpus.word_feats(cid)
    for (b, e), m in zip(seg.frames, mats):
        assert len(m) == min(-(-(e - b) // 3), 5)  # pooled by 3, at most 5 frames


def test_contradicting_inputs_name_both_values(small, tmp_path):
    pipeline = InputPipeline(settings_from_args(_args(small), "audio", windows=True), source="exp/x/inputs.yaml")
    with pytest.raises(ConfigError, match="--window_units 7 contradicts the experiment's window_units 0"):
        pipeline.check_window_options(window_units=7)
    pipeline.check_window_options(window_units=0, window_stride=16)  # the same values are fine
    dump = tmp_path / "dump"
    shutil.copytree(small / "dump/dev", dump)
    (dump / "frame_shift").write_text("0.02\n")
    with pytest.raises(ConfigError, match=r"frame shift \(s\) 0.02, but the model was trained on 0.01"):
        pipeline.check_dump(dump)
    copy = tmp_path / "cmvn_copy.ark"
    shutil.copyfile(small / "dump/train/cmvn.ark", copy)
    assert pipeline.cmvn_path(copy) == copy  # same bytes: fine
    other = tmp_path / "other.ark"
    from speechbert.audio.cmvn import compute_stats, write_stats

    write_stats(other, compute_stats([("x", np.ones((3, fx.DIM), np.float32))]))
    with pytest.raises(ConfigError, match=r"other.ark is not the CMVN the model was trained with"):
        pipeline.cmvn_path(other)


def test_cmvn_of_other_features_is_an_error_naming_both(small, tmp_path):
    from speechbert.audio.cmvn import compute_stats, write_stats

    stats = tmp_path / "cmvn80.ark"
    write_stats(stats, compute_stats([("x", np.ones((3, 80), np.float32))]))
    with pytest.raises(ConfigError, match=rf"cmvn80.ark holds 80-dim stats but .*dump/train has 'fbank {fx.DIM}' "
                                          r"features \(made with fbank.yaml\)"):
        settings_from_args(_args(small, cmvn=str(stats)), "audio")


def test_a_changed_vocabulary_is_refused(small, tmp_path):
    s = settings_from_args(_args(small), "text", windows=True)
    vocab = tmp_path / "vocab.txt"
    shutil.copyfile(s.vocab, vocab)
    pipeline = InputPipeline(InputSettings(**{**s.as_dict(), "vocab": str(vocab)}))
    assert pipeline.vocab_path() == vocab
    vocab.write_text(vocab.read_text() + "extra\n")
    with pytest.raises(ConfigError, match="differs from the vocabulary the model was trained with"):
        pipeline.vocab_path()
