"""Fact questions: a typed value (count, rate, amount, date, name, list) for a place, from the sentence that states it.

A sentence answers only if it holds a value of the type asked for and the question's topic
terms stand close to that value (the value's clause and the one before it), or, where the
report words it otherwise, if the sentence stands out by meaning among the report's own
(standing.py); a rate must be the rate asked about (败诉率 is not 出庭应诉率).  When no
sentence of a report does, the answer says the report does not state it and cites nothing.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from indexer.normalize import normalize
from service.answer.answer_types import (
    AnswerType,
    Value,
    counts_case_noun,
    expected_type,
    find_values,
    noun_family,
)
from service.answer.citing import group_of
from service.answer.evidence import (
    Evidence,
    SentenceRef,
    Topic,
    make_topic,
    sentence_table,
)
from service.answer.questions import mentioned_issuers, strip_names
from service.answer.records import Group
from service.answer.romanized import in_latin_only
from service.answer.standing import standings
from service.answer.wording import plain
from service.search import Filters, Searcher

# Share of the topic's term weight that must stand near the value. Set on the dev split of
# bench/data/fact_cases.jsonl (0.5 let 案件 alone answer 行政复议案件; 0.7 lost paraphrases
# that add one word the report does not use, such as 下降 for 降幅).
MIN_COVERAGE = 0.6
# A sentence whose terms cover less (the report words it otherwise) still answers when it
# stands out by meaning among the report's sentences (standing.py): at least this many
# standard deviations above the report's mean, with at least this share of the topic near its
# value, and only when no sentence reaches MIN_COVERAGE. Both set on the dev split of
# bench/data/fact_cases.jsonl by bench/fact_eval.py --sweep.
RESCUE_STANDING = 2.5
RESCUE_COVERAGE = 0.2
# A question in no words of the reports (English) has no coverage to go by: the value's
# sentence must stand out by this much alone. Chosen on the dev split of
# bench/data/fact_cases_en.jsonl (1.5: 0.833 right / 0.5 told apart; 2.0: 0.667 / 1.0; 2.5: 0.167 / 1.0).
ENGLISH_STANDING = 2.0
# Said after such an answer: it rests on meaning alone, so the quote is the proof to check.
MEANING_ONLY_NOTE = "（问题不是用报告的用语写的，以上数值按语义找到，请以引文为准。）"
# How far back from a value its topic may start: the value's clause and the clauses before it,
# clauses starting no more than this many characters before it (「持续做好“12345”热线转件受理，
# 密切回应群众和社会关切，2023年累计受理答复各类转办案件246件」; 40 missed that one on dev).
ZONE_BACK = 60
# Share of a term's weight credited when only the sentence before the value's (same passage)
# holds it.
CONTEXT_CREDIT = 0.5
# Share of a dispute noun's weight (纠纷) credited by a count of 案件 beside its value.
CASE_NOUN_CREDIT = 0.5
# Share of its weight a one-character verb keeps (结 of 「结了多少件」): the reports say 结案 or
# 办结, so the character tells two figures of one sentence apart but is no topic alone.
VERB_SHARE = 0.5
# Places a question without a place name is tried on: the reports of the best hits.
PLACES_TRIED = 3
# Words that shape a fact question (the type, the unit, the direction of a change) rather
# than its topic.
FACT_GENERIC = frozenset(
    """
    多少 几 是 有 为 达 达到 共 共有 一共 总共 累计 全年 今年 当年 本年 现在 目前 如今 截至目前 迄今 至今 分别 具体 大约 约 左右 个 数 数量 人数 件数 次数 个数
    金额 总额 资金 经费 多少钱 万元 亿元 元 率 比例 比率 占比 百分之 百分比 多大 多高 多低 怎样 怎么样
    什么 什么时候 何时 哪一年 哪年 哪个 哪个月 哪天 哪一天 日期 时间 时候 几月 几号 叫 叫什么 名称 名字 谁 哪家 哪些 包括 包含 哪几项
    一起 共同 一同 分别 各自 主要 下降 下降了 降低 减少 提高 提升 上升 增长 增加 压缩 降了 升了 幅度 变化 了 的 吗 呢 年 月 日 报告 中 里 上 被 给 被
    件 宗 人 次 家 场 条 户 起 名 项 份 所 处 篇 期 批 类 位 例 场次 人次 小时
    """.split()
)
# What a question about the report itself (「报告是什么时候写的」) is made of: it is answered
# by the report's date line, not by a date inside the text.
REPORT_DATE_WORDS = frozenset("报告 写 写的 成文 落款 印发 发布 签发 出具 形成 完成 这份 份 年度 年度报告 撰写 发出".split())
_CLAUSE_BREAK = re.compile(r"[，,；;。：:！!？?\n]")
_RATE_WORD = re.compile(r"([\u4e00-\u9fff]{2})率")
# The year a fact question names, and the span of time it counts over (一年, 每年): neither is
# a topic word (「一年调解了多少纠纷」 asks about 调解 and 纠纷).
# 去年, 前年…: years counted from the asker's, not the report's.
_RELATIVE_YEAR = re.compile(r"大?前年|[两三]年前|上一?年度?|[今去明]年")
_YEAR_IN_QUESTION = re.compile(
    rf"\d{{4}}年度?|{_RELATIVE_YEAR.pattern}|全年|本年度?|(?:一|每一?|近一)年(?:来|中|里|内|间)?|年均|一整年")
_QUESTION_WORDS = re.compile(
    r"(是多少|有多少|为多少|达到?多少|多少|有几|几|是什么时候|什么时候|何时|哪一年|哪年|哪天|哪一天|什么时间|日期"
    r"|叫什么名字|叫什么|的名称是什么|名称是什么|是什么|有哪些|包括哪些|包含哪些|哪些|哪家|是谁|谁|分别|呢|吗)"
    r"(件|宗|个|人次|人|次|家|场次|场|条|户|起|名|项|份|万元|亿元|元)?"
)
# 「When was the Yuehai report written?」, 「What is the date of Haizhu's report?」
_REPORT_DATE_EN = re.compile(r"\breport\b.{0,20}\b(?:written|dated|signed|issued|published|released|completed)\b"
                             r"|\bdate\b.{0,20}\breport\b", re.IGNORECASE)
# How the answer names what an English question asked for, by its answer type.
_KIND_WORDS = {"count": "数量", "rate": "比率", "amount": "金额", "date": "时间", "name": "名称", "list": "事项"}
_DATE_LINE = re.compile(r"\s*(?:\d{4}|[零〇一二三四五六七八九]{4})年[\d一二三四五六七八九十]{1,3}月[\d一二三四五六七八九十]{1,3}日\s*")


@dataclass(frozen=True)
class Finding:
    """A sentence that answers a fact question: the value it holds and how well the topic sits by it."""

    sentence: SentenceRef
    value: Value
    coverage: float
    near: float  # coverage within the value's own clause (preferred over the clause before)
    distance: int  # characters between the value and the nearest topic term
    zone: str  # the clause(s) holding the topic and the value, normalised


def issuers_of(searcher: Searcher) -> list[str]:
    return [meta["issuer"] for meta in searcher.metas().values() if meta["issuer"]]


def topic_text(question: str, issuers: list[str]) -> str:
    """The question without its places, its year and its question words: 「行政诉讼败诉率」.

    A one-character verb and its one-character object split by the question words (「立了多少件案」)
    are the word they form (立案): alone, each is too short to be a term.
    """
    text = strip_names(question, issuers)
    text = _YEAR_IN_QUESTION.sub(" ", text)
    text = _QUESTION_WORDS.sub(" ", text)
    text = re.sub(r"[？?。！!，,\s]+", " ", text).strip()
    return _SPLIT_VERB_OBJECT.sub(r"\1\2", text)


# 「立了 案」, 「结了 案」: a single verb, its aspect particle, a single object standing alone.
_SPLIT_VERB_OBJECT = re.compile(r"(?:(?<=\s)|^)([\u4e00-\u9fff])[了过着]?\s+([\u4e00-\u9fff])(?=\s|$)")


def topic_phrase(question: str, issuers: list[str], answer_type: AnswerType | None) -> str:
    """How the answer names what the report does not state: 「2024年行政复议案件数」."""
    text = strip_names(question, issuers)
    text = _RELATIVE_YEAR.sub("", text)  # 去年 is the asker's year, not the report's: 2024年 is kept
    text = re.sub(r"[？?。！!\s]+", "", text)
    text = re.sub(r"^(的|在|于|对|有关|关于)+", "", text)
    text = _QUESTION_WORDS.sub("", text)
    text = re.sub(r"(了|的|是|有|为|达|共|一共|总共|累计|都|目前)+$", "", text)
    text = re.sub(r"^(的|是)+", "", text) or "这一事项"
    kind = answer_type.kind if answer_type else ""
    if kind == "count" and not re.search(r"(数|数量|人数|次数|件数)$", text):
        text += "的数量"
    elif kind == "amount" and not re.search(r"(金额|资金|经费)$", text):
        text += "的金额"
    elif kind == "date" and not re.search(r"(时间|日期)$", text):
        text += "的时间"
    elif kind == "name" and not text.endswith("名称"):
        text += "的名称"
    return text


def fact_topic(searcher: Searcher, text: str) -> Topic:
    """The topic terms of a fact question, weighted; single characters dropped (率 is checked on its own)."""
    return make_topic(searcher, text, extra_generic=FACT_GENERIC, drop_single_chars=True)


def _terms(topic: Topic) -> list[tuple[str, float, tuple[str, ...]]]:
    """Content terms with their weights and their head words (the words they end with: 处罚 in 行政处罚).

    A one-character verb with its aspect particle (结了, 审过) is the verb alone, at VERB_SHARE
    of its weight: 「复议案件结了多少件」 is 「复议结案数34件」, not 「复议案件发案43件」.
    """
    content = set(topic.content_terms)
    names = [t for t, _ in topic.terms]
    terms = []
    for t, w in topic.terms:
        if t not in content or not (len(t) > 1 or t.isascii()):
            continue
        if _VERB_WITH_ASPECT.fullmatch(t):
            terms.append((t[0], w * VERB_SHARE, ()))
            continue
        heads = tuple(sorted((o for o in names if o != t and len(o) > 1 and t.endswith(o)), key=len, reverse=True))
        terms.append((t, w, heads))
    return terms


_VERB_WITH_ASPECT = re.compile(r"[\u4e00-\u9fff][了过着]")


def _credit(term: str, heads: tuple[str, ...], zone: str) -> tuple[str, float]:
    """A term found whole counts fully; only its head word (处罚 for 行政处罚) counts for that share of it."""
    if term in zone:
        return term, 1.0
    for head in heads:
        if head in zone:
            return head, len(head) / len(term)
    return term, 0.0


def report_sentences(searcher: Searcher, doc_id: str) -> list[SentenceRef]:
    """Every sentence of a report in order, plus the lines no chunk holds (the date line at its end)."""
    table = sentence_table(searcher)
    rows = [int(r) for r in searcher.chunks.rows_of_doc(doc_id)]
    # Rows are not in reading order (a section's lead chunk may come last); sentences are.
    refs = sorted((ref for row in rows for ref in table.sentences(row)), key=lambda ref: (ref.start, ref.end))
    if not rows:
        return refs
    normalized = searcher.normalized(doc_id)
    covered_to = max(ref.end for ref in refs) if refs else 0
    # Map the end of the covered published text back into the normalised text.
    tail_start = min(bisect.bisect_left(normalized.offsets, covered_to), len(normalized.text))
    position = tail_start
    for line in normalized.text[tail_start:].split("\n"):
        a, b = position, position + len(line)
        position = b + 1
        if line.strip():
            start, end = normalized.original_span(a, b)
            refs.append(SentenceRef(rows[-1], -1, line.strip(), start, end))
    return refs


def _clauses(text: str) -> list[tuple[int, int]]:
    spans, cursor = [], 0
    for match in _CLAUSE_BREAK.finditer(text):
        spans.append((cursor, match.end()))
        cursor = match.end()
    if cursor < len(text):
        spans.append((cursor, len(text)))
    return spans


def _rate_word_ok(question_rate: str, text: str, value: Value, zone_start: int) -> bool:
    """A rate question's measure (败诉率) must be the measure the value belongs to (not 应诉率)."""
    if not question_rate:
        return True
    before = [m for m in _RATE_WORD.finditer(text, zone_start, value.start)]
    return bool(before) and before[-1].group(1) == question_rate


