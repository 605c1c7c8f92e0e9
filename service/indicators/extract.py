"""Sentence-level extraction of the catalogue's figures from a Searcher's reports, cached per generation.

A number is taken for an indicator only when it is bound to that indicator in its own clause:
one of the indicator's measure words stands right before it (only filler such as 共计, 达 in
between) or shortly after it in the same clause (「对325份…的合同进行合法性审查」), and the
indicator's topic is named in that clause or is the last topic named before it in the
sentence.  Clauses that give a part (「其中…」, 简易程序案件) are not the figure.
"""
from __future__ import annotations

import re
import threading
import weakref
from dataclasses import asdict, dataclass

from service.answer.answer_types import Value, find_values
from service.indicators.catalogue import CATALOGUE, TOPICS, Indicator
from service.search import Searcher

# Words that may stand between a measure word and its number (「案件数共计825件」, 「出庭应诉率达100%」).
_FILLER = re.compile(r"(?:数|总数|总量|量|共|共计|合计|累计|总计|达到?|为|是|约|超过?|近|逾|均为|已|了|\s)*")
# The object a measure verb may take before its number (「办结行政复议案件2.1万件」).
_CASE_NOUNS = ("案件", "事项")
# How far after a number its measure word may stand in the same clause (「325份以镇政府名义签订的合同」).
AFTER_WINDOW = 12
# How far back from a number's clause the last topic term of the sentence may stand.
TOPIC_WINDOW = 80
_SENTENCE = re.compile(r"[^。！？!?；;\n]+")
_CLAUSE_BREAK = re.compile(r"[，,；;：:（）()]")
_TIGHT_BREAK = re.compile(r"[，,；;：:（）()、]")
_BOOK_TITLE = re.compile(r"《[^》]*》")
_YEAR = re.compile(r"(\d{4})年")
_NUMBER = re.compile(r"(\d+(?:[.,]\d+)*|[零〇一二两三四五六七八九十百千]+)(万|亿|千)?(余|多)?")
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_MULTIPLIERS = {"万": 10_000, "亿": 100_000_000, "千": 1000}
PLAN_LABELS = ("下一步安排",)  # targets for the coming year are not figures of the year reported on


@dataclass(frozen=True)
class Figure:
    """One indicator value as a report states it, with the verbatim sentence and its offsets."""

    name: str
    value: str  # the number as published (e.g. 「1.1萬」), always inside the quote
    number: float  # the value as a number, for sorting and charts
    unit: str
    period: str  # the year the figure is for: the sentence's own 「2023年」, else the report's year
    issuer: str
    doc_id: str
    year: int | None
    level: str
    region: str
    quote: str  # report_text[start:end]
    start: int
    end: int
    value_start: int  # the value's offsets in the published text
    value_end: int

    @property
    def url(self) -> str:
        return f"/reports/{self.doc_id}#q-{self.start}-{self.end}"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["number"] = int(self.number) if float(self.number).is_integer() else self.number
        data["url"] = self.url
        return data


def parse_number(text: str) -> float | None:
    """The number a value's text states (「1.1万」 -> 11000, 「八十」 -> 80); None when it is not one."""
    match = _NUMBER.match(text)
    if not match:
        return None
    digits, multiplier = match.group(1), match.group(2)
    if digits[0].isdigit():
        try:
            number = float(digits.replace(",", ""))
        except ValueError:
            return None
    else:
        number = _chinese_number(digits)
        if number is None:
            return None
    return number * _MULTIPLIERS.get(multiplier or "", 1)


def _chinese_number(text: str) -> float | None:
    total, digit = 0, None
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[char]
            digit = None
        else:
            return None
    return float(total + (digit or 0))


def _split_value(value: Value) -> tuple[int, str] | None:
    """(length of the number part, unit) of a typed value: 「80余场次」 -> (3, 场次), 「57%」 -> (2, %)."""
    text = value.text
    if value.kind == "rate":
        if not text.endswith(("%", "％")) or not text[0].isdigit():
            return None
        return len(text.rstrip("%％ ")), "%"
    if value.kind == "amount":
        return len(text) - 1, "元"
    unit = value.unit
    return len(text) - len(unit), unit


def _mask_titles(text: str) -> str:
    """Book titles (《…人民调解法》) name no topic of the sentence; blank them, keeping offsets."""
    return _BOOK_TITLE.sub(lambda m: "□" * len(m.group(0)), text)


def _clause(text: str, at: int, end: int, breaks: re.Pattern) -> tuple[int, int]:
    start = max((m.end() for m in breaks.finditer(text, 0, at)), default=0)
    nxt = breaks.search(text, end)
    return start, nxt.start() if nxt else len(text)


def _bound_after_measure(indicator: Indicator, rest: str) -> bool:
    """Whether the text from a measure word to the number binds them: filler only, or the verb's object
    first, that is the indicator's topic and/or 案件 (「办结行政复议案件2.1万件」, 「受理案件6965件」)."""
    if _FILLER.fullmatch(rest):
        return True
    for term in sorted(indicator.topic.terms, key=len, reverse=True):
        if rest.startswith(term):
            rest = rest[len(term):]
            break
    for noun in _CASE_NOUNS:
        if rest.startswith(noun):
            rest = rest[len(noun):]
            break
    return bool(_FILLER.fullmatch(rest))


