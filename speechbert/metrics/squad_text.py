"""SQuAD v1.1 text answer scoring: the official normalization, exact match and token F1.

Normalization, in the official order: lower-case, remove ASCII punctuation, remove the articles
``a``, ``an``, ``the`` (whole words), collapse whitespace. A prediction is scored against every
reference answer and the best score is kept.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Sequence

_DROP_PUNCT = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Lower-case, strip punctuation and articles, and collapse whitespace (SQuAD v1.1)."""
    text = text.lower()
    text = text.translate(_DROP_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 if the normalized strings are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def _f1_tokens(pred: list[str], ref: list[str]) -> float:
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision = common / len(pred)
    recall = common / len(ref)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, reference: str) -> float:
    """Bag-of-tokens F1 of the normalized strings (0 when either side is empty)."""
    return _f1_tokens(normalize_answer(prediction).split(), normalize_answer(reference).split())


def best_em_f1(prediction: str, references: Sequence[str]) -> tuple[float, float]:
    """Return ``(em, f1)`` of ``prediction``, each maximised over ``references`` (0, 0 if none)."""
    pred = normalize_answer(prediction)
    pred_tokens = pred.split()
    em = f1 = 0.0
    for reference in references:
        ref = normalize_answer(reference)
        em = max(em, float(pred == ref))
        f1 = max(f1, _f1_tokens(pred_tokens, ref.split()))
    return em, f1