# Counting words that are only classifiers: a topic noun ending with one (案件, 事项) is what a
# count in it counts. 人 and 名 are nouns too (法律明白人 is not counted by 「4人持证」).
_CLASSIFIERS = frozenset("件 宗 项 场 起 份 条 户 家 个".split())


def _counted_by(term: str, value: Value) -> bool:
    """Whether a count's counting word stands for a topic noun that ends with it or with a word of
    its family (案件 by 1298件 and by 418宗)."""
    return (value.kind == "count" and value.unit in _CLASSIFIERS and len(term) > 1
            and term[-1] in _CLASSIFIERS and value.unit in noun_family(term[-1]))


def names_every_term(finding: Finding, terms: list[tuple[str, float, tuple[str, ...]]]) -> bool:
    """Whether each topic term (or its head word, or the count's counting word) stands by the value.

    With no place named, a figure is about the topic only when its whole noun stands there:
    「累计受理答复各类转办案件246件」 counts 案件 but no 执法案件.
    """
    return all(_credit(term, heads, finding.zone)[1] > 0 or _counted_by(term, finding.value)
               for term, _, heads in terms)


_UP = "增长|增加|提高|提升|上升|增幅|涨幅|增速|增至|翻番"
_DOWN = "下降|降低|减少|压缩|降幅|减至|缩短|降至"
_DIRECTION = re.compile(f"(?P<up>{_UP})|(?P<down>{_DOWN})")


