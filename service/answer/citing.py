"""Evidence sentences turned into numbered citations and per-issuer groups, quoted verbatim."""
from __future__ import annotations

from service.answer.evidence import Evidence
from service.answer.records import Citation, Group
from service.search import Searcher

QUOTES_PER_PLACE = 2  # a place is shown with its best one or two sentences


def cite(searcher: Searcher, n: int, evidence: Evidence) -> Citation:
    """Citation number n: the evidence sentence as published, with its offsets and link."""
    chunk = searcher.chunks[evidence.sentence.row]
    meta = searcher.meta(chunk.doc_id)
    original = searcher.reports[chunk.doc_id]["original"]
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


def group_of(searcher: Searcher, doc_id: str, evidences: list[Evidence], first_n: int) -> Group:
    """One report's group, its citations numbered from first_n."""
    meta = searcher.meta(doc_id)
    citations = tuple(cite(searcher, first_n + i, e) for i, e in enumerate(evidences))
    return Group(
        issuer=meta["issuer"], level=meta["level"], region=meta["region"], year=meta["year"],
        doc_id=doc_id, title=meta["title"], score=evidences[0].score if evidences else 0.0,
        citations=citations,
    )


def number_groups(searcher: Searcher, per_doc: list[tuple[str, list[Evidence]]]) -> list[Group]:
    """Groups in the given order, citations numbered 1, 2, … across them."""
    groups, n = [], 1
    for doc_id, evidences in per_doc:
        groups.append(group_of(searcher, doc_id, evidences, n))
        n += len(evidences)
    return groups
