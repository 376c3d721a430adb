"""Seeded generator of the mini corpus: SQuAD-format passages about invented entities.

A passage is about one town, person or organisation: an introduction sentence, then 2-5 fact
sentences in random order, drawn from the templates in ``mini_corpus_templates.txt`` and filled
from the word pools in ``mini_corpus_pools.json``. Values of one type (years, people, numbers,
colours, months, places, ...) are distinct within a passage, so every question has same-type
distractors beside its answer, and since the fact order varies, the answer's position says
little. Each passage gets 2-4 extractive questions (who / what / where / when / how many /
which colour ...), phrased by one of several paraphrases. A question is only asked if its
answer occurs once in the passage and not in the question.

The text is written the way SQuAD is (digits, commas, ``$``, ``%``, capitals); the importer
normalizes it like any SQuAD text.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable

from speechbert.io.squad_json import QA, Answer, Article, Paragraph
from speechbert.text.normalize import normalize_text

__all__ = ["Template", "load_templates", "load_pools", "generate_passage", "generate_split",
           "generate_mini_corpus", "MINI_SIZES"]

#: Passages per split at --size 1 (train, dev, test).
MINI_SIZES = {"train": 200, "dev": 100, "test": 210}
PARAGRAPHS_PER_ARTICLE = 10

_SLOT = re.compile(r"\{([a-z]+)(\d*)\}")
_ORG_KINDS = ["trading company", "charity", "craft guild", "learned society", "shipping firm",
              "workers' union", "publishing house", "family business"]


@dataclass
class Template:
    """One sentence template and its questions: ``{answer slot: [question paraphrases]}``."""

    sentence: str
    questions: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class KindTemplates:
    intros: list[Template] = field(default_factory=list)
    facts: list[Template] = field(default_factory=list)


def load_templates(text: str | None = None) -> dict[str, KindTemplates]:
    """Parse the template file (the packaged one by default).

    Raises:
        ValueError: naming the line of a malformed template.
    """
    if text is None:
        text = resources.files("speechbert.synth").joinpath("mini_corpus_templates.txt").read_text("utf-8")
    kinds: dict[str, KindTemplates] = {}
    current: Template | None = None
    kind: KindTemplates | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("== "):
            kind = kinds.setdefault(line[3:].strip(), KindTemplates())
            current = None
            continue
        tag, _, body = line.partition(" ")
        if kind is None or tag not in ("I", "S", "Q"):
            raise ValueError(f"template line {lineno}: expected '== kind', 'I ...', 'S ...' or 'Q ... = slot'")
        if tag in ("I", "S"):
            current = Template(body)
            (kind.intros if tag == "I" else kind.facts).append(current)
            continue
        question, sep, slot = body.rpartition("=")
        slot = slot.strip()
        if current is None or not sep or "{" + slot + "}" not in current.sentence:
            raise ValueError(f"template line {lineno}: a question needs '= <slot>' naming a slot of its sentence")
        current.questions.setdefault(slot, []).append(question.strip())
    return kinds


def load_pools() -> dict[str, list[str]]:
    """The packaged word pools."""
    text = resources.files("speechbert.synth").joinpath("mini_corpus_pools.json").read_text("utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


class _Values:
    """Slot values of one passage: drawn on first use, distinct within each slot type."""

    def __init__(self, rng: random.Random, pools: dict[str, list[str]]) -> None:
        self.rng = rng
        self.pools = pools
        self.values: dict[str, str] = {}
        self.used: dict[str, set[str]] = {}
        years = sorted(rng.sample(range(1700, 2016), 6))
        self._years = iter(years)  # year1 < year2 < ...: events keep a plausible order

    def get(self, slot: str) -> str:
        if slot not in self.values:
            kind = _SLOT.fullmatch("{" + slot + "}").group(1)
            used = self.used.setdefault(kind, set())
            for _ in range(1000):
                value = self._draw(kind)
                if value not in used:
                    break
            else:  # pragma: no cover - the pools are far larger than a passage needs
                raise RuntimeError(f"cannot draw a distinct {kind}")
            used.add(value)
            self.values[slot] = value
        return self.values[slot]

    def _draw(self, kind: str) -> str:
        rng, p = self.rng, self.pools
        if kind == "year":
            return str(next(self._years, rng.randrange(1700, 2016)))
        if kind == "town":
            return rng.choice(p["place_heads"]) + rng.choice(p["place_tails"])
        if kind == "person":
            return f"{rng.choice(p['first_names'])} {rng.choice(p['surnames'])}"
        if kind == "org":
            return f"{rng.choice(p['org_adjectives'])} {rng.choice(p['org_nouns'])} {rng.choice(p['org_types'])}"
        if kind == "event":
            return f"{rng.choice(p['event_names'])} {rng.choice(p['event_types'])}"
        if kind == "num":
            n = rng.choice([rng.randint(3, 99), rng.randint(100, 999), rng.randint(1000, 9999)])
            return f"{n:,}" if n >= 1000 and rng.random() < 0.6 else str(n)
        if kind == "span":
            return str(rng.randint(2, 40))
        if kind == "age":
            return str(rng.randint(40, 98))
        if kind == "pct":
            return f"{rng.randint(5, 95)}%"
        if kind == "money":
            n = rng.choice([rng.randint(20, 999), rng.randint(1, 90) * 1000])
            return f"${n:,}"
        if kind == "orgkind":
            return rng.choice(_ORG_KINDS)
        pool = {"colour": "colours", "month": "months", "river": "rivers", "profession": "professions",
                "building": "buildings", "product": "products", "animal": "animals",
                "instrument": "instruments"}.get(kind)
        if pool is None:
            raise ValueError(f"no pool for slot type {kind!r}")
        return rng.choice(p[pool])


def _fill(template: str, values: _Values) -> tuple[str, dict[str, int]]:
    """The filled sentence and the offset of each slot's first occurrence in it."""
    out, offsets, pos = [], {}, 0
    for m in _SLOT.finditer(template):
        out.append(template[pos:m.start()])
        slot = m.group(0)[1:-1]
        value = values.get(slot)
        offsets.setdefault(slot, sum(len(x) for x in out))
        out.append(value)
        pos = m.end()
    out.append(template[pos:])
    sentence = "".join(out)
    # "a owl" -> "an owl": each fix moves the slots after it one character to the right
    fixed = [m.start() for m in re.finditer(r"\ba (?=[aeiouAEIOU])", sentence)]
    for start in reversed(fixed):
        sentence = sentence[:start] + "an " + sentence[start + 2:]
    offsets = {slot: off + sum(1 for f in fixed if f < off) for slot, off in offsets.items()}
    return sentence[0].upper() + sentence[1:], offsets


