"""Plans questions: what a place says it will do next (「粤海街道明年打算做什么？」).

A report's part on the coming year (下一步安排, labelled when the index is built) is where a
place says what it plans. A question that names a place and asks about its plans is answered
from that part only: its lead sentences in reading order when the question names no topic,
or the sentences nearest the topic (「坦洲镇明年在普法上有什么打算？」) when it does. A report
without such a part says so instead of offering what it did this year as a plan.
"""
from __future__ import annotations

import re

import numpy as np

from indexer.normalize import normalize
from indexer.sections import LABEL_PLANS, label_for
from service.answer.citing import group_of
from service.answer.evidence import Evidence, SentenceRef, make_topic, score_sentence, sentence_table
from service.answer.questions import strip_names, which_topic_text
from service.answer.records import Group
from service.answer.standing import standings
from service.answer.verifier import asks_about_plans
from service.answer.which import scope_text, which_scope
from service.answer.wording import plain
from service.search import Filters, Searcher

QUOTES = 3  # sentences quoted per place
RELATED_STANDING = 2.5  # standard deviations above the report's mean cosine: the fact rescue's rule (standing.py)
MISSING_NAMED = 5  # places without plans named in an answer about every place's plans; more are counted
MIN_CHARS = 8  # a heading-like fragment shorter than this is not quoted alone
# What a plans question is made of besides its topic: the plan words, the question words.
_PLAN_SHAPE = re.compile(
    r"(?i)下一步|下一年度?|下阶段|明年|来年|今后|未来|接下来|将来|计划|打算|准备|规划|安排|设想|想法|思路|方向|重点|目标|拟|将要|想要|想|要|将"
    r"|做什么|干什么|做哪些|有什么|有哪些|有何|什么|哪些|怎么做|怎样做|如何|怎么|工作|方面|情况|上|在|的|了|呢|吗|还|会|有|和|与|对"
    r"|\b(?:plans?|planned|planning|intends?|will|going|next|coming|future|year|what|which|do|does|doing|are|is"
    r"|they|it|its|their|to|for|the|of|in|on|about|have|has)\b"
)


def plans_topic(question: str, places: list[str]) -> str:
    """The topic of a plans question, '' when it asks for the plans as a whole."""
    text = strip_names(question, places)
    text = _PLAN_SHAPE.sub(" ", text)
    text = re.sub(r"[\s？?。！!，,、；;：:“”\"「」]+", " ", text).strip()
    return text if len(re.sub(r"\W", "", text)) >= 2 else ""


def asks_for_plans_of(question: str, places: list[str]) -> bool:
    """Whether a question asks what named places plan (not which places plan something)."""
    return bool(places) and asks_about_plans(question)


# The items a plans part is usually written as: 「（一）强化队伍建设」「一是…」「1. …」.
_ITEM = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}是|\d{1,2}\s*[.、．])")


# A heading that names the plans (「…工作计划」「…主要安排」), though the part may hold the problems too.
_PLAN_HEADING = re.compile(r"(?:工作)?(?:计划|打算|安排|思路)$")


def _names_plans(heading: str) -> bool:
    return label_for(heading) == LABEL_PLANS or bool(_PLAN_HEADING.search(heading))


# Where the plans begin inside a part that joins them to the problems (「五、存在问题及2024年…
# 工作计划」): the first sentence that says what the place will do (「2024年，我区将…」「下一步，…」).
_PLANS_BEGIN = re.compile(r"(?:下一步|下一年度?|下阶段|今后|\d{4}年)[，,]?.{0,12}?(?:将|计划|拟)|^(?:下一步|下阶段)[，,]")


def _joined_plans(searcher: Searcher, doc_id: str) -> list[SentenceRef]:
    """The plan sentences of a part whose heading joins problems and plans, when the report has no plans part."""
    table = sentence_table(searcher)
    rows = [int(r) for r in searcher.chunks.rows_of_doc(doc_id)]
    joined = [r for r in rows if any(_names_plans(h) for h in searcher.chunks[r].section_path)]
    refs = sorted((ref for row in joined for ref in table.sentences(row)), key=lambda r: (r.start, r.end))
    headings = {plain(h).strip("。 ") for r in joined for h in searcher.chunks[r].section_path}
    begin = next((i for i, r in enumerate(refs) if _PLANS_BEGIN.search(r.text) and plain(r.text).strip("。 ") not in headings), None)
    return [] if begin is None else refs[begin:]



def plan_sentences(searcher: Searcher, doc_id: str) -> list[SentenceRef]:
    """The sentences of a report's plans part in reading order, without the part's own title."""
    table = sentence_table(searcher)
    rows = [int(r) for r in searcher.chunks.rows_of_doc(doc_id) if searcher.chunks.label(int(r)) == LABEL_PLANS]
    refs = [ref for row in rows for ref in table.sentences(row)] or _joined_plans(searcher, doc_id)
    kept = [r for r in refs if len(plain(r.text)) >= MIN_CHARS and not _is_heading(searcher, r)]
    return sorted(kept, key=lambda r: (r.start, r.end))


def _is_heading(searcher: Searcher, ref: SentenceRef) -> bool:
    """Whether a sentence is the title of its own part (「十三、下一年度推进法治政府建设主要安排」)."""
    text = plain(ref.text).strip("。 ")
    titled = len(text) <= 40 and not re.search(r"[。；;]", text) and label_for(text) == LABEL_PLANS
    return titled or any(
        text == plain(h).strip("。 ") and _names_plans(h) for h in searcher.chunks[ref.row].section_path
    )


