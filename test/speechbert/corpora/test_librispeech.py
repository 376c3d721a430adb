"""Tests for speechbert.corpora.librispeech on a tiny corpus in the LibriSpeech layout, spoken by eSpeak NG.

:func:`write_corpus` is also used by ``test/speechbert/bin/test_prepare_librispeech.py``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

from speechbert.corpora.librispeech import (context_id, import_librispeech, import_librispeech_subsets,
                                            set_name_for, utt_id)
from speechbert.errors import DataError
from speechbert.io.sqa_data import load_sqa_set

REPO = Path(__file__).resolve().parents[3]
VALIDATE = REPO / "utils" / "validate_data_dir.sh"

#: (speaker, chapter) -> [(utt, transcript as LibriSpeech writes it)], in the order of the
#: .trans.txt lines (chapter 1240's lines are out of order on purpose: contexts follow the numbers)
CORPUS = {
    ("19", "198"): [("0000", "THE CAT SAT NEAR THE RIVER"),
                    ("0001", "JOHN DIDN'T LIKE RED"),
                    ("0002", "SHE SAW 'EM AT NOON")],
    ("103", "1240"): [("0001", "A GREEN HOUSE STOOD ON THE HILL"),
                      ("0000", "CHAPTER ONE MISSUS RACHEL IS SURPRISED")],
}
VOICES = {"19": "en-us+m3", "103": "en-us+f2"}
SUBSET = "dev-clean"


def normalized(raw: str) -> str:
    from speechbert.text.normalize import normalize_text

    return normalize_text(raw)


def write_corpus(root: Path, subset: str = SUBSET) -> dict[str, int]:
    """Write CORPUS under ``root/subset`` (16 kHz FLAC); returns ``{<spk>-<chapter>-<utt>: samples}``."""
    from speechbert.synth.tts import EspeakSynthesizer, Voice

    syn = EspeakSynthesizer(sample_rate=16000)
    samples = {}
    for k, ((spk, chapter), utts) in enumerate(CORPUS.items()):
        d = root / subset / spk / chapter
        d.mkdir(parents=True)
        lines = []
        for n, (utt, raw) in enumerate(utts):
            sid = f"{spk}-{chapter}-{utt}"
            audio = syn.synthesize(normalized(raw), Voice(VOICES[spk]), seed=10 * k + n).audio
            sf.write(str(d / f"{sid}.flac"), audio, 16000, format="FLAC", subtype="PCM_16")
            samples[sid] = len(audio)
            lines.append(f"{sid} {raw}\n")
        (d / f"{spk}-{chapter}.trans.txt").write_text("".join(lines), encoding="utf-8")
    return samples


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("librispeech") / "LibriSpeech"
    return root, write_corpus(root)


@pytest.fixture
def corpus(pristine, tmp_path) -> tuple[Path, dict[str, int]]:
    """A private copy of the corpus that a test may damage."""
    root, samples = pristine
    dst = tmp_path / "LibriSpeech"
    shutil.copytree(root, dst)
    return dst, samples


def validate(data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(VALIDATE), "--no-feats", str(data_dir)], capture_output=True, text=True,
                          env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})


def test_ids():
    assert utt_id(19, 198, 1) == "ls-0019-000198-0001"
    assert context_id(19, 198) == "ls-0019-000198"
    assert utt_id(19, 198, 1, prefix="") == "0019-000198-0001"
    assert set_name_for("train-clean-100") == "librispeech_train_clean_100"
    # numeric order is LC_ALL=C order (the raw ids would put 103 before 19)
    numbers = ((19, 198, 2), (19, 198, 10), (19, 1980, 0), (103, 1240, 0), (8842, 304647, 3))
    ids = [utt_id(s, c, u) for s, c, u in numbers]
    assert sorted(ids, key=str.encode) == ids
    # a number wider than its field keeps the speaker-prefix order consistent ("-" sorts before digits)
    wide = sorted([utt_id(12345, 1, 0), utt_id(1234, 999999, 0), utt_id(1234, 1000000, 0), utt_id(1234, 10, 0)],
                  key=str.encode)
    speakers = [u.rsplit("-", 1)[0] for u in wide]
    assert speakers == sorted(speakers, key=str.encode)


def test_import(corpus, tmp_path):
    root, samples = corpus
    out = tmp_path / "data" / "librispeech_dev_clean"
    report = import_librispeech(root, SUBSET, out, max_loss_ratio=0)
    assert sorted(p.name for p in out.iterdir()) == ["contexts", "prep.log", "questions.jsonl", "spk2utt", "text",
                                                     "utt2dur", "utt2spk", "wav.scp"]
    a, b = "ls-0019-000198", "ls-0103-001240"
    utts = [f"{a}-0000", f"{a}-0001", f"{a}-0002", f"{b}-0000", f"{b}-0001"]
    src = ["19-198-0000", "19-198-0001", "19-198-0002", "103-1240-0000", "103-1240-0001"]
    flac = {u: (root / SUBSET / s.split("-")[0] / s.split("-")[1] / f"{s}.flac").resolve() for u, s in zip(utts, src)}
    assert (out / "wav.scp").read_text() == "".join(f"{u} {flac[u]}\n" for u in utts)
    assert (out / "text").read_text() == (
        f"{a}-0000 the cat sat near the river\n"
        f"{a}-0001 john didn't like red\n"
        f"{a}-0002 she saw em at noon\n"
        f"{b}-0000 chapter one missus rachel is surprised\n"
        f"{b}-0001 a green house stood on the hill\n")
    assert (out / "utt2spk").read_text() == "".join(f"{u} {u[:-5]}\n" for u in utts)
    assert (out / "spk2utt").read_text() == f"{a} {' '.join(utts[:3])}\n{b} {' '.join(utts[3:])}\n"
    assert (out / "contexts").read_text() == (out / "spk2utt").read_text()
    assert (out / "questions.jsonl").read_text() == ""
    durs = dict(line.split() for line in (out / "utt2dur").read_text().splitlines())
    assert list(durs) == utts
    for u, s in zip(utts, src):
        assert durs[u] == f"{samples[s] / 16000:.5f}"
        audio, rate = sf.read(str(flac[u]))
        assert rate == 16000 and float(durs[u]) == pytest.approx(len(audio) / rate, abs=1e-5)
    log = (out / "prep.log").read_text()
    assert "set: librispeech_dev_clean\n" in log
    assert "source utterances lost: 0 (0.00%, limit 0.00%)" in log
    assert "this set: 2 contexts (chapters), 2 readers, 5 utterances" in log
    assert "sample rates: 16000 Hz: 5\n" in log
    assert "transcripts changed by normalization beyond lower case: 1\n" in log  # 'EM
    assert report.utterances == 5 and report.utterances_lost == 0

    # the toolkit's own readers and the Kaldi validator accept it
    sqa = load_sqa_set(out)
    assert sqa.questions == [] and sqa.passage_words(b)[:3] == ["chapter", "one", "missus"]
    assert sqa.utt_offsets(b) == [0.0, pytest.approx(samples["103-1240-0000"] / 16000, abs=1e-5)]
    res = validate(out)
    assert res.returncode == 0, res.stderr
    assert "Successfully validated" in res.stderr

    # re-running replaces the directory in place
    import_librispeech(root, SUBSET, out, max_loss_ratio=0)
    assert (out / "text").read_text().count("\n") == 5
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())


def test_several_subsets_and_prefix(corpus, tmp_path):
    root, _ = corpus
    shutil.copytree(root / SUBSET, root / "test-clean")
    data = tmp_path / "data"
    reports = import_librispeech_subsets(root, [SUBSET, "test-clean"], data, id_prefix="libri")
    assert sorted(reports) == ["librispeech_dev_clean", "librispeech_test_clean"]
    assert sorted(p.name for p in data.iterdir()) == ["librispeech_dev_clean", "librispeech_test_clean"]
    assert (data / "librispeech_test_clean" / "text").read_text().startswith("libri-0019-000198-0000 the cat")
    assert validate(data / "librispeech_test_clean").returncode == 0


def _chapter(root: Path, spk: str = "19", chapter: str = "198") -> Path:
    return root / SUBSET / spk / chapter


def test_missing_flac_and_missing_line(corpus, tmp_path):
    root, _ = corpus
    d = _chapter(root)
    (d / "19-198-0001.flac").unlink()                     # a transcript line without its flac
    trans = d / "19-198.trans.txt"
    trans.write_text(trans.read_text() + "19-198-0003 ONE MORE LINE\n")   # another one
    shutil.copy(d / "19-198-0000.flac", d / "19-198-0007.flac")           # a flac without a line
    out = tmp_path / "data" / "ls"
    with pytest.raises(DataError) as e:
        import_librispeech(root, SUBSET, out)
    msg = str(e.value)
    # 7 source utterances (5 + the extra line + the extra flac), 3 lost
    assert msg.startswith("ls lost 3 of 7 utterances (42.9% > 5.0%: missing_audio: 2, missing_transcript: 1; "
                          f"e.g. {trans.resolve()}:2: 19-198-0001 has no 19-198-0001.flac in ")
    assert not out.exists()
    log = (out.parent / "ls.prep.log").read_text()
    assert f"  missing_audio: 2; 2\n    e.g. {trans.resolve()}:2: 19-198-0001 has no 19-198-0001.flac" in log
    assert f"    e.g. {trans.resolve()}:4: 19-198-0003 has no 19-198-0003.flac" in log
    assert (f"  missing_transcript: 1; 1\n    e.g. {(d / '19-198-0007.flac').resolve()}: no line in "
            f"{trans.resolve()}\n") in log
    # tolerated: written without them, the failure log is removed
    report = import_librispeech(root, SUBSET, out, max_loss_ratio=0.5)
    assert report.utterances == 4 and report.utterances_lost == 3
    assert not (out.parent / "ls.prep.log").exists()
    assert (out / "contexts").read_text().splitlines()[0] == "ls-0019-000198 ls-0019-000198-0000 ls-0019-000198-0002"
    assert "source utterances lost: 3 (42.86%, limit 50.00%)" in (out / "prep.log").read_text()
    assert validate(out).returncode == 0


def test_no_transcript_file_and_bad_audio(corpus, tmp_path):
    root, _ = corpus
    (_chapter(root, "103", "1240") / "103-1240.trans.txt").unlink()
    (_chapter(root) / "19-198-0002.flac").write_bytes(b"not a flac")
    (_chapter(root) / "stray.flac").write_bytes(b"")
    out = tmp_path / "data" / "ls"
    report = import_librispeech(root, SUBSET, out, max_loss_ratio=1)
    assert report.lost == {"missing_transcript": 2, "unreadable_audio": 1, "unexpected_audio_name": 1}
    log = (out / "prep.log").read_text()
    assert "  missing_transcript_file: 1; 0\n" in log and "103-1240.trans.txt: no such file (2 flac files)" in log
    assert "  unreadable_audio: 1; 1\n    e.g. " in log
    assert (out / "text").read_text() == ("ls-0019-000198-0000 the cat sat near the river\n"
                                          "ls-0019-000198-0001 john didn't like red\n")


def test_empty_transcripts(corpus, tmp_path):
    root, _ = corpus
    trans = _chapter(root) / "19-198.trans.txt"
    lines = trans.read_text().splitlines(keepends=True)
    trans.write_text(lines[0] + "19-198-0001\n" + "19-198-0002 -- ' --\n")
    out = tmp_path / "data" / "ls"
    with pytest.raises(DataError, match=r"ls lost 2 of 5 utterances .*empty_transcript: 2; e\.g\. "
                                        r".*19-198\.trans\.txt:2: 19-198-0001: '' has no words"):
        import_librispeech(root, SUBSET, out)
    assert "19-198.trans.txt:3: 19-198-0002: \"-- ' --\" has no words" in (out.parent / "ls.prep.log").read_text()
    # every transcript empty: nothing usable at all
    for spk, chapter in CORPUS:
        (_chapter(root, spk, chapter) / f"{spk}-{chapter}.trans.txt").write_text("")
    with pytest.raises(DataError, match=r"dev-clean: no usable utterance \(missing_transcript: 5; e\.g\. "):
        import_librispeech(root, SUBSET, out, max_loss_ratio=1)
    assert "  empty_transcript_file: 2; 0\n" in (out.parent / "ls.prep.log").read_text()
    assert not out.exists()


@pytest.mark.parametrize("line, why", [
    ("19-198-0009\tX Y\n", None),                                       # tab separated: fine
    ("19-199-0000 WRONG CHAPTER\n", "utterance '19-199-0000' is not of speaker 19 chapter 198"),
    ("19_198_0000 WORDS\n", "'19_198_0000' is not an utterance id '<spk>-<chapter>-<utt>'"),
    ("19-198-0000 TWICE\n", "utterance '19-198-0000' is listed twice (first on line 1)"),
    ("19-198-000 SAME NUMBER\n", "'19-198-000' and '19-198-0000' both map to the id 'ls-0019-000198-0000'"),
    ("\n", "empty line"),
])
def test_malformed_transcript(corpus, tmp_path, line, why):
    root, _ = corpus
    d = _chapter(root)
    trans = d / "19-198.trans.txt"
    trans.write_text(trans.read_text() + line)
    if why is None or "both map" in why:
        sid = line.split()[0]
        shutil.copy(d / "19-198-0000.flac", d / f"{sid}.flac")
    out = tmp_path / "data" / "ls"
    if why is None:
        import_librispeech(root, SUBSET, out, max_loss_ratio=0)
        assert "ls-0019-000198-0009 x y\n" in (out / "text").read_text()
        return
    with pytest.raises(DataError) as e:
        import_librispeech(root, SUBSET, out, max_loss_ratio=1)
    assert str(e.value).startswith(f"{trans.resolve()}:4: ")
    assert why in str(e.value)
    assert not out.exists()


def test_not_utf8(corpus, tmp_path):
    root, _ = corpus
    trans = _chapter(root) / "19-198.trans.txt"
    trans.write_bytes(trans.read_bytes() + b"19-198-0003 CAF\xe9\n")
    with pytest.raises(DataError, match=r"19-198\.trans\.txt:4: not valid UTF-8"):
        import_librispeech(root, SUBSET, tmp_path / "ls")


def test_missing_subset(corpus, tmp_path):
    root, _ = corpus
    with pytest.raises(DataError) as e:
        import_librispeech(root, "train-clean-100", tmp_path / "ls")
    assert str(e.value) == f"{root.resolve() / 'train-clean-100'}: no such subset directory (subsets here: dev-clean)"
    with pytest.raises(DataError, match="no such directory"):
        import_librispeech(tmp_path / "nowhere", SUBSET, tmp_path / "ls")
    (root / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no usable utterance \(no transcript or flac file found; see "):
        import_librispeech(root, "empty", tmp_path / "ls")
    with pytest.raises(DataError, match="must be a directory name"):
        import_librispeech(root, "../x", tmp_path / "ls")


def test_failing_subset_writes_nothing(corpus, tmp_path):
    root, _ = corpus
    shutil.copytree(root / SUBSET, root / "test-clean")
    (root / "test-clean" / "19" / "198" / "19-198-0000.flac").unlink()
    data = tmp_path / "data"
    with pytest.raises(DataError, match="librispeech_test_clean lost 1 of 5 utterances"):
        import_librispeech_subsets(root, [SUBSET, "test-clean"], data)
    assert sorted(p.name for p in data.iterdir()) == ["librispeech_test_clean.prep.log"]
