"""Evidence sentences turned into numbered citations and per-issuer groups, quoted verbatim."""
from __future__ import annotations

from indexer.records import Chunk
from service.answer.evidence import Evidence
from service.answer.records import Citation, Group
from service.search import Searcher

QUOTES_PER_PLACE = 2  # a place is shown with its best one or two sentences


def cite(searcher: Searcher, n: int, evidence: Evidence, chunk: Chunk) -> Citation:
    """Citation number n: the evidence sentence of `chunk` as published, with its offsets and link.

    A chunk's text is its report's published text from chunk.start to chunk.end (indexer/chunking.py),
    so the quote is cut from the chunk, which the backend reads, without reading the whole report.
    """
    meta = searcher.meta(chunk.doc_id)
    start, end = evidence.sentence.start, evidence.sentence.end
    return Citation(
        n=n,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        issuer=meta["issuer"],
        title=meta["title"],
        section=" › ".join(chunk.section_path),
        quote=chunk.text[start - chunk.start:end - chunk.start],
        start=start,
        end=end,
        url=f"/reports/{chunk.doc_id}#q-{start}-{end}",
    )


def group_of(searcher: Searcher, doc_id: str, evidences: list[Evidence], first_n: int,
             chunks: list[Chunk] | None = None) -> Group:
    """One report's group, its citations numbered from first_n (`chunks`: its evidences' chunks, when read)."""
    meta = searcher.meta(doc_id)
    if chunks is None:
        chunks = searcher.backend.chunks([e.sentence.row for e in evidences])
    citations = tuple(cite(searcher, first_n + i, e, c) for i, (e, c) in enumerate(zip(evidences, chunks)))
    return Group(
        issuer=meta["issuer"], level=meta["level"], region=meta["region"], year=meta["year"],
        doc_id=doc_id, title=meta["title"], score=evidences[0].score if evidences else 0.0,
        citations=citations,
    )


def number_groups(searcher: Searcher, per_doc: list[tuple[str, list[Evidence]]]) -> list[Group]:
    """Groups in the given order, citations numbered 1, 2, … across them."""
    chunks = iter(searcher.backend.chunks([e.sentence.row for _, evidences in per_doc for e in evidences]))
    groups, n = [], 1
    for doc_id, evidences in per_doc:
        groups.append(group_of(searcher, doc_id, evidences, n, [next(chunks) for _ in evidences]))
        n += len(evidences)
    return groups
