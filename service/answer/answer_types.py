"""Answer types: what kind of value a fact question wants, and the typed values a sentence holds.

A fact question asks for a count (多少件), a rate (败诉率), an amount (多少万元), a date
(什么时候), a name (叫什么) or a list (有哪些).  `expected_type` reads that from the question;
`find_values` finds the values of each type in a normalised sentence, with their positions,
so that the fact answerer can check that a cited sentence holds the kind of value asked for.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ANSWER_TYPES = ("count", "rate", "amount", "date", "name", "list")

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_NUMBER = rf"[{_CN_DIGITS}十百千万]+"
_NUMBER = rf"(?:\d+(?:[.,]\d+)*|{_CN_NUMBER})"
# Counting words, longest first so that 人次 wins over 人 and 场次 over 场.
COUNT_UNITS = (
    "人次", "场次", "学时", "小时", "个类目", "件", "宗", "个", "人", "次", "家", "场", "条", "户", "起", "名",
    "项", "份", "所", "处", "篇", "期", "批", "类", "支", "座", "位", "例", "天", "轮", "万条",
)
_UNIT_FAMILIES = (
    frozenset("件宗起例份"),
    frozenset({"人", "名", "人次", "位"}),
    frozenset({"个", "家", "所", "处", "座", "支"}),
    frozenset({"次", "场", "场次", "期", "轮"}),
    frozenset({"条", "项", "份", "篇", "件", "个", "万条", "个类目"}),
    frozenset({"户"}),
    frozenset({"小时", "学时", "天"}),
)
_COUNT_UNIT_RE = "|".join(sorted(map(re.escape, COUNT_UNITS), key=len, reverse=True))
_COUNT = re.compile(rf"(?<![\d.])({_NUMBER})(万|亿)?(余|多)?({_COUNT_UNIT_RE})")
_AMOUNT = re.compile(rf"(?<![\d.])({_NUMBER})(余|多)?(万|亿|千)?(余|多)?元")
_RATE = re.compile(rf"(?<![\d.])\d+(?:\.\d+)?\s*[%％‰]|百分之{_NUMBER}(?:点{_CN_NUMBER})?|(?<![\d.])\d+(?:\.\d+)?倍")
_YEAR = rf"(?:\d{{4}}|[{_CN_DIGITS}]{{4}})年(?:度)?"
_MONTH = rf"(?:\d{{1,2}}|[{_CN_DIGITS}十]{{1,3}})月"
_DAY = rf"(?:\d{{1,2}}|[{_CN_DIGITS}十]{{1,3}})[日号]"
_DATE = re.compile(
    rf"{_YEAR}(?:{_MONTH}(?:{_DAY}|底|初|中旬|上旬|下旬)?)?|(?<![\d-]){_MONTH}(?:{_DAY}|底|初|中旬|上旬|下旬)?"
)
_ORG_HEADS = (
    "律师事务所", "律所", "委员会", "调委会", "服务中心", "中心", "法庭", "工作室", "工作站", "服务站", "公司", "法院",
    "检察院", "协会", "基地", "平台", "联盟", "办公室", "领导小组", "服务队", "品牌", "园", "公园",
)
_ORG = re.compile(rf"[\u4e00-\u9fffA-Za-z0-9]{{2,16}}?(?:{'|'.join(sorted(_ORG_HEADS, key=len, reverse=True))})")
_ORG_LEAD = re.compile(r"^(?:[与和在对将由同向为把及并等共有从自经]|成立|设立|建立|组建|打造|创建|签约|聘请|联合|依托)+")
_JOIN = re.compile(r"[与和同及向对在将把由从]")
_QUOTED = re.compile(r"“([^”]{2,30})”|《([^》]{2,40})》|「([^」]{2,30})」")
_LIST_ITEMS = re.compile(r"[^，,；;。：:、]{2,30}(?:、[^，,；;。：:、]{2,30}){2,}")
_ENUMERATION = re.compile(r"(?:一是|其一|首先).{4,}?(?:二是|其二|其次)|(?:其中|包括|分别是|分别为)[：:]?(?=.{4,}[，,、])")
# Chinese numerals inside fixed expressions are not counts (一件事一次办, 一站式, 一把手).
_IDIOM_AFTER = re.compile(r"事|办|站|把|岗|对|体|线|网|张|盘|键")

_COUNT_UNIT_Q = re.compile(rf"(?:多少|几)\s*({_COUNT_UNIT_RE})")
_COUNT_Q = re.compile(r"有几|几个|几次|几名|数量|人数|件数|次数|个数|多少(?!钱|资金|万|亿|元)")
_RATE_Q = re.compile(r"[率]|比例|比率|百分之|占比|百分比|降幅|增幅|涨幅|压缩了?多少|下降了?多少|提高了?多少|增长了?多少")
_AMOUNT_Q = re.compile(r"多少(?:万|亿|千)?元|多少钱|资金|金额|经费|投入|罚款多少|罚没|预算")
_DATE_Q = re.compile(r"什么时候|何时|哪一年|哪年|哪个月|哪一天|哪天|日期|什么时间|几月|几号|落款|成文")
_NAME_Q = re.compile(r"叫什么|名称|名字|哪(?:一)?(?:个|家|所|位)|谁|是什么(?:机构|部门|单位|平台|品牌)")
_LIST_Q = re.compile(r"有哪些|包括哪些|包含哪些|都有什么|有什么|哪几项|哪几类|哪几种|哪些")
_EN = (
    ("date", re.compile(r"\bwhen\b|\bwhat (date|year|day|month)\b|\bthe date\b", re.IGNORECASE)),
    ("amount", re.compile(r"\bhow much\b(?!\s+(?:time|more|less|of\b))|\bamount\b|\byuan\b|\bbudget\b|\bfine[sd]?\b"
                          r"|\bspen[dt]\b|\bcost\b", re.IGNORECASE)),
    ("rate", re.compile(r"\b(rate|percentage|share|proportion|percent)\b", re.IGNORECASE)),
    ("count", re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b", re.IGNORECASE)),
    ("name", re.compile(r"\bwho\b|\bwhat is the name\b|\bname of\b|\bwhat is .* called\b|\bwhich (agency|department|firm)\b", re.IGNORECASE)),
    ("list", re.compile(r"\bwhat are the\b|\blist\b|\bwhich .* include\b", re.IGNORECASE)),
)


@dataclass(frozen=True)
class Value:
    """A typed value in a normalised sentence: its kind, its text and where it stands."""

    kind: str
    text: str
    start: int
    end: int
    unit: str = ""  # the counting word of a count (件, 宗, 人次), the currency word of an amount


@dataclass(frozen=True)
class AnswerType:
    """What a question wants: its answer type, the value kinds that satisfy it and its unit."""

    kind: str
    accepts: frozenset[str]
    unit: str = ""  # the counting word the question names (多少宗 -> 宗), '' when none
    # The unit is the one the counted noun implies (案件 -> 件): only its own family counts it
    # (件 宗 起, not the 个 or 条 that 件 also stands beside for documents).
    implied: bool = False

    def counts(self, unit: str) -> bool:
        """Whether a value with this counting word answers the question."""
        if self.implied and unit:
            return unit in noun_family(self.unit)
        return units_compatible(self.unit, unit)


def expected_type(question: str) -> AnswerType | None:
    """The answer type a fact question asks for (Chinese or English); None when it asks for none."""
    q = question.strip()
    if _DATE_Q.search(q):
        return AnswerType("date", frozenset({"date"}))
    if _AMOUNT_Q.search(q):
        return AnswerType("amount", frozenset({"amount"}))
    count = _COUNT_UNIT_Q.search(q) or _COUNT_Q.search(q)
    if _RATE_Q.search(q):
        return AnswerType("rate", frozenset({"rate"}))
    if count:
        unit = count.group(1) if count.re is _COUNT_UNIT_Q else ""
        # 「下降了多少」「多少」 with no counting word may be answered by a share or a count.
        accepts = {"count"} if unit else {"count", "rate"}
        return AnswerType("count", frozenset(accepts), unit)
    if _NAME_Q.search(q):
        return AnswerType("name", frozenset({"name"}))
    if _LIST_Q.search(q):
        return AnswerType("list", frozenset({"list"}))
    for kind, pattern in _EN:
        if pattern.search(q):
            return AnswerType(kind, frozenset({kind} | ({"rate"} if kind == "count" else set())))
    return None


# 「有多少个法律明白人」: 个 goes with any noun in speech, so a question asking in 个 takes the
# report's own counting word (「新培育2名“法律明白人”」).
GENERAL_CLASSIFIER = "个"
_DURATIONS = frozenset({"小时", "学时", "天"})


def noun_family(classifier: str) -> frozenset[str]:
    """The counting words of the nouns a classifier ends (案件: 件 宗 起 例 份): its first family."""
    return next((family for family in _UNIT_FAMILIES if classifier in family), frozenset({classifier}))


# Nouns of disputes and cases that the reports count as 案件 in 件/宗/起: 「人民调解案件数共计
# 825件」 is how many 纠纷 were mediated. Chinese usage, not corpus wording.
_CASE_NOUNS = frozenset("纠纷 矛盾 矛盾纠纷 民间纠纷 案子 官司 诉讼 投诉 举报 信访 诉求 求助".split())


def counts_case_noun(noun: str, unit: str, zone: str) -> bool:
    """Whether a count of cases (「…案件…825件」: 案件 in its zone, counted in 件, 宗, 起 or 例)
    may count a noun of disputes the question names (纠纷)."""
    return noun in _CASE_NOUNS and unit in _UNIT_FAMILIES[0] and "案件" in zone


def units_compatible(asked: str, found: str) -> bool:
    """Whether a counting word the question names fits the one a value carries (宗 and 件 do)."""
    if not asked or not found or asked == found:
        return True
    if asked == GENERAL_CLASSIFIER:
        return found not in _DURATIONS  # things of any kind, not hours or days
    return any(asked in family and found in family for family in _UNIT_FAMILIES)


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in taken)


def find_values(text: str, kinds: frozenset[str] | set[str] | None = None) -> list[Value]:
    """Typed values in a normalised sentence, in order; dates and amounts claim their digits first."""
    kinds = set(ANSWER_TYPES) if kinds is None else set(kinds)
    values: list[Value] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, match: re.Match, unit: str = "") -> None:
        span = (match.start(), match.end())
        if _overlaps(span, taken):
            return
        taken.append(span)
        if kind in kinds:
            values.append(Value(kind, match.group(0), span[0], span[1], unit))

    for match in _DATE.finditer(text):
        add("date", match)
    for match in _AMOUNT.finditer(text):
        add("amount", match, "元")
    for match in _RATE.finditer(text):
        add("rate", match)
    for match in _COUNT.finditer(text):
        number = match.group(1)
        if not number[0].isdigit():
            if not number.strip("百千万"):
                continue  # 千人千页, 百姓, 万家: a unit word alone is no number
            if match.start() > 0 and text[match.start() - 1] == "第":
                continue  # 第三批 is an ordinal
            if number in ("一", "两") and _IDIOM_AFTER.match(text, match.end()):
                continue
        add("count", match, match.group(4))
    if "name" in kinds:
        for match in _QUOTED.finditer(text):
            inner = next(g for g in match.groups() if g)
            values.append(Value("name", inner, match.start(), match.end()))
        for match in _ORG.finditer(text):
            # A name starts after the last joining word of its run (粤海街道与南山区人民法院 -> 南山区人民法院).
            joins = [m.end() for m in _JOIN.finditer(match.group(0))]
            start = match.start() + (joins[-1] if joins else 0)
            lead = _ORG_LEAD.match(text, start)
            start = lead.end() if lead and lead.end() < match.end() else start
            if match.end() - start >= 3:
                values.append(Value("name", text[start : match.end()], start, match.end()))
    if "list" in kinds:
        for match in _LIST_ITEMS.finditer(text):
            values.append(Value("list", match.group(0), match.start(), match.end()))
        for match in _ENUMERATION.finditer(text):
            values.append(Value("list", text[match.start() :], match.start(), len(text)))
    values.sort(key=lambda v: (v.start, v.end))
    return values