def direction_of(question: str) -> str:
    """'up' when a question asks how much something grew (增长了多少), 'down' for a fall, '' for neither or both."""
    found = {m.lastgroup for m in _DIRECTION.finditer(question)}
    return found.pop() if len(found) == 1 else ""


def _direction_ok(direction: str, text: str, value: Value, own_start: int) -> bool:
    """A change asked about must be the change stated: 「能耗下降11.7%」 is no answer to how much output grew."""
    if not direction:
        return True
    before = list(_DIRECTION.finditer(text, own_start, value.start))
    return not before or before[-1].lastgroup == direction


def judge(text: str, value: Value, terms: list[tuple[str, float, tuple[str, ...]]], asked: AnswerType, question_rate: str,
          direction: str = "", before: str = "") -> tuple[float, float, int, str] | None:
    """Coverage of the topic near one value of a sentence, or None when the value does not answer."""
    if value.kind == "count" and not asked.counts(value.unit):
        return None
    clauses = _clauses(text)
    index = next(i for i, (a, b) in enumerate(clauses) if a <= value.start < b)
    own_start, own_end = clauses[index]
    if value.kind in ("list", "name"):
        own_end = max(own_end, value.end)
    zone_start = own_start
    while index > 0 and value.start - clauses[index - 1][0] <= ZONE_BACK:
        index -= 1
        zone_start = clauses[index][0]
    zone_end = own_end
    if value.kind in ("date", "name") and index + 1 < len(clauses):
        zone_end = clauses[index + 1][1]  # 「自2022年11月起，与金道律所签约」: the topic follows the date
    if not _rate_word_ok(question_rate, text, value, zone_start) or not _direction_ok(direction, text, value, own_start):
        return None
    total = sum(w for _, w, _ in terms) or 1.0
    zone, own = text[zone_start:zone_end], text[own_start:zone_end if value.kind in ("date", "name") else own_end]
    matched = []
    for term, weight, heads in terms:
        found, credit = _credit(term, heads, zone)
        if credit == 0 and _counted_by(term, value):
            found, credit = value.text, 1.0  # 「提供法律援助1298件」: 件 counts the 案件 the topic names
        if credit == 0 and value.kind == "count" and counts_case_noun(term, value.unit, zone):
            # 「人民调解案件数共计825件」 for 纠纷: a count of cases, but not in the question's words,
            # so the rest of the topic must stand there too.
            found, credit = value.text, CASE_NOUN_CREDIT
        if credit == 0 and before:
            # The sentence before, of the same passage, often names what the figure is about:
            # 「建立健全以镇人民调解委员会为纽带…体系。2023年…各级调委会共受理民间纠纷案件570宗」.
            found, credit = "", _credit(term, heads, before)[1] * CONTEXT_CREDIT  # "": not in this sentence
        if credit > 0:
            matched.append((found, weight * credit))
    coverage = sum(w for _, w in matched) / total
    near = sum(w for t, w in matched if t and t in own) / total
    if value.kind == "name":
        rest = value.text
        for t, _, _ in terms:
            rest = rest.replace(t, "")
        if len(rest) < 2:
            return None  # the name is only the question's own words (律所), not a name
    distances = [abs(text.find(t, zone_start) - value.start) for t, _ in matched if t]
    return coverage, near, min(distances) if distances else len(text), zone.strip("，,；;。：: ")


