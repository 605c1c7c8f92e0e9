"""The records an answer is made of: citations, groups per issuer, the answer itself."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from service.search import Hit


@dataclass(frozen=True)
class Citation:
    """One quote, verbatim from the published report, with where it stands."""

    n: int
    chunk_id: str
    doc_id: str
    issuer: str
    title: str
    section: str
    quote: str
    start: int
    end: int
    url: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Group:
    """The evidence one issuer's report gives."""

    issuer: str
    level: str
    region: str
    year: int | None
    doc_id: str
    title: str
    score: float
    citations: tuple[Citation, ...]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        data["citations"] = [c.to_dict() for c in self.citations]
        return data


@dataclass(frozen=True)
class Answer:
    """A short answer with [n] markers, the groups behind it and every citation numbered."""

    question: str
    resolved_question: str
    kind: str
    answer: str
    groups: tuple[Group, ...]
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...] = ()
    filters: dict = field(default_factory=dict)
    generated: bool = False
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "resolved_question": self.resolved_question,
            "kind": self.kind,
            "answer": self.answer,
            "groups": [g.to_dict() for g in self.groups],
            "citations": [c.to_dict() for c in self.citations],
            "results": [h.to_dict() for h in self.hits],
            "filters": self.filters,
            "generated": self.generated,
            "notes": list(self.notes),
        }
