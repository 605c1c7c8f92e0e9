"""Questions -> answers grouped by issuer, each claim cited with a sentence copied verbatim."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from service.evidence import (
    Evidence,
    Topic,
    best_evidence,
    has_number,
    head_term,
    make_topic,
)
from service.search import Filters, Hit, Searcher

KINDS = ("which", "fact", "open")
WHICH_MIN_COVERAGE = 0.6
QUOTES_PER_PLACE = 2
_WHICH = re.compile(
    r"(哪些|哪几个|哪个|哪几|有哪些|什么)(地方|街道|乡镇|镇街|镇|乡|区县|区|县|市|单位|地区|基层政府|政府)"
    r"|which\s+(places?|towns?|streets?|districts?|counties|county|subdistricts?)",
    re.IGNORECASE,
)
_LEVEL_WORDS = {"街道": "街道", "镇": "镇", "乡": "乡", "区": "区", "县": "县", "市": "市"}
_FACT = re.compile(r"多少|几[个次件宗人名家项条场户起]|几|是什么时候|何时|哪一年|比例|比率|[^效]率(是|为|达)?|排名|第几|数量|how many|how much|what (rate|share|number)", re.IGNORECASE)
_QUESTION_TAIL = re.compile(r"[？?。！!\s]+$")


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


def classify(question: str) -> str:
    """'which' for 哪些地方/街道…, 'fact' for a figure or date, 'open' otherwise."""
    if _WHICH.search(question):
        return "which"
    if _FACT.search(question):
        return "fact"
    return "open"


def level_asked(question: str) -> str:
    """The level a which-question names (哪些街道 -> 街道); '' for 哪些地方."""
    match = _WHICH.search(question)
    if not match or not match.group(2):
        return ""
    word = match.group(2)
    return _LEVEL_WORDS.get(word, "")


def which_topic_text(question: str) -> str:
    """The practice a which-question asks about: the question without its which-phrase."""
    return _QUESTION_TAIL.sub("", _WHICH.sub(" ", question)).strip()


def mentioned_issuers(searcher: Searcher, question: str) -> list[str]:
    """Issuers of the index named in a question, in full (翠苑街道) or short (翠苑)."""
    names = []
    for meta in searcher.metas().values():
        issuer = meta["issuer"]
        if not issuer or issuer in names:
            continue
        short = re.sub(r"(街道办事处|街道|镇|乡|区|县|市)$", "", issuer)
        if issuer in question or (len(short) >= 2 and short in question):
            names.append(issuer)
    return names


def strip_names(text: str, names: list[str]) -> str:
    for name in sorted(names, key=len, reverse=True):
        short = re.sub(r"(街道办事处|街道|镇|乡|区|县|市)$", "", name)
        text = text.replace(name, " ")
        if len(short) >= 2:
            text = text.replace(short, " ")
    return text


class Answerer:
    """Turns questions into answers over one Searcher."""

    def __init__(self, searcher: Searcher):
        self.searcher = searcher

    # -- citations -------------------------------------------------------------------------

    def _citation(self, n: int, evidence: Evidence) -> Citation:
        chunk = self.searcher.chunks[evidence.sentence.row]
        meta = self.searcher.meta(chunk.doc_id)
        original = self.searcher.reports[chunk.doc_id]["original"]
        start, end = evidence.sentence.start, evidence.sentence.end
        return Citation(
            n=n,
            chunk_id=chunk.chunk_id,
            doc_id=chunk.doc_id,
            issuer=meta["issuer"],
            title=meta["title"],
            section=" › ".join(chunk.section_path),
            quote=original[start:end],
            start=start,
            end=end,
            url=f"/reports/{chunk.doc_id}#q-{start}-{end}",
        )

    def _group(self, doc_id: str, evidences: list[Evidence], first_n: int) -> Group:
        meta = self.searcher.meta(doc_id)
        citations = tuple(self._citation(first_n + i, e) for i, e in enumerate(evidences))
        return Group(
            issuer=meta["issuer"], level=meta["level"], region=meta["region"], year=meta["year"],
            doc_id=doc_id, title=meta["title"], score=evidences[0].score if evidences else 0.0,
            citations=citations,
        )

    # -- which -----------------------------------------------------------------------------

    def _which(self, question: str, filters: Filters) -> tuple[str, list[Group]]:
        level = level_asked(question)
        if level and not filters.level:
            known_levels = self.searcher.filter_values()["level"]
            filters = replace(filters, level=level) if level in known_levels else filters
            if level not in known_levels:
                return (f"已收录的报告中没有{level}一级的报告。", [])
        topic_text = which_topic_text(question)
        topic = make_topic(self.searcher, topic_text, drop_single_chars=True)
        if not topic.terms and not topic.required:
            return ("问题里没有可以查找的做法，请说明要找的具体做法。", [])
        rows = self._candidate_rows(topic, topic_text, filters)
        per_doc: dict[str, list[Evidence]] = {}
        head = head_term(topic)
        for evidence in best_evidence(self.searcher, topic, rows):
            if not self._shows_topic(topic, evidence, head):
                continue
            doc_id = self.searcher.chunks.doc_id(evidence.sentence.row)
            quotes = per_doc.setdefault(doc_id, [])
            if len(quotes) < QUOTES_PER_PLACE and all(q.sentence.start != evidence.sentence.start for q in quotes):
                quotes.append(evidence)
        ranked = sorted(per_doc.items(), key=lambda item: (-item[1][0].score, -len(item[1]), item[0]))
        groups = []
        n = 1
        for doc_id, evidences in ranked:
            groups.append(self._group(doc_id, evidences, n))
            n += len(evidences)
        scope = self._scope_text(filters)
        shown = re.sub(r"[“”\"「」『』‘’]", "", topic_text)
        if not groups:
            return (f"在{scope}中，没有找到明确提到“{shown}”的报告。", [])
        names = "、".join(f"{g.issuer or g.title}[{g.citations[0].n}]" for g in groups)
        return (f"在{scope}中，共有 {len(groups)} 个地方提到“{shown}”：{names}。", groups)

    def _shows_topic(self, topic: Topic, evidence: Evidence, head: str) -> bool:
        if topic.required:
            return True  # every quoted name is in the sentence (score_sentence checked)
        if evidence.coverage < WHICH_MIN_COVERAGE:
            return False
        matched = [t for t in evidence.matched if not any(t != o and t in o for o in evidence.matched)]
        return len(matched) >= topic.terms_needed()

    def _candidate_rows(self, topic: Topic, topic_text: str, filters: Filters) -> np.ndarray:
        """Every chunk with any topic term (the whole corpus, not a top-k slice), allowed by the filters."""
        mask = self.searcher.mask(filters)
        scores = self.searcher.bm25.scores([t for t, _ in topic.terms] + list(topic.required))
        allowed = scores > 0
        for name in topic.required:
            allowed[self.searcher.chunks.rows_containing(name)] = True
        if mask is not None:
            allowed &= mask
        return np.flatnonzero(allowed)

    def _scope_text(self, filters: Filters) -> str:
        if filters.is_empty():
            return f"已收录的 {len(self.searcher.reports)} 份报告"
        mask = self.searcher.mask(filters)
        count = len(np.unique(self.searcher.chunks.doc_rows[mask])) if mask is not None else 0
        described = "、".join(str(v) for v in filters.to_dict().values())
        return f"符合条件（{described}）的 {count} 份报告"

    # -- fact and open ---------------------------------------------------------------------

    def _fact(self, question: str, filters: Filters, hits: list[Hit]) -> tuple[str, list[Group]]:
        issuers = mentioned_issuers(self.searcher, question)
        topic = make_topic(self.searcher, strip_names(question, issuers))
        wants_number = True
        answers: list[tuple[str, list[Evidence]]] = []
        targets = issuers or [""]
        for issuer in targets:
            scoped = replace(filters, issuer=issuer) if issuer else filters
            rows = [self.searcher.row_of(h.chunk.chunk_id) for h in
                    self.searcher.search(question, k=8, filters=scoped)]
            evidence = best_evidence(self.searcher, topic, rows)
            ranked = sorted(
                evidence,
                key=lambda e: (-(e.score + (0.3 if wants_number and has_number(e.sentence.text) else 0.0)
                                 - 0.02 * rows.index(e.sentence.row)),
                               e.sentence.row, e.sentence.index),
            )
            if ranked:
                answers.append((issuer, ranked[:1]))
        if not answers:
            return ("没有在报告中找到能回答这个问题的句子。", [])
        groups = []
        parts = []
        n = 1
        for issuer, evidences in answers:
            doc_id = self.searcher.chunks.doc_id(evidences[0].sentence.row)
            group = self._group(doc_id, evidences, n)
            groups.append(group)
            quote = group.citations[0].quote
            parts.append(f"{group.issuer}：{_clause(quote, topic).rstrip('。；;，,')}[{n}]")
            n += len(evidences)
        return ("；".join(parts) + "。", groups)

    def _open(self, question: str, hits: list[Hit]) -> tuple[str, list[Group]]:
        issuers = mentioned_issuers(self.searcher, question)
        topic = make_topic(self.searcher, strip_names(question, issuers))
        rows = [self.searcher.row_of(h.chunk.chunk_id) for h in hits[:6]]
        evidence = best_evidence(self.searcher, topic, rows)
        per_doc: dict[str, list[Evidence]] = {}
        for e in evidence:
            doc_id = self.searcher.chunks.doc_id(e.sentence.row)
            quotes = per_doc.setdefault(doc_id, [])
            if len(quotes) < QUOTES_PER_PLACE:
                quotes.append(e)
        if not per_doc:
            return ("没有在报告中找到相关内容。", [])
        order = sorted(per_doc, key=lambda d: -per_doc[d][0].score)[:4]
        groups = []
        n = 1
        for doc_id in order:
            groups.append(self._group(doc_id, per_doc[doc_id], n))
            n += len(per_doc[doc_id])
        lines = [f"{g.issuer}：{_clause(g.citations[0].quote, topic)}[{g.citations[0].n}]" for g in groups]
        return ("；".join(lines), groups)

    # -- entry point -----------------------------------------------------------------------

    def answer(self, question: str, filters: Filters | None = None, resolved: str | None = None) -> Answer:
        """Answer a (resolved) question; every number and quote comes from the reports."""
        filters = filters or Filters()
        resolved = resolved or question
        kind = classify(resolved)
        named = mentioned_issuers(self.searcher, resolved)
        if kind == "open" and len(named) == 1 and not filters.issuer:
            # 「海珠区如何化解矛盾纠纷？」 asks about 海珠区: its passages, not everyone's.
            filters = replace(filters, issuer=named[0])
        hits = self.searcher.search(resolved, k=10, filters=filters)
        if kind == "which":
            text, groups = self._which(resolved, filters)
        elif kind == "fact":
            text, groups = self._fact(resolved, filters, hits)
        else:
            text, groups = self._open(resolved, hits)
        citations = tuple(c for g in groups for c in g.citations)
        return Answer(question, resolved, kind, text, tuple(groups), citations, tuple(hits), filters.to_dict())


def _clause(quote: str, topic: Topic) -> str:
    """The clause of a quote that carries the topic (and its figure), for a short answer."""
    clauses = [c for c in re.split(r"(?<=[，,；;。])", quote) if c.strip()]
    if len(quote) <= 80 or len(clauses) <= 1:
        return quote.strip()
    terms = [t for t, _ in topic.terms]
    best = max(
        range(len(clauses)),
        key=lambda i: (sum(t in clauses[i] for t in terms) + (0.5 if has_number(clauses[i]) else 0), -i),
    )
    picked = "".join(clauses[max(0, best - 1) : best + 1]).strip()
    return picked.rstrip("，,；;")
