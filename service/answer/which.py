"""Which-questions: every report of the scope decided on its own sentences, listed with quotes.

With sentence vectors in the index, a report is decided by meaning (meaning.py scans, the
verifier decides); an index built before them falls back to the lexical engine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from indexer.normalize import normalize
from service.answer.citing import QUOTES_PER_PLACE, number_groups
from service.answer.evidence import Evidence
from service.answer.lexical_which import lexical_places
from service.answer.meaning import SentenceEvidence, scan
from service.answer.questions import level_asked, which_topic_text, without_year, year_named
from service.answer.records import Group
from service.answer.verifier import Verifier, asks_about_plans, may_show
from service.search import Filters, Searcher, level_known

QUOTE_MARGIN = 1.0  # a second quote scores within this of the report's best sentence


@dataclass(frozen=True)
class PlaceDecision:
    """One report's verdict: its score, whether it is listed, its best sentences."""

    doc_id: str
    score: float
    listed: bool
    sentences: tuple[tuple[float, SentenceEvidence], ...]


@lru_cache(maxsize=1)
def default_verifier() -> Verifier:
    return Verifier.load()


def decide_places(searcher: Searcher, topic_text: str, filters: Filters, plans_count: bool,
                  verifier: Verifier | None = None) -> list[PlaceDecision]:
    """Every report the scan found a candidate in, best first, each decided."""
    verifier = verifier or default_verifier()
    vector = searcher.query_vector(normalize(topic_text).text)
    found = scan(searcher, topic_text, searcher.mask(filters), vector)
    per_doc: dict[str, list[tuple[float, SentenceEvidence]]] = {}
    for evidence in found.evidence:
        if may_show(evidence.label, plans_count):
            per_doc.setdefault(evidence.doc_id, []).append((verifier.score(evidence), evidence))
    if not per_doc:
        return []
    for scored in per_doc.values():
        scored.sort(key=lambda pe: (-pe[0], pe[1].ref.row, pe[1].ref.index))
    best = max(scored[0][0] for scored in per_doc.values())
    decisions = [
        PlaceDecision(doc_id, scored[0][0], verifier.accepts(scored[0][0], best), tuple(scored[:QUOTES_PER_PLACE * 2]))
        for doc_id, scored in per_doc.items()
    ]
    decisions.sort(key=lambda d: (-d.score, d.doc_id))
    return decisions


def meaning_places(searcher: Searcher, topic_text: str, filters: Filters, plans_count: bool,
                   verifier: Verifier | None = None) -> list[tuple[str, list[Evidence]]]:
    """(doc_id, one or two quotes) of every report the verifier accepts."""
    verifier = verifier or default_verifier()
    # A second quote must show the practice on its own: above the floor a report is listed on
    # (「行政诉讼案件发案8件」 is no quote for 帮小哥维权).
    return [(d.doc_id, decision_quotes(d, verifier.floor))
            for d in decide_places(searcher, topic_text, filters, plans_count, verifier) if d.listed]


def decision_quotes(decision: PlaceDecision, floor: float = float("-inf")) -> list[Evidence]:
    """A report's best sentence and up to QUOTES_PER_PLACE - 1 more within QUOTE_MARGIN of it and at
    least `floor`, as quotes."""
    top = decision.sentences[0][0]
    return [Evidence(e.ref, e.coverage, e.matched, p) for p, e in decision.sentences
            if p >= top - QUOTE_MARGIN and (p == top or p >= floor)][:QUOTES_PER_PLACE]


def find_places(searcher: Searcher, topic_text: str, filters: Filters,
                plans_count: bool) -> list[tuple[str, list[Evidence]]]:
    """Reports shown by meaning, then those whose sentences repeat the question's own terms.

    The lexical engine is sound where the question uses the reports' words (a quoted name,
    a distinctive term); meaning finds the rest. An index without sentence vectors has only
    the lexical engine.
    """
    lexical = lexical_places(searcher, topic_text, filters, plans_count)
    if searcher.sentences is None:
        return lexical
    places = meaning_places(searcher, topic_text, filters, plans_count)
    listed = {doc_id for doc_id, _ in places}
    return places + [(doc_id, quotes) for doc_id, quotes in lexical if doc_id not in listed]


