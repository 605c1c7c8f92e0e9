"""Fact questions: a figure, date or name for a place, from the sentence that states it."""
from __future__ import annotations

from dataclasses import replace

from service.answer.citing import group_of
from service.answer.evidence import Evidence, best_evidence, has_number, make_topic
from service.answer.questions import mentioned_issuers, strip_names
from service.answer.records import Group
from service.answer.wording import short_clause
from service.search import Filters, Searcher


def issuers_of(searcher: Searcher) -> list[str]:
    return [meta["issuer"] for meta in searcher.metas().values() if meta["issuer"]]


def answer_fact(searcher: Searcher, question: str, filters: Filters) -> tuple[str, list[Group]]:
    """The answer naming each place's figure, one quote each; no quote, no figure."""
    issuers = mentioned_issuers(issuers_of(searcher), question)
    topic = make_topic(searcher, strip_names(question, issuers))
    wants_number = True
    answers: list[tuple[str, list[Evidence]]] = []
    targets = issuers or [""]
    for issuer in targets:
        scoped = replace(filters, issuer=issuer) if issuer else filters
        rows = [searcher.row_of(h.chunk.chunk_id) for h in
                searcher.search(question, k=8, filters=scoped)]
        evidence = best_evidence(searcher, topic, rows)
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
        doc_id = searcher.chunks.doc_id(evidences[0].sentence.row)
        group = group_of(searcher, doc_id, evidences, n)
        groups.append(group)
        quote = group.citations[0].quote
        parts.append(f"{group.issuer}：{short_clause(quote, [t for t, _ in topic.terms]).rstrip('。；;，,')}[{n}]")
        n += len(evidences)
    return ("；".join(parts) + "。", groups)
