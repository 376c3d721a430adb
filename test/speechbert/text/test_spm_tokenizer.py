"""SentencePieceTokenizer: training, special ids, round trip, word pieces, errors."""

import random

import pytest

from speechbert.errors import ConfigError, DataError
from speechbert.text.spm_tokenizer import SentencePieceTokenizer

WORDS = ("super bowl fifty was an american football game to determine the champion of the national "
         "league season broncos defeated panthers earn their third title").split()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    rng = random.Random(0)
    text = tmp_path_factory.mktemp("spm") / "text.txt"
    text.write_text("\n".join(" ".join(rng.choices(WORDS, k=12)) for _ in range(300)) + "\n")
    return SentencePieceTokenizer.train(text, text.parent / "out" / "bpe60", vocab_size=60, model_type="bpe")


def test_special_ids_and_files(trained):
    assert (trained.pad_id, trained.unk_id, trained.cls_id, trained.sep_id, trained.mask_id) == (0, 1, 2, 3, 4)
    assert trained.vocab_size == 60
    assert trained.model_file.with_suffix(".vocab").is_file()
    assert not [p for p in trained.model_file.parent.iterdir() if p.name.startswith(".")]


def test_round_trip_and_word_pieces(trained):
    text = "the broncos defeated the panthers"
    ids = trained.encode(text)
    assert ids[0] == trained.cls_id and ids[-1] == trained.sep_id
    assert trained.decode(ids) == text
    assert trained.convert_tokens_to_ids(trained.tokenize(text)) == ids[1:-1]
    pieces, owners = trained.words_to_pieces(text.split())
    assert "".join(pieces).replace("\u2581", " ").strip() == text
    assert owners[0] == 0 and owners[-1] == 4 and sorted(owners) == owners
    assert trained.word_to_pieces("champion")[0].startswith("\u2581")
    assert trained.tokenize("a [MASK] b").count("[MASK]") == 1
    reloaded = SentencePieceTokenizer(trained.model_file)
    assert reloaded.encode(text) == ids


def test_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        SentencePieceTokenizer.train(tmp_path / "none.txt", tmp_path / "m", vocab_size=50)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(DataError, match="empty"):
        SentencePieceTokenizer.train(empty, tmp_path / "m", vocab_size=50)
    with pytest.raises(ConfigError):
        SentencePieceTokenizer.train(empty, tmp_path / "m", vocab_size=50, model_type="wordpiece")
    with pytest.raises(DataError, match="does not exist"):
        SentencePieceTokenizer(tmp_path / "m.model")
