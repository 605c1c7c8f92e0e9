"""Open questions: the passages that best answer them, a place or two quoted each."""
from __future__ import annotations

import re

from service.answer.citing import QUOTES_PER_PLACE, group_of
from service.answer.evidence import Evidence, best_evidence, make_topic
from service.answer.facts import issuers_of
from service.answer.questions import mentioned_issuers, strip_names
from service.answer.records import Group
from service.answer.verifier import asks_about_plans
from service.answer.which import decide_places, decision_quotes
from service.answer.wording import short_clause
from service.search import Filters, Hit, Searcher

# What a how-question adds to its topic: 「…是怎么做的」「如何…」「有哪些做法」.
_HOW_WORDS = re.compile(r"是?(?:怎么|怎样|如何)(?:做|开展|推进|落实|推行|办|实施)?的?|有(?:哪些|什么)(?:做法|举措|措施|经验)|具体|呢|吗")


def answer_place_by_meaning(searcher: Searcher, question: str, place: str, filters: Filters) -> tuple[str, list[Group]]:
    """One named place's best sentences by meaning, when its report words the topic otherwise.

    「坦洲镇请了律师给老百姓免费咨询是怎么做的？」: no sentence of 坦洲镇 repeats those words, but
    the which-engine's scan of that one report finds the sentences that say it.
    """
    topic = _HOW_WORDS.sub(" ", strip_names(question, [place]))
    topic = re.sub(r"[？?。！!\s]+", " ", topic).strip()
    if len(re.sub(r"\W", "", topic)) < 2:
        return ("没有在报告中找到相关内容。", [])
    decisions = decide_places(searcher, topic, Filters(**{**filters.to_dict(), "issuer": place}), asks_about_plans(question))
    if not decisions:
        return ("没有在报告中找到相关内容。", [])
    group = group_of(searcher, decisions[0].doc_id, decision_quotes(decisions[0]), 1)
    return (f"{group.issuer}：{short_clause(group.citations[0].quote, []).rstrip('。；;，,')}[1]", [group])


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

