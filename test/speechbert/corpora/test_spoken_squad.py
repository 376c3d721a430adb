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
    # the release's convention, which the synthesizer follows: one "." per wav
    assert ctx.startswith("atop the main building's gold dome")
    assert ctx.count(".") == 3 and "lourdes france. the virgin" in ctx
    # a substitution in sentence 0, a deletion in sentence 1, an insertion at the start of sentence 2
    ctx = ctx.replace("gold dome", "cold dome").replace("the grotto", "grotto")
    ctx = ctx.replace("france. the virgin", "france. uh the virgin")
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

    # text.asr: the "." piece of each wav (the insertion stays with the wav it was heard in)
    asr = read_table(data / "train" / "text.asr")
    assert asr["train-0000-0000-000"].split()[3:6] == ["building's", "cold", "dome"]
    assert asr["train-0000-0000-001"] == "it is a replica of grotto at lourdes france"
    assert asr["train-0000-0000-002"].startswith("uh the virgin mary")
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
    # one "." piece for two wavs: spread by alignment (reported); every ASR word went to sentence
    # 0, sentence 1 got none and has no line
    assert read_table(data / "test_wer44" / "text.asr") == {"test-0000-0000-000": "the rind flows through sick countries"}
    wer44_log = (data / "test_wer44" / "prep.log").read_text()
    assert "  asr_piece_count_mismatch: 1; 0\n" in wer44_log
    assert ("e.g. 0_0 (test topic 0, paragraph 0): 2 sentences in the text (period_space split), 2 wav files, "
            "1 '.' pieces in the spoken context") in wer44_log
    assert "  asr_spread_by_alignment: 1; 0\n" in wer44_log
    assert "text.asr: 0 contexts from the spoken context's '.' pieces, 1 spread" in wer44_log
    test = load_sqa_set(data / "test")
    assert [x["id"] for x in test.questions] == ["c01", "c02"]
    assert not (data / "test" / "text.asr").exists()  # synthesized: the context is the reference
    log = (data / "train" / "prep.log").read_text()
    assert "source questions lost: 0" in log
    assert "sentence split: period_space (the release's convention)" in log  # _make_asr removed the marker
    assert "questions dropped before import: 0 (listed in" in log
    assert "text.asr: 2 contexts from the spoken context's '.' pieces, 0 spread" in log
    assert "  asr_piece_count_mismatch:" not in log and "  asr_spread_by_alignment:" not in log


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
    assert ("0_1 (train topic 0, paragraph 1): 2 sentences in the text (period_space split), 3 wav files, "
            "2 '.' pieces in the spoken context") in log
    assert "  asr_piece_count_mismatch: 1; 0\n" in log


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


def _write_dropped(release: Path, *rows: str) -> None:
    lines = ["id\tparagraph\treason\tanswers", *rows]
    (release / "release" / "dropped_train.tsv").write_text("".join(f"{line}\n" for line in lines))


def test_questions_dropped_by_the_synthesizer_are_lost(release):
    def dropped(r: Path) -> None:
        _write_dropped(r.parent, 'zz1\t0_1\tquestion_without_answer\t["Notre Dame"]')
    log = _damage_and_expect(release, dropped, "synthesis_question_without_answer", 1)
    assert "source questions: 6\n" in log  # 5 in the spoken JSONs' train + the dropped one
    assert "questions dropped before import: 1 (listed in" in log
    assert "e.g. zz1 (paragraph 0_1, dropped_train.tsv:2): answers ['Notre Dame']" in log


def test_bad_dropped_list_is_an_error(release):
    _write_dropped(release, "zz1\t0_1")
    with pytest.raises(DataError, match=r"dropped_train.tsv:2: expected '<id><TAB>"):
        _import(release)
    _write_dropped(release, 'a01\t0_0\tquestion_without_answer\t["x"]')
    with pytest.raises(DataError, match=r"dropped_train.tsv:2: question 'a01' is listed as dropped but is in"):
        _import(release)
    (release / "release" / "dropped_train.tsv").write_text("")
    with pytest.raises(DataError, match="dropped_train.tsv: empty file"):
        _import(release)