def lead_items(refs: list[SentenceRef]) -> list[SentenceRef]:
    """The plans as the report lists them (its numbered items) when it numbers them, else its first sentences."""
    items = [r for r in refs if _ITEM.match(r.text)]
    return (items if len(items) >= 2 else refs)[:QUOTES]


def lead_clause(quote: str, limit: int = 60) -> str:
    """The opening of a quote, in clean Simplified Chinese, cut at a clause end near the limit."""
    text = plain(quote).rstrip("。；;，, ")
    if len(text) <= limit:
        return text
    cut = max(text.rfind(mark, 0, limit) for mark in "，,；;：:")
    return text[:cut] if cut >= limit // 3 else text[:limit] + "…"


def place_plans(searcher: Searcher, topic_text: str,
                places: list[tuple[str, str]]) -> tuple[list[Group], list[str], list[str]]:
    """Each place's plans (on the topic, when there is one) as a group, numbered across them; the places
    whose report has no plans part; and those whose plans say nothing on the topic."""
    groups: list[Group] = []
    missing: list[str] = []
    off_topic: list[str] = []
    n = 1
    for issuer, doc_id in places:
        refs = plan_sentences(searcher, doc_id) if doc_id else []
        if not refs:
            missing.append(issuer)
            continue
        if topic_text:
            chosen = sorted(_about(searcher, doc_id, refs, topic_text)[:QUOTES], key=lambda r: r.start)
            if not chosen:
                off_topic.append(issuer)
                continue
        else:
            chosen = lead_items(refs)
        groups.append(group_of(searcher, doc_id, [Evidence(r, 1.0, (), 1.0) for r in chosen], n))
        n += len(chosen)
    return groups, missing, off_topic


def _about(searcher: Searcher, doc_id: str, refs: list[SentenceRef], topic_text: str) -> list[SentenceRef]:
    """The plans sentences about a topic, nearest first (its terms' coverage plus meaning): those holding one
    of its terms, or standing out by meaning among all the report's sentences (as a fact's rescue does);
    none when the plans do not touch it."""
    topic = make_topic(searcher, topic_text, drop_single_chars=True)
    coverage = np.array([e.coverage if (e := score_sentence(topic, r.text)) is not None else 0.0 for r in refs])
    vector = searcher.query_vector(normalize(topic_text).text)
    closeness = coverage.copy()
    if searcher.sentences is not None and refs:
        sims = searcher.sentences.similarities(vector, searcher.sentences.ids_of(refs))
        closeness += np.where(np.isfinite(sims), sims, 0.0)
    table = sentence_table(searcher)
    everything = [ref for row in searcher.chunks.rows_of_doc(doc_id) for ref in table.sentences(int(row))]
    standing = standings(searcher, everything, vector) if everything else {}
    touches = [c > 0 or standing.get((r.row, r.index), 0.0) >= RELATED_STANDING for c, r in zip(coverage, refs)]
    return [refs[int(i)] for i in np.argsort(-closeness, kind="stable") if touches[int(i)]]


def answer_plans(searcher: Searcher, question: str, places: list[tuple[str, str]]) -> tuple[str, list[Group]]:
    """Each place's plans, quoted from its 下一步安排 part; places without one are said so."""
    topic_text = plans_topic(question, [issuer for issuer, _ in places])
    groups, missing, off_topic = place_plans(searcher, topic_text, places)
    about = f"（{topic_text}）" if topic_text else ""
    parts = [f"{g.issuer}的报告对下一步的安排{about}：" + "；".join(f"{lead_clause(c.quote)}[{c.n}]" for c in g.citations)
             for g in groups]
    text = "。".join(parts) + ("。" if parts else "")
    if off_topic:
        text += f"{'、'.join(off_topic)}的报告在下一步安排中没有写到“{topic_text}”。"
    if missing:
        text += f"{'、'.join(missing)}的报告没有写明下一步的安排。"
    return text, groups


def asks_for_plans_of_all(question: str) -> bool:
    """「哪些街道明年打算做什么？」: a which-question about plans that names no practice asks for every place's plans
    (「哪些地方明年要加强普法？」 names one, and is a which-question about plans)."""
    return asks_about_plans(question) and not plans_topic(which_topic_text(question), [])


def answer_plans_in_scope(searcher: Searcher, question: str, filters: Filters,
                          exclude: tuple[str, ...] = ()) -> tuple[str, list[Group], Filters]:
    """The plans of every place a which-question's scope holds (the level it names, the filters): the places
    with a plans part, each with its lead items, and how many reports have none."""
    filters, _, refusal = which_scope(searcher, question, filters)
    if refusal:
        return refusal, [], filters
    metas = searcher.metas()
    places = [(metas[d]["issuer"] or metas[d]["title"], d) for d in searcher.reports_matching(filters)
              if metas[d]["issuer"] not in exclude]
    groups, missing, _ = place_plans(searcher, "", places)
    scope = scope_text(searcher, filters, len(exclude))
    if not groups:
        return f"在{scope}中，没有报告写明下一步的安排。", [], filters
    names = "、".join(f"{g.issuer or g.title}[{g.citations[0].n}]" for g in groups)
    text = f"在{scope}中，{len(groups)} 个地方的报告写明了下一步的安排：{names}。"
    if missing:
        text += (f"{'、'.join(missing)}的报告没有写明。" if len(missing) <= MISSING_NAMED
                 else f"其余 {len(missing)} 份报告没有写明。")
    return text, groups, filters
