"""Tests for speechbert.corpora.spoken_squad on a corpus made by synthesize_squad."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speechbert.corpora.spoken_squad import ImportOptions, find_sources, import_spoken_squad
from speechbert.errors import DataError
from speechbert.io.kaldi_table import read_table
from speechbert.io.sqa_data import char_span_to_word_span, load_sqa_set


def _import(corpus: Path, dev_size: int = 1, max_loss_ratio: float = 0.05, squad: bool = True) -> Path:
    data = corpus / "data"
    specs = find_sources(corpus / "release", corpus / "squad" if squad else None)
    import_spoken_squad(specs, data, ImportOptions(dev_size=dev_size, max_loss_ratio=max_loss_ratio))
    return data


def _make_asr(corpus: Path) -> None:
    """Turn the synthesized spoken JSON into a release-like one: ASR contexts, no marker."""
    path = corpus / "release" / "spoken_train-v1.1.json"
    doc = json.loads(path.read_text())
    del doc["speechbert"]
    par = doc["data"][0]["paragraphs"][0]
    ctx = par["context"]
    assert ctx.startswith("atop the main building's gold dome")
    # a substitution in sentence 0, a deletion in sentence 1, an insertion at the start of sentence 2
    ctx = ctx.replace("gold dome", "cold dome").replace("the grotto", "grotto")
    ctx = ctx.replace("france the virgin", "france uh the virgin")
    par["context"] = ctx
    path.write_text(json.dumps(doc))


def test_import_synthesized_corpus(release):
    _make_asr(release)
    noisy = json.loads((release / "release" / "spoken_test-v1.1.json").read_text())
    noisy["data"][0]["paragraphs"][0]["qas"] = noisy["data"][0]["paragraphs"][0]["qas"][:1]
    noisy["data"][0]["paragraphs"][0]["context"] = "the rind flows through sick countries"
    del noisy["speechbert"]
    (release / "release" / "spoken_test-v1.1_WER44.json").write_text(json.dumps(noisy))
    data = _import(release)
    assert sorted(p.name for p in data.iterdir()) == ["dev", "test", "test_wer44", "train"]

    train = load_sqa_set(data / "train")  # cross-checks every answer against its passage
    assert list(train.contexts) == ["train-0000-0000", "train-0000-0001"]
    assert train.contexts["train-0000-0000"] == [f"train-0000-0000-00{i}" for i in range(3)]
    q = {x["id"]: x for x in train.questions}
    assert q["a01"]["question"] == "to whom did the virgin mary appear in eighteen fifty eight"
    passage = train.passage_text("train-0000-0000")
    a = q["a01"]["answers"][0]
    assert a["text"] == "saint bernadette soubirous"
    first, last = char_span_to_word_span(passage, a["char_start"], len(a["text"]))
    assert passage.split()[first:last + 1] == ["saint", "bernadette", "soubirous"]
    assert [x["text"] for x in q["a02"]["answers"]] == ["a golden statue of the virgin mary", "statue"]
    assert q["a03"]["answers"] == [{"text": "twelve", "char_start": passage_index(train, "train-0000-0001", "twelve")}]

    # dev = the last train paragraph
    dev = load_sqa_set(data / "dev")
    assert list(dev.contexts) == ["train-0001-0000"]
    assert {x["id"] for x in dev.questions} == {"b01", "b02"}
    assert dev.questions[1]["answers"][0]["text"] == "february seven twenty sixteen"

    # durations are the wav durations; wav.scp points at the release's files
    wav = read_table(data / "train" / "wav.scp")["train-0000-0000-002"]
    assert wav.endswith("wav/train/0_0_2.wav")
    info = sf.info(wav)
    assert train.utt2dur["train-0000-0000-002"] == pytest.approx(info.frames / info.samplerate, abs=1e-4)
    assert info.samplerate == 16000

    # text.asr: the paragraph transcript cut at the reference sentence boundaries
    asr = read_table(data / "train" / "text.asr")
    assert asr["train-0000-0000-000"].split()[3:6] == ["building's", "cold", "dome"]
    assert asr["train-0000-0000-001"] == "it is a replica of grotto at lourdes france uh"
    assert asr["train-0000-0000-002"].startswith("the virgin mary")
    assert asr["train-0000-0001-000"] == train.text["train-0000-0001-000"]

    # oracle.ctm: one line per reference word, in order, inside the utterance
    ctm = (data / "train" / "oracle.ctm").read_text().splitlines()
    by_utt: dict[str, list[list[str]]] = {}
    for line in ctm:
        f = line.split()
        by_utt.setdefault(f[0], []).append(f)
    for utt, words in train.text.items():
        rows = by_utt[utt]
        assert [r[4] for r in rows] == words.split()
        starts = [float(r[2]) for r in rows]
        assert starts == sorted(starts)
        assert float(rows[-1][2]) + float(rows[-1][3]) <= train.utt2dur[utt] + 1e-3

    # the noisy variant: its own questions, reference answers, the clean test audio
    wer44 = load_sqa_set(data / "test_wer44")
    assert [x["id"] for x in wer44.questions] == ["c01"]
    assert wer44.questions[0]["answers"][0]["text"] == "one thousand two hundred thirty kilometres"
    # every ASR word went to sentence 0; sentence 1 got none and has no line
    assert read_table(data / "test_wer44" / "text.asr") == {"test-0000-0000-000": "the rind flows through sick countries"}
    test = load_sqa_set(data / "test")
    assert [x["id"] for x in test.questions] == ["c01", "c02"]
    assert not (data / "test" / "text.asr").exists()  # synthesized: the context is the reference
    log = (data / "train" / "prep.log").read_text()
    assert "source questions lost: 0" in log


def passage_index(sqa, cid: str, word: str) -> int:
    return f" {sqa.passage_text(cid)} ".index(f" {word} ")


def test_reference_copy_is_used_without_squad_root(release):
    data = _import(release, squad=False)
    assert len(load_sqa_set(data / "train").questions) == 3


def _damage_and_expect(release: Path, damage, reason: str, lost: int) -> str:
    damage(release / "release")
    with pytest.raises(DataError, match=reason) as e:
        _import(release)
    assert "see" in str(e.value)
    assert not (release / "data" / "train").exists()  # nothing half-written
    data = _import(release, max_loss_ratio=1.0)
    log = (data / "train" / "prep.log").read_text()
    assert f"  {reason}: " in log
    assert f"source questions lost: {lost} " in log
    assert not (data / "train.prep.log").exists()
    return log


def test_missing_wav(release):
    log = _damage_and_expect(release, lambda r: (r / "wav/train/0_0_1.wav").unlink(), "missing_audio", 2)
    assert "sentence(s) [1] missing" in log


def test_corrupt_wav(release):
    log = _damage_and_expect(release, lambda r: (r / "wav/train/0_1_0.wav").write_bytes(b"RIFF\x00garbage"),
                             "unreadable_audio", 1)
    assert "0_1_0.wav" in log


def test_empty_wav(release):
    def empty(r: Path) -> None:
        sf.write(str(r / "wav/train/0_1_1.wav"), np.zeros(0, dtype=np.float32), 16000, subtype="PCM_16")
    _damage_and_expect(release, empty, "empty_audio", 1)


def test_sentence_count_mismatch(release):
    def extra(r: Path) -> None:
        (r / "wav/train/0_1_2.wav").write_bytes((r / "wav/train/0_1_1.wav").read_bytes())
    log = _damage_and_expect(release, extra, "sentence_count_mismatch", 1)
    assert "2 sentences in the text, 3 wav files" in log


def test_answer_not_in_passage(release):
    def wrong(r: Path) -> None:
        path = r.parent / "squad" / "train-v1.1.json"
        doc = json.loads(path.read_text())
        doc["data"][0]["paragraphs"][1]["qas"][0]["answers"] = [{"answer_start": 3, "text": "Notre Dame"}]
        path.write_text(json.dumps(doc))
    log = _damage_and_expect(release, wrong, "question_without_answer", 1)
    assert "answer_not_found: 1; 0" in log


def test_question_not_in_reference(release):
    def unknown(r: Path) -> None:
        path = r / "spoken_train-v1.1.json"
        doc = json.loads(path.read_text())
        doc["data"][0]["paragraphs"][1]["qas"].append(
            {"id": "zz9", "question": "why", "answers": [{"answer_start": 0, "text": "the"}]})
        path.write_text(json.dumps(doc))
    _damage_and_expect(release, unknown, "question_not_in_reference", 1)


def test_unreadable_json_is_an_error(release):
    (release / "release" / "spoken_test-v1.1.json").write_bytes(b'{"data": [\xff]}')
    with pytest.raises(DataError, match=r"spoken_test-v1.1.json.*UTF-8"):
        _import(release)
    assert not (release / "data").exists() or not any((release / "data").iterdir())


def test_duplicate_question_ids_are_an_error(release):
    path = release / "squad" / "train-v1.1.json"
    doc = json.loads(path.read_text())
    doc["data"][1]["paragraphs"][0]["qas"][1]["id"] = "a01"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="duplicate question id 'a01'"):
        _import(release)


def test_missing_release_files(release, tmp_path):
    with pytest.raises(DataError, match="spoken_train-v1.1.json"):
        find_sources(tmp_path)
    with pytest.raises(DataError, match="dev_size"):
        _import(release, dev_size=5)


def test_reimport_replaces_the_old_set(release):
    data = _import(release)
    (data / "train" / "stale_file").write_text("x")
    data = _import(release, dev_size=0)
    assert not (data / "train" / "stale_file").exists()
    assert len(load_sqa_set(data / "train").contexts) == 3
    assert sorted(p.name for p in data.iterdir()) == ["dev", "test", "train"]