def find_fact(searcher: Searcher, doc_id: str, asked: AnswerType, terms: list[tuple[str, float, tuple[str, ...]]],
              question_rate: str, report_date: bool, query: Callable[[], np.ndarray] | None = None,
              required: str = "", parts_left_out: frozenset[str] = frozenset(), direction: str = "",
              meaning_only: bool = False) -> Finding | None:
    """The sentence of one report that best answers a typed fact question, or None.

    The best by term coverage when one reaches MIN_COVERAGE; else, with the question's vector
    (`query`, asked for only then), the sentence that stands out most by meaning
    (RESCUE_STANDING, RESCUE_COVERAGE). With `required`, only values whose topic zone holds
    that term whole count; sentences under the section labels `parts_left_out` do not. A
    question whose topic is in no words of the reports (`meaning_only`: an English question)
    is answered by meaning alone, by a value of the type asked for.
    """
    sentences = report_sentences(searcher, doc_id)
    if report_date:
        lines = [ref for ref in sentences[-3:] if _DATE_LINE.fullmatch(ref.text)]
        if not lines:
            return None
        ref = lines[-1]
        value = find_values(ref.text, {"date"})[0]
        return Finding(ref, value, 1.0, 1.0, 0, ref.text)
    if not terms and not meaning_only:
        return None
    candidates: list[tuple[tuple, Finding]] = []  # (tie-break, finding)
    for order, ref in enumerate(sentences):
        if parts_left_out and searcher.chunks.label(ref.row) in parts_left_out:
            continue
        previous = sentences[order - 1] if order else None
        before = previous.text if previous is not None and previous.row == ref.row else ""
        for value in find_values(ref.text, asked.accepts):
            judged = judge(ref.text, value, terms, asked, question_rate, direction, before)
            if judged is not None and required in judged[3]:
                f = Finding(ref, value, *judged)
                candidates.append(((-round(f.near, 6), value.kind != asked.kind, f.distance, order, value.start), f))
    covered = [(tie, f) for tie, f in candidates if f.coverage >= MIN_COVERAGE]
    if covered:
        return min(covered, key=lambda tf: (-round(tf[1].coverage, 6), *tf[0]))[1]
    rescuable = [(tie, f) for tie, f in candidates if meaning_only or f.coverage >= RESCUE_COVERAGE]
    if not rescuable or query is None:
        return None
    standing = standings(searcher, sentences, query())
    least = ENGLISH_STANDING if meaning_only else RESCUE_STANDING
    rescued = [(z, tie, f) for tie, f in rescuable
               if (z := standing.get((f.sentence.row, f.sentence.index), float("-inf"))) >= least]
    if not rescued:
        return None
    return min(rescued, key=lambda ztf: (-round(ztf[0], 6), -round(ztf[2].coverage, 6), *ztf[1]))[2]


