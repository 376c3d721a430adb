"""Word error rate and word-level edit-distance alignment.

The edit distance is the plain Levenshtein distance over words (substitution, deletion and
insertion all cost 1). Each DP row is computed with numpy: the substitution/deletion part is
element-wise, and the insertion part is a running minimum (``D[i, j] = j + min_{k<=j}(t[k] - k)``),
so a 700 x 700 word alignment takes milliseconds instead of the ~0.5 s of a Python double loop.
:func:`error_marks` runs the same alignment for many sentence pairs at once (a whole test set's
sentences), which is what scoring needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

#: Alignment operations: correct, substitution, deletion (reference word missing from the
#: hypothesis), insertion (hypothesis word absent from the reference).
OPS = ("C", "S", "D", "I")


def _to_ids(ref: Sequence[str], hyp: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    vocab: dict[str, int] = {}
    ref_ids = np.fromiter((vocab.setdefault(w, len(vocab)) for w in ref), dtype=np.int64, count=len(ref))
    hyp_ids = np.fromiter((vocab.setdefault(w, len(vocab)) for w in hyp), dtype=np.int64, count=len(hyp))
    return ref_ids, hyp_ids


def _next_row(prev: np.ndarray, ref_id: int, hyp_ids: np.ndarray, ramp: np.ndarray,
              edit: int = 1, sub: int = 1) -> np.ndarray:
    """Row ``i`` of the edit-cost table from row ``i - 1``.

    ``edit`` is the cost of a deletion or insertion, ``sub`` the cost of a substitution and
    ``ramp = edit * arange(m + 1)``.
    """
    row = np.empty_like(prev)
    row[0] = prev[0] + edit
    # Substitution (or match) from the diagonal, deletion from above.
    np.minimum(prev[:-1] + sub * (hyp_ids != ref_id), prev[1:] + edit, out=row[1:])
    # Insertion from the left: a running minimum of row[k] + edit * (j - k).
    np.minimum.accumulate(row - ramp, out=row)
    row += ramp
    return row


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Return the word-level Levenshtein distance between ``ref`` and ``hyp`` (O(m) memory)."""
    n, m = len(ref), len(hyp)
    if n == 0 or m == 0:
        return n + m
    ref_ids, hyp_ids = _to_ids(ref, hyp)
    ramp = np.arange(m + 1, dtype=np.int64)
    row = ramp.copy()
    for i in range(n):
        row = _next_row(row, int(ref_ids[i]), hyp_ids, ramp)
    return int(row[m])


def word_errors(ref_words: Sequence[str], hyp_words: Sequence[str]) -> tuple[int, int]:
    """Return ``(errors, ref_len)``: the edit distance and the number of reference words."""
    return edit_distance(ref_words, hyp_words), len(ref_words)


def align_words(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[str, int | None, int | None]]:
    """Align two word sequences with a minimum edit-distance alignment.

    Returns ``(op, ref_index, hyp_index)`` triples in order, ``op`` one of ``"C"`` (correct),
    ``"S"`` (substitution), ``"D"`` (deletion: ``hyp_index`` is None) and ``"I"`` (insertion:
    ``ref_index`` is None). Every reference index and every hypothesis index appears exactly once,
    and the number of non-``"C"`` operations equals :func:`edit_distance`.

    Among the alignments with the fewest errors, one with the most correct words is chosen
    (fewest substitutions), so a correctly recognised word is not reported as an error just to
    save an insertion/deletion pair: ``the cat sat on the mat`` / ``the cat sat in mat today``
    aligns ``on`` as D, ``the/in`` as S, ``mat`` as C and ``today`` as I (not three
    substitutions ending in ``mat/today``). Remaining ties are broken
    deterministically while tracing back from the end: diagonal (C/S) first, then deletion,
    then insertion (``ref=[a, b]``, ``hyp=[b]`` gives ``D(a) C(b)``).

    Memory is one integer table of ``(len(ref) + 1) * (len(hyp) + 1)`` cells (about 2 MB for
    700 x 700 words); time is O(n m) in numpy row operations.
    """
    n, m = len(ref), len(hyp)
    if n == 0:
        return [("I", None, j) for j in range(m)]
    if m == 0:
        return [("D", i, None) for i in range(n)]
    ref_ids, hyp_ids = _to_ids(ref, hyp)
    # Cost = big * errors + substitutions, with big > any substitution count: the fewest errors
    # first, then the fewest substitutions (= the most correct words for that error count).
    big = min(n, m) + 1
    sub = big + 1
    worst = big * (n + m) + min(n, m)
    dtype = np.int32 if worst < np.iinfo(np.int32).max else np.int64
    table = np.empty((n + 1, m + 1), dtype=dtype)
    ramp = big * np.arange(m + 1, dtype=np.int64)
    row = ramp.copy()
    table[0] = row
    for i in range(n):
        row = _next_row(row, int(ref_ids[i]), hyp_ids, ramp, edit=big, sub=sub)
        table[i + 1] = row
    cost = table.tolist()  # Python ints: the trace-back below is scalar work
    ref_l, hyp_l = ref_ids.tolist(), hyp_ids.tolist()
    out: list[tuple[str, int | None, int | None]] = []
    i, j = n, m
    while i > 0 or j > 0:
        here = cost[i][j]
        if i > 0 and j > 0:
            same = ref_l[i - 1] == hyp_l[j - 1]
            if here == cost[i - 1][j - 1] + (0 if same else sub):
                out.append(("C" if same else "S", i - 1, j - 1))
                i, j = i - 1, j - 1
                continue
        if i > 0 and here == cost[i - 1][j] + big:
            out.append(("D", i - 1, None))
            i -= 1
            continue
        out.append(("I", None, j - 1))
        j -= 1
    out.reverse()
    return out


