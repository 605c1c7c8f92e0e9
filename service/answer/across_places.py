"""Fact questions over every place of a scope: 「各地的行政复议案件分别是多少？」, 「哪个街道的行政复议案件最多？」.

Researchers compare figures across places. Such a question names no place; every report of
the scope whose text holds the topic's most telling term (a figure counts only beside it) is
asked the same fact question (facts.py), and the answer lists each place
that states the figure with its quote, ordered by value for 最多 / 最少, and says how many
reports of the scope do not state it.
"""
from __future__ import annotations

import re
import numpy as np

from indexer.sections import LABEL_PLANS, LABEL_PROBLEMS
from service.answer.answer_types import AnswerType, Value, expected_type
from service.answer.facts import FactQuestion, Finding, fact_group, names_every_term, read_fact_question
from service.answer.questions import (
    level_of_places,
    superlative,
    superlative_word,
    which_topic_text,
    without_spread,
    without_superlative,
)
from service.answer.records import Group
from service.answer.verifier import asks_about_plans
from service.answer.which import scope_count, scope_of_question, scope_text
from service.search import Filters, Searcher

MAX_REPORTS = 200  # reports asked, the most relevant first; beyond it the answer says so
SHOWN_IN_TEXT = 12  # places named in the short answer (every place keeps its group)

_RATE_WORDS = re.compile(r"率|比例|占比|百分比|增速|增幅|降幅|涨幅|(?:增长|下降|提高|降低)(?=最)")
_AMOUNT_WORDS = re.compile(r"金额|资金|经费|投入|多少钱|元")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|[零〇一二两三四五六七八九十百千]+")


def answer_type_across(question: str) -> AnswerType:
    """The answer type; 「哪个地方的案件最多」 asks for a count though it says no 多少."""
    asked = expected_type(question)
    if asked is not None and asked.kind in ("count", "rate", "amount"):
        return asked
    if _RATE_WORDS.search(question):
        return AnswerType("rate", frozenset({"rate"}))
    if _AMOUNT_WORDS.search(question):
        return AnswerType("amount", frozenset({"amount"}))
    return AnswerType("count", frozenset({"count", "rate"}))


def _chinese_number(text: str) -> float | None:
    total, current = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[char]
            current = 0
        else:
            return None
    return float(total + current)


def numeric(value: Value) -> float | None:
    """The number a value states (「1298件」 1298, 「2.5万人次」 25000, 「九个」 9), None when it has none."""
    match = _NUMBER.search(value.text)
    if not match:
        return None
    digits = match.group(0)
    number = float(digits.replace(",", "")) if digits[0].isdigit() else _chinese_number(digits)
    if number is None:
        return None
    after = value.text[match.end(): match.end() + 1]
    return number * {"万": 1e4, "亿": 1e8, "千": 1e3}.get(after, 1.0)


_FILLER = re.compile(r"^[的在是对，,\s]+")


def figure_question(question: str) -> str:
    """The question as a fact question about one place: 「哪个地方的行政复议案件最多？」 -> 「行政复议案件是多少？」.

    The words that spread it over places or rank them are not its topic.
    """
    text, ranked = without_superlative(without_spread(which_topic_text(question)))
    text = _FILLER.sub("", re.sub(r"\s+", "", text))
    if ranked and not re.search(r"多少|几|是多少|数量|率|比例|金额", text):
        text += "是多少"
    return text + "？"


def candidate_docs(searcher: Searcher, term: str, filters: Filters) -> tuple[list[str], int, bool]:
    """(doc ids of the scope whose text holds `term`, those holding it most often first, at most
    MAX_REPORTS; how many reports the scope has; whether the list was cut)."""
    mask = searcher.mask(filters)
    doc_rows = searcher.chunks.doc_rows
    rows = searcher.chunks.rows_containing(term) if term else np.zeros(0, dtype=np.int64)
    if mask is not None:
        rows = rows[mask[rows]]
    counts = np.bincount(doc_rows[rows], minlength=len(searcher.chunks.doc_ids))
    order = [int(d) for d in np.argsort(-counts, kind="stable") if counts[d] > 0]
    return [searcher.chunks.doc_ids[d] for d in order[:MAX_REPORTS]], scope_count(searcher, filters), len(order) > MAX_REPORTS


def answer_across(searcher: Searcher, question: str, filters: Filters) -> tuple[str, list[Group], Filters]:
    """Every place of the scope that states the figure, with its quote; ordered by value for 最多/最少."""
    filters, refusal = scope_of_question(searcher, question, filters, level_of_places(question))
    if refusal:
        return refusal, [], filters
    fact = read_fact_question(searcher, figure_question(question), [], answer_type_across(question))
    scope = scope_text(searcher, filters)
    # No place is named, so a figure must be about the topic itself: its most telling term stands
    # whole by the value (「增加一名党委委员」 near 「执法复议」 and 「案件审理」 is no count of 行政复议案件);
    # only the reports holding that term can state it. Figures compared are what was done: a plan's
    # target (预期目标…增长5%左右) and a problem are not, unless the question asks about plans.
    rarest = fact.rarest_term()
    docs, in_scope, cut = candidate_docs(searcher, rarest, filters)
    left_out = frozenset({LABEL_PROBLEMS} | (set() if asks_about_plans(question) else {LABEL_PLANS}))
    found: list[tuple[str, Finding]] = [(d, f) for d in docs if (f := fact.find(searcher, d, rarest, left_out))
                                        and names_every_term(f, fact.terms)]
    if not found:
        return f"{scope}都没有写明{fact.phrase}。", [], filters
    order = superlative(question)
    if order:
        sign = -1.0 if order == "most" else 1.0
        values = {doc_id: numeric(finding.value) for doc_id, finding in found}
        found.sort(key=lambda pair: (values[pair[0]] is None, sign * (values[pair[0]] or 0.0)))
    groups, parts = [], []
    for n, (doc_id, finding) in enumerate(found, start=1):
        group, part = fact_group(searcher, doc_id, finding, n)
        groups.append(group)
        parts.append(part)
    shown = "；".join(parts[:SHOWN_IN_TEXT]) + (f"；等 {len(parts)} 个地方" if len(parts) > SHOWN_IN_TEXT else "")
    lead = f"在{scope}中，{len(found)} 个地方写明了{fact.phrase}"
    if order and len(found) > 1 and values[found[0][0]] is not None:
        lead += f"，{groups[0].issuer or groups[0].title}{superlative_word(question)}"
    text = f"{lead}：{shown}。"
    unstated = in_scope - len(found)
    if unstated:
        text += f"其余 {unstated} 份报告没有写明。"
    if cut:
        text += f"（只查看了最常提到“{rarest}”的 {MAX_REPORTS} 份报告。）"
    return text, groups, filters
