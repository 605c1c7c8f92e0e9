"""Which-questions: every report of the scope decided on its own sentences, listed with quotes."""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from service.answer.citing import number_groups
from service.answer.lexical_which import lexical_places
from service.answer.questions import level_asked, which_topic_text
from service.answer.records import Group
from service.search import Filters, Searcher


def scope_text(searcher: Searcher, filters: Filters, excluded: int = 0) -> str:
    """The reports a which-answer looked at, in words."""
    if filters.is_empty():
        text = f"已收录的 {len(searcher.reports)} 份报告"
    else:
        mask = searcher.mask(filters)
        count = len(np.unique(searcher.chunks.doc_rows[mask])) if mask is not None else 0
        described = "、".join(str(v) for v in filters.to_dict().values())
        text = f"符合条件（{described}）的 {count} 份报告"
    return text + (f"（已除去前面提到的 {excluded} 个地方）" if excluded else "")


def answer_which(searcher: Searcher, question: str, filters: Filters,
                 exclude: tuple[str, ...] = ()) -> tuple[str, list[Group], Filters]:
    """The short answer, the groups (one per place) and the filters actually applied."""
    level = level_asked(question)
    if level and not filters.level:
        if level not in searcher.filter_values()["level"]:
            return (f"已收录的报告中没有{level}一级的报告。", [], filters)
        filters = replace(filters, level=level)
    topic_text = which_topic_text(question)
    places = lexical_places(searcher, topic_text, filters)
    if exclude:
        places = [(d, e) for d, e in places if searcher.meta(d)["issuer"] not in exclude]
    groups = number_groups(searcher, places)
    scope = scope_text(searcher, filters, len(exclude))
    shown = re.sub(r"[“”\"「」『』‘’]", "", topic_text)
    if not groups:
        return (f"在{scope}中，没有找到明确提到“{shown}”的报告。", [], filters)
    names = "、".join(f"{g.issuer or g.title}[{g.citations[0].n}]" for g in groups)
    return (f"在{scope}中，共有 {len(groups)} 个地方提到“{shown}”：{names}。", groups, filters)