def target_docs(searcher: Searcher, question: str, filters: Filters, issuers: list[str]) -> list[tuple[str, str]]:
    """(issuer, doc_id) pairs to look in: the places named, the filtered place, or the best hits' reports."""
    docs = []
    metas = searcher.metas()
    names = issuers or ([filters.issuer] if filters.issuer else [])
    for issuer in names:
        scoped = replace(filters, issuer=issuer)
        hits = searcher.search(question, k=1, filters=scoped)
        doc_ids = [h.chunk.doc_id for h in hits] or [d for d, m in metas.items() if m["issuer"] == issuer]
        docs.append((issuer, doc_ids[0] if doc_ids else ""))
    if names:
        return docs
    seen: list[str] = []
    for hit in searcher.search(question, k=10, filters=filters):
        if hit.chunk.doc_id not in seen:
            seen.append(hit.chunk.doc_id)
    return [(metas[d]["issuer"], d) for d in seen[:PLACES_TRIED]]


def short_answer(finding: Finding) -> str:
    """The clause that states the value, in clean Simplified Chinese."""
    zone = plain(finding.zone)
    if finding.value.text not in zone or len(zone) > 90:
        zone = plain(finding.sentence.text)
        at = zone.find(finding.value.text)
        if at >= 0 and len(zone) > 90:
            zone = zone[max(0, at - 40) : at + len(finding.value.text) + 20]
    return zone.rstrip("。；;，,")


