"""SQuAD v1.1-format JSON: ``{"data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}``.

Spoken SQuAD ships its transcripts in this format too. ``load_squad`` validates the structure and
names the file and the JSON path of the first problem (``data[3].paragraphs[5].qas[2]``).
Topic and paragraph indexes are positions in the file, as in Spoken SQuAD's wav names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from speechbert.errors import DataError
from speechbert.io.atomic import atomic_open

__all__ = ["Answer", "QA", "Paragraph", "Article", "load_squad", "iter_paragraphs", "write_squad",
           "squad_to_json"]


@dataclass
class Answer:
    text: str
    answer_start: int


@dataclass
class QA:
    id: str
    question: str
    answers: list[Answer]


@dataclass
class Paragraph:
    topic_index: int
    paragraph_index: int
    context: str
    qas: list[QA] = field(default_factory=list)

    @property
    def key(self) -> str:
        """``<TopicIndex>_<ParagraphIndex>``, the prefix of the paragraph's wav names."""
        return f"{self.topic_index}_{self.paragraph_index}"


@dataclass
class Article:
    title: str
    paragraphs: list[Paragraph]


def _expect(cond: bool, message: str, path: Path, where: str) -> None:
    if not cond:
        raise DataError(f"{where}: {message}", path)


def load_squad(path: str | Path, *, require_answers: bool = True) -> list[Article]:
    """Load and validate a SQuAD-format file.

    Args:
        path: the JSON file.
        require_answers: if True, every question needs at least one answer.

    Raises:
        DataError: for a missing or non-UTF-8 file, invalid JSON, a structural problem (with its
            JSON path), or a question id used twice.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"not valid UTF-8 ({e.reason} at byte {e.start})", path) from None
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON: {e.msg}", path, e.lineno) from None
    _expect(isinstance(doc, dict) and isinstance(doc.get("data"), list),
            "expected an object with a 'data' list", path, "top level")
    seen: dict[str, str] = {}
    articles = []
    for t, art in enumerate(doc["data"]):
        where = f"data[{t}]"
        _expect(isinstance(art, dict) and isinstance(art.get("paragraphs"), list),
                "expected an object with a 'paragraphs' list", path, where)
        paragraphs = []
        for p, par in enumerate(art["paragraphs"]):
            pwhere = f"{where}.paragraphs[{p}]"
            _expect(isinstance(par, dict) and isinstance(par.get("context"), str),
                    "expected an object with a string 'context'", path, pwhere)
            qas_raw = par.get("qas", [])
            _expect(isinstance(qas_raw, list), "'qas' must be a list", path, pwhere)
            qas = []
            for k, qa in enumerate(qas_raw):
                qwhere = f"{pwhere}.qas[{k}]"
                _expect(isinstance(qa, dict) and isinstance(qa.get("id"), str) and qa["id"]
                        and isinstance(qa.get("question"), str),
                        "expected an object with string 'id' and 'question'", path, qwhere)
                if qa["id"] in seen:
                    raise DataError(f"{qwhere}: duplicate question id {qa['id']!r} "
                                    f"(first at {seen[qa['id']]})", path)
                seen[qa["id"]] = qwhere
                answers_raw = qa.get("answers", [])
                _expect(isinstance(answers_raw, list), "'answers' must be a list", path, qwhere)
                _expect(bool(answers_raw) or not require_answers, "question has no answers", path, qwhere)
                answers = []
                for j, a in enumerate(answers_raw):
                    awhere = f"{qwhere}.answers[{j}]"
                    _expect(isinstance(a, dict) and isinstance(a.get("text"), str)
                            and isinstance(a.get("answer_start"), int)
                            and not isinstance(a.get("answer_start"), bool) and a["answer_start"] >= 0,
                            "expected 'text' (string) and 'answer_start' (non-negative integer)",
                            path, awhere)
                    answers.append(Answer(a["text"], a["answer_start"]))
                qas.append(QA(qa["id"], qa["question"], answers))
            paragraphs.append(Paragraph(t, p, par["context"], qas))
        articles.append(Article(str(art.get("title", "")), paragraphs))
    return articles


def iter_paragraphs(articles: Sequence[Article]) -> Iterator[Paragraph]:
    """Every paragraph in file order."""
    for art in articles:
        yield from art.paragraphs


def squad_to_json(articles: Sequence[Article], version: str = "1.1", **extra: Any) -> dict:
    """The JSON document of ``articles``; ``extra`` adds top-level keys."""
    doc: dict[str, Any] = {
        "data": [
            {"title": art.title,
             "paragraphs": [
                 {"context": par.context,
                  "qas": [{"answers": [{"answer_start": a.answer_start, "text": a.text} for a in qa.answers],
                           "question": qa.question, "id": qa.id} for qa in par.qas]}
                 for par in art.paragraphs]}
            for art in articles],
        "version": version,
    }
    doc.update(extra)
    return doc


def write_squad(path: str | Path, articles: Sequence[Article], version: str = "1.1", **extra: Any) -> None:
    """Write ``articles`` as SQuAD JSON, atomically."""
    with atomic_open(path) as f:
        json.dump(squad_to_json(articles, version, **extra), f, ensure_ascii=False)
        f.write("\n")
