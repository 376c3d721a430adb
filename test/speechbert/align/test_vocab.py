"""Character vocabulary and CTC targets of the aligner."""

from speechbert.align.vocab import CharVocab, min_frames


def test_targets_put_a_boundary_before_every_word_and_after_the_last():
    v = CharVocab()
    t = v.encode(["it's", "ok"])
    assert v.decode(t.ids) == "|it's|ok|"
    assert t.word_token_ranges == [(1, 4), (6, 7)]
    assert t.dropped_chars == []
    assert v.blank == 0 and v.tokens[v.boundary] == "|" and len(v) == 29


def test_accents_fold_and_unknown_characters_are_dropped_and_reported():
    v = CharVocab()
    t = v.encode(["Café", "42", "x|y"])
    assert v.decode(t.ids) == "|cafe|xy|"
    assert t.word_token_ranges == [(1, 4), None, (6, 7)]  # "42" has nothing to align
    assert t.dropped_chars == ["4", "2", "|"]


def test_min_frames_counts_a_blank_between_repeated_tokens():
    v = CharVocab()
    assert min_frames(v.encode(["all"]).ids) == 6  # | a l <blank> l |
    assert min_frames(v.encode(["ab"]).ids) == 4
