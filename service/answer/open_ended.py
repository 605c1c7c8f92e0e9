"""Open questions: the passages that best answer them, a place or two quoted each."""
from __future__ import annotations

from service.answer.citing import QUOTES_PER_PLACE, group_of
from service.answer.evidence import Evidence, best_evidence, make_topic
from service.answer.facts import issuers_of
from service.answer.questions import mentioned_issuers, strip_names
from service.answer.records import Group
from service.answer.wording import short_clause
from service.search import Hit, Searcher



def answer_open(searcher: Searcher, question: str, hits: list[Hit]) -> tuple[str, list[Group]]:
    """Up to four places, each with its best quotes among the top hits."""
    issuers = mentioned_issuers(issuers_of(searcher), question)
    topic = make_topic(searcher, strip_names(question, issuers))
    rows = [searcher.row_of(h.chunk.chunk_id) for h in hits[:6]]
    evidence = best_evidence(searcher, topic, rows)
    per_doc: dict[str, list[Evidence]] = {}
    for e in evidence:
        doc_id = searcher.chunks.doc_id(e.sentence.row)
        quotes = per_doc.setdefault(doc_id, [])
        if len(quotes) < QUOTES_PER_PLACE:
            quotes.append(e)
    if not per_doc:
        return ("没有在报告中找到相关内容。", [])
    order = sorted(per_doc, key=lambda d: -per_doc[d][0].score)[:4]
    groups = []
    n = 1
    for doc_id in order:
        groups.append(group_of(searcher, doc_id, per_doc[doc_id], n))
        n += len(per_doc[doc_id])
    lines = [f"{g.issuer}：{short_clause(g.citations[0].quote, [t for t, _ in topic.terms])}[{g.citations[0].n}]" for g in groups]
    return ("；".join(lines), groups)

