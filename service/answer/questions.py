"""What a question asks: its kind (which / fact / open; plans are routed by the answerer), the level it names, the places it names."""
from __future__ import annotations

import re

import jieba

from service.answer.answer_types import expected_type
from service.answer.romanized import has_latin_words, named_in_latin, strip_latin_names

KINDS = ("which", "fact", "figures", "plans", "open")
_PLACE_NOUNS = (
    r"地方|街道|乡镇|镇街|镇|乡|区县|区|县|市|城市|地市|省份|省区市|省市|省|自治区|单位|地区|基层政府|政府|部门|年份|年"
)
_WHICH = re.compile(
    rf"(哪些|哪几个|哪个|哪几|哪|有哪些|什么|几个)({_PLACE_NOUNS})"
    r"|\bwhich\s+(places?|towns?|streets?|districts?|counties|county|subdistricts?|cities|city|provinces?|regions?"
    r"|governments?|years?|reports?)\b"
    r"|^(?:还有|另外还有|还有哪些)?哪(?:里|儿)",
    re.IGNORECASE,
)
# The level a which-phrase names, as the metadata spells levels.
LEVEL_WORDS = {
    "街道": "街道", "镇": "镇", "乡": "乡", "区": "区", "县": "县", "市": "市", "城市": "市", "地市": "市",
    "区县": "区县", "乡镇": "乡镇", "镇街": "镇街",
    "省": "省", "省份": "省", "自治区": "省", "towns": "镇", "town": "镇", "streets": "街道", "street": "街道",
    "subdistricts": "街道", "subdistrict": "街道", "districts": "区", "district": "区", "counties": "县",
    "county": "县", "cities": "市", "city": "市", "provinces": "省", "province": "省",
}
_FACT = re.compile(
    r"多少|几[个次件宗人名家项条场户起]|几|是什么时候|何时|哪一年|哪天|什么时间|比例|比率|[^效]率(是|为|达)?|排名|第几|数量"
    r"|how many|how much|what (rate|share|number|percentage)|when\b"
    r"|\bwhat (?:is |was )?the (?:date|year|total|amount|number|rate|share|percentage|name)\b",
    re.IGNORECASE,
)
_QUESTION_TAIL = re.compile(r"[？?。！!\s]+$")
_ISSUER_SUFFIX = re.compile(r"(街道办事处|街道|镇|乡|区|县|市|省|自治区)$")


def classify(question: str) -> str:
    """'which' for 哪些地方/街道/城市…, 'fact' for a figure or date, 'open' otherwise."""
    if _WHICH.search(question):
        return "which"
    if _FACT.search(question) or expected_type(question) is not None:
        return "fact"
    return "open"


def level_asked(question: str) -> str:
    """The level a which-question names (哪些街道 -> 街道); '' for 哪些地方."""
    match = _WHICH.search(question)
    if not match:
        return ""
    word = (match.group(2) or match.group(3) or "").lower()
    return LEVEL_WORDS.get(word, "")


_YEAR_NAMED = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年(?:度)?(?![\d一二三四五六七八九十]{1,2}月)")
# The year with the words that only place it in time: 「在2024年度的」, 「2023年里」.
_YEAR_PHRASE = re.compile(rf"(?:在|于)?\s*{_YEAR_NAMED.pattern}(?:里|中|内|期间|当年|全年)?(?:的)?")


def year_named(question: str) -> int | None:
    """The one year a question names (「2023年哪些街道…」 -> 2023); None for none or several."""
    years = {int(m.group(1)) for m in _YEAR_NAMED.finditer(question)}
    return years.pop() if len(years) == 1 else None


def without_year(text: str) -> str:
    """The text without the one year it names: a year scopes the reports, it is no topic word."""
    if year_named(text) is None:
        return text
    return re.sub(r"\s+", " ", _YEAR_PHRASE.sub("", text)).strip()


def which_topic_text(question: str) -> str:
    """The practice a which-question asks about: the question without its which-phrase."""
    return _QUESTION_TAIL.sub("", _WHICH.sub(" ", question)).strip()


def short_name(issuer: str) -> str:
    """An issuer without its level suffix: 翠苑街道 -> 翠苑."""
    return _ISSUER_SUFFIX.sub("", issuer)


def _word_boundaries(text: str) -> set[int]:
    """Offsets where jieba's words of a text begin or end."""
    edges = {0, len(text)}
    for _, start, end in jieba.tokenize(text):
        edges.update((start, end))
    return edges


def _names_short(short: str, question: str, edges: set[int]) -> bool:
    """Whether a short name (增城 of 增城区) stands in the question as a word of its own, not
    inside others (「新增城镇就业」 does not name 增城区)."""
    at = question.find(short)
    while at >= 0:
        if at in edges and at + len(short) in edges:
            return True
        at = question.find(short, at + 1)
    return False