def _measure_gap(indicator: Indicator, text: str, clause: tuple[int, int], tight_end: int,
                 value: Value) -> int | None:
    """How closely a measure word binds the value (characters between them), None when none does."""
    best = None
    before = text[clause[0]:value.start]
    for measure in indicator.measures:
        at = before.rfind(measure)
        if at >= 0 and _bound_after_measure(indicator, before[at + len(measure):]):
            gap = len(before) - at - len(measure)
            best = gap if best is None else min(best, gap)
    after = text[value.end:min(tight_end, value.end + AFTER_WINDOW)]
    for measure in indicator.measures:
        at = after.find(measure)
        if at >= 0:
            gap = at + 1  # a measure word after the number binds less than one before it
            best = gap if best is None else min(best, gap)
    return best


def _topic_bound(indicator: Indicator, masked: str, clause: tuple[int, int]) -> bool:
    if not indicator.needs_topic:
        return True
    if any(term in masked[clause[0]:clause[1]] for term in indicator.topic.terms):
        return True
    last_end, last_topic = -1, None
    window_start = max(0, clause[0] - TOPIC_WINDOW)
    for topic in TOPICS:
        for term in topic.terms:
            at = masked.rfind(term, window_start, clause[0])
            if at >= 0 and at + len(term) > last_end:
                last_end, last_topic = at + len(term), topic
    return last_topic is indicator.topic


@dataclass(frozen=True)
class Binding:
    """A value of a sentence bound to one indicator (offsets in the normalised sentence)."""

    indicator: Indicator
    value_start: int
    value_end: int  # end of the number part (the unit excluded)
    unit: str
    number: float
    gap: int


def bind_sentence(sentence: str) -> list[Binding]:
    """The catalogue's figures a normalised sentence states, at most one indicator per value."""
    masked = _mask_titles(sentence)
    out = []
    for value in find_values(sentence, {"count", "rate", "amount"}):
        split = _split_value(value)
        if split is None:
            continue
        length, unit = split
        number = parse_number(value.text[:length])
        if number is None:
            continue
        clause = _clause(sentence, value.start, value.end, _CLAUSE_BREAK)
        tight = _clause(sentence, value.start, value.end, _TIGHT_BREAK)
        clause_text = sentence[clause[0]:clause[1]]
        if clause_text.lstrip().startswith("其中"):
            continue
        best: Binding | None = None
        for indicator in CATALOGUE:
            if indicator.kind != value.kind or unit not in indicator.units:
                continue
            if any(word in sentence[clause[0]:tight[1]] for word in indicator.excluded):
                continue
            gap = _measure_gap(indicator, sentence, tight, tight[1], value)
            if gap is None or not _topic_bound(indicator, masked, clause):
                continue
            if best is None or gap < best.gap:
                best = Binding(indicator, value.start, value.start + length, unit, number, gap)
        if best is not None:
            out.append(best)
    return out


def extract_figures(searcher: Searcher) -> list[Figure]:
    """Every figure of every report of the searcher's index, in report and text order."""
    figures = []
    for doc_id in searcher.reports:
        figures.extend(_figures_of_report(searcher, doc_id))
    return figures


def _figures_of_report(searcher: Searcher, doc_id: str) -> list[Figure]:
    plans = [(c.start, c.end) for c in searcher.chunks_of(doc_id) if c.label in PLAN_LABELS]
    return report_figures(doc_id, searcher.meta(doc_id), searcher.normalized(doc_id), plans)


def processed_figures(report) -> list[Figure]:
    """The figures of one report as the indexer processes it (indexer.pipeline.process_source), no index needed."""
    plans = [(c.start, c.end) for c in report.chunks if c.label in PLAN_LABELS]
    return report_figures(report.meta.doc_id, report.meta.to_dict(), report.norm, plans)


def report_figures(doc_id: str, meta: dict, normalized, plans: list[tuple[int, int]]) -> list[Figure]:
    """The figures of one report's normalised text; `plans` are published-text spans of its plan sections."""
    original = normalized.original
    text = normalized.text
    figures = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0)
        stripped = sentence.strip()
        if not stripped or not any(ch.isdigit() or ch in "十百千" for ch in stripped):
            continue
        lead = len(sentence) - len(sentence.lstrip())
        s0, s1 = match.start() + lead, match.start() + lead + len(stripped)
        start, end = normalized.original_span(s0, s1)
        if any(a <= start < b for a, b in plans):
            continue
        for binding in bind_sentence(stripped):
            v0, v1 = normalized.original_span(s0 + binding.value_start, s0 + binding.value_end)
            years = _YEAR.findall(stripped[:binding.value_start])
            period = years[-1] if years else (str(meta["year"]) if meta["year"] else "")
            figures.append(Figure(
                name=binding.indicator.name, value=original[v0:v1], number=binding.number, unit=binding.unit,
                period=period, issuer=meta["issuer"], doc_id=doc_id, year=meta["year"], level=meta["level"],
                region=meta["region"], quote=original[start:end], start=start, end=end, value_start=v0,
                value_end=v1,
            ))
    return figures


_cache: "weakref.WeakKeyDictionary[Searcher, list[Figure]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def figures_of(searcher: Searcher) -> list[Figure]:
    """The figures of a searcher's generation, extracted once and kept while the searcher lives."""
    with _lock:
        figures = _cache.get(searcher)
        if figures is None:
            figures = extract_figures(searcher)
            _cache[searcher] = figures
        return figures