# A corpus in the layout of the real release, written by hand: the wavs follow a plain ". " split
# of the SQuAD paragraph, the spoken contexts are ASR transcripts with one "." per wav, and there is
# no "speechbert" marker, no word times and no dropped list.
HILL = "Who financed the Great Northern line? James J. Hill did, in 1893."
MANNING = "Peyton Manning's shotgun snap went wide. The Broncos finished 12–4."
RELEASE_TRAIN = {"version": "1.1", "data": [{"title": "Rail", "paragraphs": [
    {"context": HILL, "qas": [{"id": "h1", "question": "Who financed the line?",
                               "answers": [{"answer_start": HILL.index("James"), "text": "James J. Hill"}]}]},
    {"context": MANNING, "qas": [
        {"id": "m1", "question": "Whose snap went wide?",
         "answers": [{"answer_start": 0, "text": "Peyton Manning"}]},
        {"id": "m2", "question": "What was the record?",
         "answers": [{"answer_start": MANNING.index("12"), "text": "12–4"}]}]}]}]}
RELEASE_TEST = {"version": "1.1", "data": [{"title": "Rivers", "paragraphs": [
    {"context": "The Rhine flows through six countries. It is long.",
     "qas": [{"id": "r1", "question": "How many countries?", "answers": [{"answer_start": 24, "text": "six"}]}]}]}]}
ASR_CONTEXTS = {
    # two pieces for two wavs; "uh" was heard at the start of the second wav
    "h1": "who finance the great northern line james j. uh hill did in eighteen ninety three.",
    # the recognizer's pieces disagree with the wavs: one "." for two wavs
    "m1": "peyton manning shotgun snap went wide the broncos finished twelve four.",
    "r1": "the rhine flows through six countries. it is long.",
}


def _spoken(reference: dict) -> dict:
    doc = json.loads(json.dumps(reference))
    for art in doc["data"]:
        for par in art["paragraphs"]:
            par["context"] = ASR_CONTEXTS[par["qas"][0]["id"]]
            for qa in par["qas"]:  # the release's answers index the ASR text; the importer ignores them
                qa["answers"] = [{"answer_start": 0, "text": par["context"].split()[0]}]
    return doc


@pytest.fixture
def real_layout(tmp_path) -> Path:
    root = tmp_path / "release"
    (tmp_path / "squad").mkdir()
    rng = np.random.default_rng(0)
    for split, ref, wavs in (("train", RELEASE_TRAIN, {"0_0": 2, "0_1": 2}), ("test", RELEASE_TEST, {"0_0": 2})):
        (root / "wav" / split).mkdir(parents=True)
        (root / f"spoken_{split}-v1.1.json").write_text(json.dumps(_spoken(ref)))
        name = "train-v1.1.json" if split == "train" else "dev-v1.1.json"
        (tmp_path / "squad" / name).write_text(json.dumps(ref))
        for key, n in wavs.items():
            for s in range(n):
                sf.write(str(root / "wav" / split / f"{key}_{s}.wav"),
                         (0.01 * rng.standard_normal(1600)).astype(np.float32), 16000, subtype="PCM_16")
    return tmp_path