def mentioned_issuers(issuers: list[str], question: str) -> list[str]:
    """Issuers named in a question, in full (翠苑街道) or short (翠苑) where the short form is a word of
    its own, or in pinyin (Cuiyuan Subdistrict)."""
    names = []
    edges: set[int] | None = None
    for issuer in issuers:
        if not issuer or issuer in names:
            continue
        if issuer in question:
            names.append(issuer)
            continue
        short = short_name(issuer)
        if len(short) >= 2 and short in question:
            edges = _word_boundaries(question) if edges is None else edges
            if _names_short(short, question, edges):
                names.append(issuer)
    if not has_latin_words(question):  # the usual case: no pinyin to look for
        return names
    unnamed = [(issuer, short_name(issuer)) for issuer in dict.fromkeys(issuers) if issuer and issuer not in names]
    return names + named_in_latin(unnamed, question)


def strip_names(text: str, names: list[str]) -> str:
    """The text without the places it names (full and short forms)."""
    for name in sorted(names, key=len, reverse=True):
        short = short_name(name)
        text = text.replace(name, " ")
        if len(short) >= 2:
            text = text.replace(short, " ")
    return strip_latin_names(text, [(name, short_name(name)) for name in names])


# --- Figures across places: words that spread a question over places or rank them. ---
# 「各地」「各街道」「每个地方」: the noun is needed (各类案件 spreads over kinds, not places).
_EACH = re.compile(r"(?:各|每个|每一个|所有|全部)(?:个)?(地方|地区|地|街道|乡镇|镇街|镇|乡|区县|区|县|城市|市|省份|省|单位)")
_SPREAD = re.compile(r"各地|分别|每个地方|所有地方")
# Superlatives, not the names and set phrases that contain them (最多跑一次, 最高人民法院, 最低工资).
_MOST = re.compile(r"最多(?!跑|元|一次|次)|最高(?!人民|检|院|法)|最大(?!限度|化)|最长|最快|排名第一|排第一")
_LEAST = re.compile(r"最少|最低(?!工资|生活|保障|限度)|最小(?!化)|最短|最慢")


def superlative(question: str) -> str:
    """'most' for 最多/最高, 'least' for 最少/最低, '' otherwise."""
    if _LEAST.search(question):
        return "least"
    if _MOST.search(question):
        return "most"
    return ""


def without_spread(text: str) -> str:
    """The text without the words that spread it over places: 「各地的行政复议案件分别」 -> 「的行政复议案件」."""
    return _SPREAD.sub("", _EACH.sub("", text))


def without_superlative(text: str) -> tuple[str, bool]:
    """The text without its ranking words, and whether it had any: 「的法律援助案件最多」 -> 「的法律援助案件」."""
    stripped = _LEAST.sub(_RANKED_VERB_MARK, _MOST.sub(_RANKED_VERB_MARK, text))
    if _RANKED_VERB_MARK in stripped:
        stripped = _without_ranked_verb(stripped)
    return stripped, stripped != text


_RANKED_VERB_MARK = "\x00"


def _without_ranked_verb(text: str) -> str:
    """「执法案件办得最多」 ranks how much was done (办得, 处理得): the verb and its 得 are the ranking's
    wording, not the topic's; the reports say 办理, 受理 or 审结 (「案件审结得最快」 -> 「案件」)."""
    tokens = jieba.lcut(text.replace(_RANKED_VERB_MARK, " "))
    out: list[str] = []
    for token in tokens:
        if token == " " and out and out[-1] == "得":
            out.pop()
            if out and len(out[-1]) <= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", out[-1]):
                out.pop()
        elif token == " " and out and out[-1].endswith("得") and len(out[-1]) <= 3:
            out.pop()
        out.append(token)
    return "".join(out).replace(" ", "")


def superlative_word(question: str) -> str:
    """The question's ranking word as the answer says it: 最低 as asked, 排名第一 as 最多."""
    match = _LEAST.search(question) or _MOST.search(question)
    word = match.group(0) if match else ""
    return word if word.startswith("最") else "最多"


def asks_across_places(question: str) -> bool:
    """Whether a question names no place but asks a figure of every place (各地…分别, 哪个…最多).

    Chinese wording only: the figure must stand by the topic's own term in the report, which an
    English question does not give (it keeps the answers of its kind).
    """
    return bool(_SPREAD.search(question) or _EACH.search(question) or superlative(question))


def level_of_places(question: str) -> str:
    """The level 「各街道」 or 「哪个街道」 names, as the metadata spells it; '' for 各地."""
    each = _EACH.search(question)
    if each:
        return LEVEL_WORDS.get(each.group(1), "")
    return level_asked(question)