@dataclass
class ErrorMarks:
    """Where one hypothesis misses its reference, per the :func:`align_words` alignment.

    ``wrong[k]``: reference word ``k`` is substituted or deleted; ``ins_before[k]``: number of
    hypothesis words inserted between reference words ``k - 1`` and ``k`` (``ins_before[n]``:
    after the last word); ``errors`` = the edit distance.
    """

    errors: int
    wrong: np.ndarray
    ins_before: np.ndarray


def error_marks(pairs: Sequence[tuple[Sequence[str], Sequence[str]]], max_cells: int = 4_000_000) -> list[ErrorMarks]:
    """:class:`ErrorMarks` of many ``(ref, hyp)`` pairs at once.

    Gives exactly what :func:`align_words` gives pair by pair (same costs, same tie-breaking),
    but runs the dynamic programme and the trace-back for a batch of similar-length pairs in
    numpy at once: scoring a test set needs tens of thousands of sentence alignments, where
    per-pair numpy calls would dominate. ``max_cells`` bounds one batch's cost table
    (``batch * (n + 1) * (m + 1)`` int32 cells).
    """
    out: list[ErrorMarks | None] = [None] * len(pairs)
    vocab: dict[str, int] = {}
    ids = [([vocab.setdefault(w, len(vocab)) for w in ref], [vocab.setdefault(w, len(vocab)) for w in hyp])
           for ref, hyp in pairs]
    todo = []
    for k, (r, h) in enumerate(ids):
        if not r or not h or r == h:
            n = len(r)
            out[k] = ErrorMarks(0 if r == h else max(len(r), len(h)), np.full(n, bool(n) and not h),
                                np.array([0] * n + [len(h) if not r else 0], dtype=np.int64))
        else:
            todo.append(k)
    todo.sort(key=lambda k: (len(ids[k][0]), len(ids[k][1])))
    start = 0
    while start < len(todo):
        n_max = m_max = 0
        end = start
        while end < len(todo):
            n_new = max(n_max, len(ids[todo[end]][0]))
            m_new = max(m_max, len(ids[todo[end]][1]))
            if end > start and (end - start + 1) * (n_new + 1) * (m_new + 1) > max_cells:
                break
            n_max, m_max, end = n_new, m_new, end + 1
        chunk = todo[start:end]
        for k, marks in zip(chunk, _error_marks_batch([ids[k] for k in chunk], n_max, m_max)):
            out[k] = marks
        start = end
    return out  # type: ignore[return-value]