@dataclass(frozen=True)
class FactQuestion:
    """What a fact question asks, read once: its type, topic terms and how the answer names it."""

    asked: AnswerType
    terms: list[tuple[str, float, tuple[str, ...]]]
    question_rate: str  # the measure a rate question names (败诉 of 败诉率), '' otherwise
    direction: str  # 'up' / 'down': the change a question asks about (增长了多少), '' for none
    report_date: bool  # asks for the report's own date
    meaning_only: bool  # the topic is in no words of the reports (English): found by meaning alone
    phrase: str  # 「2024年行政复议案件的数量」, for 「…的报告没有写明…」
    query: Callable[[], np.ndarray] | None  # the topic's vector, computed when first needed

    def find(self, searcher: Searcher, doc_id: str, required: str = "",
             parts_left_out: frozenset[str] = frozenset()) -> Finding | None:
        """The sentence of one report that answers it, or None (see find_fact for the two options)."""
        return find_fact(searcher, doc_id, self.asked, self.terms, self.question_rate, self.report_date, self.query,
                         required, parts_left_out, self.direction, self.meaning_only)

    def rarest_term(self) -> str:
        """The topic's most telling term (the highest weight); '' without terms."""
        return max(self.terms, key=lambda term: term[1])[0] if self.terms else ""


def read_fact_question(searcher: Searcher, question: str, issuers: list[str],
                       asked: AnswerType | None = None) -> FactQuestion:
    """A fact question's type, terms and wording; `issuers` are the places it names (not topic words)."""
    asked = asked or expected_type(question) or expected_type("多少")
    text = topic_text(question, issuers)
    topic = fact_topic(searcher, text)
    report_date = asked.kind == "date" and (
        all(t in REPORT_DATE_WORDS for t, _ in topic.terms) and "报告" in question or bool(_REPORT_DATE_EN.search(question)))
    rate = _RATE_WORD.search(text) if asked.kind == "rate" else None
    meaning_only = in_latin_only(text)
    if report_date:
        phrase = "报告的成文日期"
    elif meaning_only:
        phrase = f"所问的{_KIND_WORDS.get(asked.kind, '内容')}（“{question.strip()}”）"
    else:
        phrase = topic_phrase(question, issuers, asked)
    query = (lambda: searcher.query_vector(normalize(text).text)) if searcher.sentences is not None and text else None
    direction = direction_of(question) if asked.kind in ("rate", "count", "amount") else ""
    terms = [] if meaning_only else _terms(topic)
    if asked.kind == "count" and not asked.unit and (unit := implied_unit(terms)):
        asked = replace(asked, unit=unit, implied=True)
    return FactQuestion(asked, terms, rate.group(1) if rate else "", direction, report_date, meaning_only, phrase, query)


def implied_unit(terms: list[tuple[str, float, tuple[str, ...]]]) -> str:
    """The counting word the counted noun implies: 「执法案件有多少」 counts 件 (or 宗), not 名 or 次."""
    if not terms:
        return ""
    head = terms[-1][0]
    return head[-1] if len(head) > 1 and head[-1] in _CLASSIFIERS else ""


def fact_group(searcher: Searcher, doc_id: str, finding: Finding, n: int) -> tuple[Group, str]:
    """The cited group of one finding, numbered from n, and its part of the short answer."""
    evidence = Evidence(finding.sentence, finding.coverage, (finding.value.text,), finding.coverage)
    group = group_of(searcher, doc_id, [evidence], n)
    return group, f"{group.issuer}：{short_answer(finding)}[{n}]"


def answer_fact(searcher: Searcher, question: str, filters: Filters) -> tuple[str, list[Group]]:
    """The answer naming each place's value, one quote each; a place whose report does not state it is said so."""
    issuers = mentioned_issuers(issuers_of(searcher), question)
    fact = read_fact_question(searcher, question, issuers)
    targets = target_docs(searcher, question, filters, issuers)
    found: list[tuple[str, Finding]] = []
    missing: list[str] = []
    for issuer, doc_id in targets:
        finding = fact.find(searcher, doc_id) if doc_id else None
        if finding:
            found.append((doc_id, finding))
        elif issuers or filters.issuer:
            missing.append(issuer)
    if not issuers and not filters.issuer and found:
        found = [min(found, key=lambda pair: (-pair[1].coverage, -pair[1].near, pair[1].distance))]
    if not found:
        where = f"{'、'.join(missing)}的报告" if missing else "已检索的报告都"
        return (f"{where}没有写明{fact.phrase}。", [])
    groups, parts = [], []
    for n, (doc_id, finding) in enumerate(found, start=1):
        group, part = fact_group(searcher, doc_id, finding, n)
        groups.append(group)
        parts.append(part)
    text = "；".join(parts) + "。"
    if missing:
        text += f"{'、'.join(missing)}的报告没有写明{fact.phrase}。"
    if fact.meaning_only:
        text += MEANING_ONLY_NOTE
    return (text, groups)
