"""Passages → audio word segments: the right frames, passage times, unaligned utterances."""

from pathlib import Path

import kaldiio
import numpy as np
import pytest

import sqa_fixture as fx
from speechbert.errors import DataError
from speechbert.tasks.word_segments import (SpokenCorpus, pool_frames, read_passages, subsample_frames,
                                            time_to_frame, word_frame_range)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("seg")
    fx.make_split(root, "train", 4, seed=7)
    return root


def _load(root: Path, ctm: Path | None = None, **kw) -> SpokenCorpus:
    return SpokenCorpus.load(root / "data/train", root / "dump/train",
                             ctm or root / "exp/align/train/word.ctm", root / "dump/train/cmvn.ark", **kw)


def test_frame_mapping_rules():
    assert time_to_frame(0.124, 0.01) == 12 and time_to_frame(0.126, 0.01) == 13
    assert word_frame_range(0.10, 0.25, 0.01, 100) == (10, 25)
    assert word_frame_range(0.10, 0.101, 0.01, 100) == (10, 11)  # at least one frame
    assert word_frame_range(0.95, 1.20, 0.01, 100) == (95, 100)  # clipped to the utterance
    assert word_frame_range(1.50, 1.60, 0.01, 100) == (99, 100)
    m = np.arange(10, dtype=np.float32)[:, None]
    assert subsample_frames(m, 4)[:, 0].tolist() == [0, 3, 6, 9]
    assert subsample_frames(m, 0) is m
    assert pool_frames(m, 3)[:, 0].tolist() == [1.0, 4.0, 7.0, 9.0]  # last group is the 10th frame alone
    assert pool_frames(m, 1) is m


def test_pooled_word_frames(small):
    plain = _load(small)
    pooled = SpokenCorpus.load(small / "data/train", small / "dump/train", small / "exp/align/train/word.ctm",
                               small / "dump/train/cmvn.ark", frame_pooling=2, max_word_frames=3)
    cid = next(iter(plain.segments))
    for a, b in zip(plain.word_feats(cid), pooled.word_feats(cid)):
        expect = subsample_frames(pool_frames(a, 2), 3)
        np.testing.assert_allclose(b, expect, rtol=1e-5, atol=1e-5)
        assert len(b) <= 3


def test_word_feats_match_manual_kaldiio_slicing(small):
    corpus = _load(small)
    stats = kaldiio.load_mat(str(small / "dump/train/cmvn.ark"))
    mean = stats[0, :-1] / stats[0, -1]
    std = np.sqrt(stats[1, :-1] / stats[0, -1] - mean ** 2)
    scp = dict(line.split() for line in (small / "dump/train/feats.scp").read_text().splitlines())
    ctm = [line.split() for line in (small / "exp/align/train/word.ctm").read_text().splitlines()]
    checked = 0
    for cid, seg in corpus.segments.items():
        p = seg.passage
        feats = corpus.word_feats(cid)
        assert len(feats) == len(p.words) == seg.num_words
        for w, mat in enumerate(feats):
            utt = p.utts[p.word_utt[w]]
            k = sum(1 for u in p.word_utt[:w] if p.utts[u] == utt)
            line = [x for x in ctm if x[0] == utt][k]
            assert line[4] == p.words[w]
            start, dur = float(line[2]), float(line[3])
            raw = kaldiio.load_mat(scp[utt])
            b, e = int(round(start / 0.01)), int(round((start + dur) / 0.01))
            expect = (raw[b:e] - mean) / std
            np.testing.assert_allclose(mat, expect, rtol=1e-4, atol=1e-4)
            checked += 1
    assert checked > 20


def test_passage_times_add_utterance_offsets(small):
    corpus = _load(small)
    utt2dur = {k: float(v) for k, v in (line.split() for line in (small / "data/train/utt2dur").read_text().splitlines())}
    for seg in corpus.segments.values():
        p = seg.passage
        assert seg.aligned.all() and seg.complete
        # the first word of the second sentence starts after the whole first sentence
        w = p.word_utt.index(1)
        assert seg.times[w, 0] >= utt2dur[p.utts[0]]
        assert np.all(np.diff(seg.times[:, 0]) > 0)


def test_questions_answer_time_matches_segment_time(small):
    import json

    corpus = _load(small)
    for line in (small / "data/train/questions.jsonl").read_text().splitlines():
        q = json.loads(line)
        seg = corpus.segments[q["context_id"]]
        w0, w1 = q["answer_word_spans"][0]
        assert seg.times[w0, 0] == pytest.approx(q["answer_time_spans"][0][0], abs=2e-3)
        assert seg.times[w1, 1] == pytest.approx(q["answer_time_spans"][0][1], abs=2e-3)


def test_unaligned_utterance_policies(small, tmp_path):
    passages = read_passages(small / "data/train")
    cid = sorted(passages)[0]
    drop_utt = passages[cid].utts[0]
    ctm = tmp_path / "word.ctm"
    ctm.write_text("".join(line + "\n" for line in (small / "exp/align/train/word.ctm").read_text().splitlines()
                           if not line.startswith(drop_utt + " ")))
    dropped = _load(small, ctm, unaligned="drop")
    seg = dropped.segments[cid]
    n0 = passages[cid].word_utt.count(0)
    assert not seg.aligned[:n0].any() and seg.aligned[n0:].all() and not seg.complete
    with pytest.raises(DataError, match="not aligned"):
        dropped.word_feats(cid, [0])
    assert len(dropped.word_feats(cid, [n0])) == 1
    uniform = _load(small, ctm, unaligned="uniform")
    seg = uniform.segments[cid]
    assert seg.complete and not seg.aligned[:n0].any()
    nf = int(dict(line.split() for line in (small / "dump/train/utt2num_frames").read_text().splitlines())[drop_utt])
    frames = seg.frames[:n0]
    assert frames[0, 0] == 0 and frames[-1, 1] == nf and np.all(frames[1:, 0] == frames[:-1, 1])


def test_ctm_word_mismatch_names_the_file(small, tmp_path):
    lines = (small / "exp/align/train/word.ctm").read_text().splitlines()
    parts = lines[0].split()
    parts[4] = "zebra"
    ctm = tmp_path / "bad.ctm"
    ctm.write_text("\n".join([" ".join(parts)] + lines[1:]) + "\n")
    with pytest.raises(DataError, match="bad.ctm:1.*do not match"):
        _load(small, ctm)


def test_text_only_corpus_has_words_and_times(small):
    corpus = SpokenCorpus.load(small / "data/train", None, small / "exp/align/train/word.ctm", None)
    seg = next(iter(corpus.segments.values()))
    assert seg.aligned.all() and seg.times[0, 1] > seg.times[0, 0]
    with pytest.raises(Exception, match="without features"):
        corpus.word_feats(seg.context_id)