def _error_marks_batch(ids: list[tuple[list[int], list[int]]], n_max: int, m_max: int) -> list[ErrorMarks]:
    b = len(ids)
    ref = np.full((b, n_max), -1, dtype=np.int64)
    hyp = np.full((b, m_max), -2, dtype=np.int64)  # pads never match anything
    n_len = np.array([len(r) for r, _ in ids], dtype=np.int64)
    m_len = np.array([len(h) for _, h in ids], dtype=np.int64)
    for k, (r, h) in enumerate(ids):
        ref[k, :len(r)] = r
        hyp[k, :len(h)] = h
    # Same cost as align_words: big * errors + substitutions. Any big above every pair's
    # possible substitution count orders alignments identically, so one big serves the batch.
    big = min(n_max, m_max) + 1
    sub = big + 1
    # Every cell and intermediate stays below big * (n + m + 2). int16 where that fits (sentences
    # of up to ~120 words), else int32 (up to ~30,000 words); the DP is memory-bound, so the
    # narrower table is faster, and the costs are the same integers either way. Rows are computed
    # in place in the table (no rows copied in).
    dtype = np.int16 if big * (n_max + m_max + 2) < np.iinfo(np.int16).max else np.int32
    table = np.empty((b, n_max + 1, m_max + 1), dtype=dtype)
    ramp = big * np.arange(m_max + 1, dtype=dtype)
    table[:, 0] = ramp
    sub_cost = np.empty((b, m_max), dtype=dtype)
    for i in range(n_max):
        # Padding cells lie right of / below a pair's real cells, which never depend on them.
        prev, row = table[:, i], table[:, i + 1]
        row[:, 0] = prev[:, 0] + big
        np.not_equal(hyp, ref[:, i:i + 1], out=sub_cost, casting="unsafe")
        sub_cost *= sub
        sub_cost += prev[:, :-1]
        np.minimum(sub_cost, prev[:, 1:] + big, out=row[:, 1:])
        row -= ramp
        np.minimum.accumulate(row, axis=1, out=row)
        row += ramp
    rows = np.arange(b)
    errors = table[rows, n_len, m_len] // big
    wrong = np.zeros((b, max(n_max, 1)), dtype=bool)
    ins_before = np.zeros((b, n_max + 1), dtype=np.int64)
    # Trace back all pairs in step; preference order as in align_words: diagonal, deletion, insertion.
    # Flat indices into the tables: one gather per lookup instead of a 3-D fancy index.
    flat, ref_flat, hyp_flat = table.reshape(-1), ref.reshape(-1), hyp.reshape(-1)
    wrong_flat, ins_flat = wrong.reshape(-1), ins_before.reshape(-1)
    width = m_max + 1
    i, j = n_len.copy(), m_len.copy()
    act = np.nonzero((i > 0) | (j > 0))[0]
    while act.size:
        ii, jj = i[act], j[act]
        cell = (act * (n_max + 1) + ii) * width + jj
        here = flat[cell]
        im1, jm1 = np.maximum(ii - 1, 0), np.maximum(jj - 1, 0)
        has_i = ii > 0
        both = has_i & (jj > 0)
        same = ref_flat[act * n_max + im1] == hyp_flat[act * m_max + jm1]
        up = cell - width
        diag = both & (here == flat[up - 1] + np.where(same, 0, sub))
        dele = ~diag & has_i & (here == flat[up] + big)
        ins = ~diag & ~dele
        bad = (diag & ~same) | dele
        wrong_flat[(act * wrong.shape[1] + im1)[bad]] = True
        # A pair gets at most one insertion per step, so a plain fancy-index += is exact.
        ins_flat[(act * (n_max + 1) + ii)[ins]] += 1
        step_i = diag | dele
        i[act] = ii - step_i
        j[act] = jj - (diag | ins)
        act = act[(i[act] > 0) | (j[act] > 0)]
    return [ErrorMarks(int(errors[k]), wrong[k, :n_len[k]].copy(), ins_before[k, :n_len[k] + 1].copy())
            for k in range(b)]


@dataclass
class WerStats:
    """Corpus-level word error counts."""

    errors: int = 0
    ref_words: int = 0
    utterances: int = 0
    #: Reference utterances with no hypothesis (scored as all deletions).
    missing: int = 0

    @property
    def wer(self) -> float:
        """Word error rate in percent (0 for an empty reference with no errors)."""
        if self.ref_words == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return 100.0 * self.errors / self.ref_words

    def add(self, errors: int, ref_len: int) -> None:
        """Add one utterance's counts."""
        self.errors += errors
        self.ref_words += ref_len
        self.utterances += 1

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready summary."""
        return {"wer": self.wer, "errors": self.errors, "ref_words": self.ref_words,
                "utterances": self.utterances, "missing": self.missing}


def _words(value: str | Sequence[str]) -> list[str]:
    return value.split() if isinstance(value, str) else list(value)


def corpus_wer(refs: Mapping[str, str | Sequence[str]], hyps: Mapping[str, str | Sequence[str]],
               keys: Iterable[str] | None = None) -> WerStats:
    """Corpus-level WER: total edit distance over total reference words.

    Args:
        refs: ``{key: reference text or words}`` (e.g. the ``text`` table).
        hyps: ``{key: hypothesis text or words}`` (e.g. ``text.asr``). A key missing here is
            scored as all deletions and counted in ``missing``; extra keys are ignored.
        keys: the keys to score (default: all of ``refs``).
    """
    stats = WerStats()
    for key in (refs.keys() if keys is None else keys):
        ref = _words(refs[key])
        if key in hyps:
            stats.add(*word_errors(ref, _words(hyps[key])))
        else:
            stats.add(len(ref), len(ref))
            stats.missing += 1
    return stats