def _fill_question(question: str, values: _Values) -> str:
    text = _SLOT.sub(lambda m: values.get(m.group(0)[1:-1]), question)
    return text[0].upper() + text[1:]


def _count_phrase(passage: str, phrase: str) -> int:
    return len(re.findall(r"(?<![\w$])" + re.escape(phrase) + r"(?![\w])", passage))


def generate_passage(rng: random.Random, kinds: dict[str, KindTemplates], pools: dict[str, list[str]],
                     next_id: Callable[[], str]) -> tuple[str, list[QA]]:
    """One passage and its questions."""
    kind = kinds[rng.choice(sorted(kinds))]
    values = _Values(rng, pools)
    n_facts = rng.randint(2, min(5, len(kind.facts)))
    chosen = [rng.choice(kind.intros)] + rng.sample(kind.facts, n_facts)
    sentences, starts, slot_pos = [], [], {}
    pos = 0
    for template in chosen:
        sentence, offsets = _fill(template.sentence, values)
        for slot, off in offsets.items():
            slot_pos.setdefault(slot, pos + off)
        sentences.append(sentence)
        starts.append(pos)
        pos += len(sentence) + 1
    passage = " ".join(sentences)
    candidates = [(slot, paraphrases) for t in chosen for slot, paraphrases in t.questions.items()]
    rng.shuffle(candidates)
    n_questions = rng.choice([2, 3, 3, 3, 4])
    qas: list[QA] = []
    asked: set[str] = set()
    for slot, paraphrases in candidates:
        if len(qas) >= n_questions:
            break
        if slot in asked:
            continue
        answer = values.get(slot)
        question = _fill_question(rng.choice(paraphrases), values)
        if (_count_phrase(passage, answer) != 1
                or f" {normalize_text(answer)} " in f" {normalize_text(question)} "):
            continue
        start = slot_pos[slot]
        assert passage[start:start + len(answer)] == answer
        qas.append(QA(next_id(), question + ("" if question.endswith("?") else "?"), [Answer(answer, start)]))
        asked.add(slot)
    return passage, qas


def generate_split(n_passages: int, rng: random.Random, first_topic: int = 0,
                   next_id: Callable[[], str] | None = None,
                   kinds: dict[str, KindTemplates] | None = None,
                   pools: dict[str, list[str]] | None = None, title: str = "mini") -> list[Article]:
    """``n_passages`` passages grouped into articles of ``PARAGRAPHS_PER_ARTICLE``."""
    kinds = kinds or load_templates()
    pools = pools or load_pools()
    if next_id is None:
        next_id = _id_maker(rng)
    articles: list[Article] = []
    for n in range(n_passages):
        if n % PARAGRAPHS_PER_ARTICLE == 0:
            articles.append(Article(f"{title}_{first_topic + len(articles)}", []))
        art = articles[-1]
        context, qas = generate_passage(rng, kinds, pools, next_id)
        art.paragraphs.append(Paragraph(len(articles) - 1, len(art.paragraphs), context, qas))
    return articles


def _id_maker(rng: random.Random) -> Callable[[], str]:
    seen: set[str] = set()

    def next_id() -> str:
        while True:
            qid = f"{rng.getrandbits(96):024x}"
            if qid not in seen:
                seen.add(qid)
                return qid

    return next_id


def generate_mini_corpus(size: float = 1.0, seed: int = 1) -> dict[str, list[Article]]:
    """Train, dev and test passages; sizes are ``MINI_SIZES`` scaled by ``size`` (at least 1)."""
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    rng = random.Random(seed)
    next_id = _id_maker(rng)
    kinds, pools = load_templates(), load_pools()
    return {split: generate_split(max(1, round(n * size)), rng, next_id=next_id, kinds=kinds, pools=pools,
                                  title=f"mini_{split}")
            for split, n in MINI_SIZES.items()}
