"""Word alignment between a reference and a hypothesis, and transcript distribution.

``align_words`` is the edit-distance alignment of ``speechbert.metrics.wer`` (one implementation
in the toolkit), re-exported here for text-side callers. ``distribute_words`` uses it to cut a
paragraph-level transcript into the sentence utterances of the reference passage: the Spoken SQuAD
importer's fallback when an ASR ``context`` does not have one ``.``-piece per wav (the release's
convention, which it uses first).
"""

from __future__ import annotations

from typing import Sequence

from speechbert.metrics.wer import align_words

__all__ = ["align_words", "distribute_words"]


def distribute_words(ref_sentences: Sequence[Sequence[str]], hyp: Sequence[str]) -> list[list[str]]:
    """Assign each hypothesis word to a reference sentence.

    ``hyp`` is aligned to the concatenated reference words; a correct or substituted hypothesis
    word goes to the sentence of its reference word, an inserted word to the sentence of the
    reference word before it (the first sentence for insertions at the very start).

    Returns:
        One word list per reference sentence; their concatenation is ``hyp``.
    """
    owner: list[int] = []
    for s, words in enumerate(ref_sentences):
        owner.extend([s] * len(words))
    ref = [w for words in ref_sentences for w in words]
    out: list[list[str]] = [[] for _ in ref_sentences]
    if not out:
        if hyp:
            raise ValueError("cannot distribute hypothesis words over zero sentences")
        return out
    current = 0
    for op, i, j in align_words(ref, list(hyp)):
        if i is not None:
            current = owner[i]
        if j is not None:
            out[current].append(hyp[j])
    return out
