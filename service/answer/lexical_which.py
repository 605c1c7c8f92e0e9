"""The previous which-engine: places whose sentences repeat the question's own terms.

Kept as the baseline bench/quality.py prints beside the engine by meaning (which.py), and
as one of the signals that engine uses.
"""
from __future__ import annotations

import numpy as np

from service.answer.citing import QUOTES_PER_PLACE
from service.answer.evidence import Evidence, Topic, best_evidence, make_topic
from service.answer.verifier import may_show
from service.search import Filters, Searcher

WHICH_MIN_COVERAGE = 0.6
# Up to this many chunks a term's chunks are found as substrings (as the sentence scorer finds
# it); beyond, a scan of every text per term costs seconds, so a term that is a BM25 token is
# looked up in its postings (missing only chunks where it sits inside a longer word).
SUBSTRING_SCAN_CHUNKS = 50_000


def rows_with_term(searcher: Searcher, term: str) -> np.ndarray:
    """The chunks that hold a term: by substring, or from the BM25 postings at scale."""
    if len(searcher.chunks) > SUBSTRING_SCAN_CHUNKS and term in searcher.bm25.term_ids:
        return searcher.bm25.rows_with(term)
    return searcher.chunks.rows_containing(term)


def shows_topic(topic: Topic, evidence: Evidence) -> bool:
    """A sentence shows the topic when it holds most of its weight and enough distinct terms."""
    if topic.required:
        return True  # every quoted name is in the sentence (score_sentence checked)
    if evidence.coverage < WHICH_MIN_COVERAGE:
        return False
    matched = [t for t in evidence.matched if not any(t != o and t in o for o in evidence.matched)]
    return len(matched) >= topic.terms_needed()


def candidate_rows(searcher: Searcher, topic: Topic, mask: np.ndarray | None) -> np.ndarray:
    """Every chunk that could hold a sentence showing the topic (the whole corpus, not a top-k slice).

    A sentence shows the topic only with WHICH_MIN_COVERAGE of its term weight, so a chunk whose
    terms (found as substrings, as the sentence scorer finds them) weigh less cannot: this bound
    keeps the sentence scorer off the thousands of chunks that share one common word.
    """
    if topic.required:
        allowed = np.ones(len(searcher.chunks), dtype=bool)
        for name in topic.required:
            found = np.zeros(len(searcher.chunks), dtype=bool)
            found[searcher.chunks.rows_containing(name)] = True
            allowed &= found
    else:
        weight = np.zeros(len(searcher.chunks), dtype=np.float64)
        for term, w in topic.terms:
            weight[rows_with_term(searcher, term)] += w
        allowed = weight >= WHICH_MIN_COVERAGE * topic.total - 1e-9
    if mask is not None:
        allowed &= mask
    return np.flatnonzero(allowed)


def lexical_places(searcher: Searcher, topic_text: str, filters: Filters,
                   plans_count: bool = False, by_section: bool = True) -> list[tuple[str, list[Evidence]]]:
    """(doc_id, best quotes) of every report with a sentence that repeats the topic's terms.

    Where a sentence stands decides whether it can count (verifier.may_show). (`by_section=False`: the engine
    as it was before, for the benchmarks.)
    """
    topic = make_topic(searcher, topic_text, drop_single_chars=True)
    if not topic.terms and not topic.required:
        return []
    rows = candidate_rows(searcher, topic, searcher.mask(filters))
    per_doc: dict[str, list[Evidence]] = {}
    for evidence in best_evidence(searcher, topic, rows):
        if not shows_topic(topic, evidence):
            continue
        if by_section and not may_show(searcher.chunks.label(evidence.sentence.row), plans_count):
            continue
        doc_id = searcher.chunks.doc_id(evidence.sentence.row)
        quotes = per_doc.setdefault(doc_id, [])
        if len(quotes) < QUOTES_PER_PLACE and all(q.sentence.start != evidence.sentence.start for q in quotes):
            quotes.append(evidence)
    return sorted(per_doc.items(), key=lambda item: (-item[1][0].score, -len(item[1]), item[0]))