def scope_count(searcher: Searcher, filters: Filters) -> int:
    """How many reports the filters allow (those with a chunk the filters let through)."""
    if filters.is_empty():
        return len(searcher.reports)
    mask = searcher.mask(filters)
    return len(np.unique(searcher.chunks.doc_rows[mask])) if mask is not None else 0


def scope_text(searcher: Searcher, filters: Filters, excluded: int = 0) -> str:
    """The reports a which-answer looked at, in words."""
    if filters.is_empty():
        text = f"已收录的 {scope_count(searcher, filters)} 份报告"
    else:
        described = "、".join(str(v) for v in filters.to_dict().values())
        text = f"符合条件（{described}）的 {scope_count(searcher, filters)} 份报告"
    return text + (f"（已除去前面提到的 {excluded} 个地方）" if excluded else "")


def scope_of_question(searcher: Searcher, question: str, filters: Filters, level: str) -> tuple[Filters, str]:
    """(filters with the level and the year the question names, a refusal or '').

    Reports are filed under the year they report on; a question about plans for a year
    (「2025年打算…」) is answered by the reports on the year before, which hold those plans.
    """
    values = searcher.filter_values()
    if level and not filters.level:
        if not level_known(level, values["level"]):
            return filters, f"已收录的报告中没有{level}一级的报告。"
        filters = replace(filters, level=level)
    year = year_named(question)
    if year and filters.year is None:
        if asks_about_plans(question):
            if year - 1 in values["year"]:
                filters = replace(filters, year=year - 1)
        elif year in values["year"]:
            filters = replace(filters, year=year)
        else:
            known = "、".join(str(y) for y in values["year"][-6:])
            return filters, f"已收录的报告中没有{year}年的报告（已有{known}年的）。"
    return filters, ""


def practice_text(question: str) -> str:
    """The practice a which-question asks about, as it is scanned for: without the which-phrase and the year."""
    return without_year(which_topic_text(question))


def which_scope(searcher: Searcher, question: str, filters: Filters) -> tuple[Filters, str, str]:
    """(filters with the level and year the question names, the practice asked about, a refusal or '')."""
    filters, refusal = scope_of_question(searcher, question, filters, level_asked(question))
    if refusal:
        return filters, "", refusal
    topic_text = practice_text(question)
    if not re.sub(r"\W", "", topic_text):
        return filters, "", "问题里没有可以查找的做法，请说明要找的具体做法。"
    return filters, topic_text, ""


def shown_topic(topic_text: str) -> str:
    """The practice as the answer names it: no quotes, no particle left from the which-phrase
    (「哪些地方的领导去法院出庭应诉了」 -> 「领导去法院出庭应诉了」)."""
    text = re.sub(r"[“”\"「」『』‘’]", "", topic_text).strip()
    return re.sub(r"^的+(?=.{2})", "", text)


def answer_which(searcher: Searcher, question: str, filters: Filters,
                 exclude: tuple[str, ...] = ()) -> tuple[str, list[Group], Filters]:
    """The short answer, the groups (one per place) and the filters actually applied."""
    filters, topic_text, refusal = which_scope(searcher, question, filters)
    if refusal:
        return refusal, [], filters
    places = find_places(searcher, topic_text, filters, asks_about_plans(question))
    if exclude:
        places = [(d, e) for d, e in places if searcher.meta(d)["issuer"] not in exclude]
    groups = number_groups(searcher, places)
    scope = scope_text(searcher, filters, len(exclude))
    shown = shown_topic(topic_text)
    if not groups:
        return (f"在{scope}中，没有找到做过“{shown}”的地方。", [], filters)
    names = "、".join(f"{g.issuer or g.title}[{g.citations[0].n}]" for g in groups)
    did = "在下一步安排中写了" if asks_about_plans(question) else "做过"
    return (f"在{scope}中，共有 {len(groups)} 个地方{did}“{shown}”：{names}。", groups, filters)