def test_release_layout_pairs_each_wav_with_its_sentence(real_layout):
    # "rules" also gives two sentences here, with other boundaries: every wav would get the text of
    # another sentence. The release split at ". ", and so does the import.
    data = _import(real_layout, dev_size=0, max_loss_ratio=1.0)  # losses are checked in the log below
    train = load_sqa_set(data / "train")
    assert train.text["train-0000-0000-000"] == "who financed the great northern line james j"
    assert train.text["train-0000-0000-001"] == "hill did in eighteen ninety three"
    asr = read_table(data / "train" / "text.asr")
    assert asr["train-0000-0000-000"] == "who finance the great northern line james j"
    assert asr["train-0000-0000-001"] == "uh hill did in eighteen ninety three"
    q = {x["id"]: x for x in train.questions}
    # the answer crosses the release's wav boundary; it is relocated into the passage all the same
    assert [a["text"] for a in q["h1"]["answers"]] == ["james j hill"]
    # a possessive after the answer: the spoken word is "manning's"
    passage = train.passage_text("train-0000-0001")
    assert q["m1"]["answers"] == [{"text": "peyton manning's", "char_start": 0}]
    assert passage[q["m2"]["answers"][0]["char_start"]:].startswith("twelve four")

    log = (data / "train" / "prep.log").read_text()
    assert "sentence split: period_space (the release's convention)" in log
    assert "source questions lost: 0 " in log
    assert "questions dropped before import: no list" in log
    # the second paragraph's ASR context has one "." for two wavs: reported, and its text.asr is
    # spread by alignment instead
    assert "  asr_piece_count_mismatch: 1; 0\n" in log
    assert ("    e.g. 0_1 (train topic 0, paragraph 1): 2 sentences in the text (period_space split), "
            "2 wav files, 1 '.' pieces in the spoken context\n") in log
    assert "  asr_spread_by_alignment: 1; 0\n" in log
    assert "text.asr: 1 contexts from the spoken context's '.' pieces, 1 spread" in log
    assert "  answer_widened_to_whole_words: 1; 0\n    e.g. m1: 'Peyton Manning' -> \"peyton manning's\"" in log
    assert asr["train-0000-0001-000"] == "peyton manning shotgun snap went wide"
    assert asr["train-0000-0001-001"] == "the broncos finished twelve four"


def test_release_layout_with_another_splitter_is_reported(real_layout):
    # rules on a paragraph where it finds another number of sentences than the wavs: lost, reported
    doc = json.loads((real_layout / "squad" / "train-v1.1.json").read_text())
    doc["data"][0]["paragraphs"][0]["context"] = HILL.replace("line? James", "line, asked James")
    (real_layout / "squad" / "train-v1.1.json").write_text(json.dumps(doc))
    specs = find_sources(real_layout / "release", real_layout / "squad")
    data = real_layout / "data"
    import_spoken_squad(specs, data, ImportOptions(max_loss_ratio=1.0, split_method="rules"))
    log = (data / "train" / "prep.log").read_text()
    assert "sentence split: rules (--split_method)" in log
    assert ("  sentence_count_mismatch: 1; 1\n    e.g. 0_0 (train topic 0, paragraph 0): 1 sentences in the text "
            "(rules split), 2 wav files, 2 '.' pieces in the spoken context\n") in log
    with pytest.raises(ValueError, match="unknown split_method 'nltk'"):
        import_spoken_squad(specs, data, ImportOptions(split_method="nltk"))


def test_a_noisy_test_set_without_its_own_audio_is_a_warning(tmp_path, caplog):
    from speechbert.corpora.spoken_squad import find_sources, reference_json_name, spoken_json_name

    for split in ("train", "test"):
        (tmp_path / spoken_json_name(split)).write_text("{}")
        (tmp_path / reference_json_name(split)).write_text("{}")
        (tmp_path / "wav" / split).mkdir(parents=True)
    (tmp_path / "spoken_test-v1.1_WER44.json").write_text("{}")
    (tmp_path / "spoken_test-v1.1_WER54.json").write_text("{}")
    (tmp_path / "wav" / "test_wer54").mkdir()
    with caplog.at_level("WARNING"):
        specs = {s.set_name: s for s in find_sources(tmp_path)}
    assert specs["test_wer44"].wav_dir == specs["test"].wav_dir
    assert specs["test_wer54"].wav_dir == tmp_path / "wav" / "test_wer54"
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1 and "spoken_test-v1.1_WER44.json: no audio directory of its own" in warned[0]
    assert "test_wer44 uses the clean test audio" in warned[0]
