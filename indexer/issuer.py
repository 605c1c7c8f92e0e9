"""Who issued a report and where it sits: place names in the text weighed by where they stand.

The text decides; the file name and the source page title are hints that count only where
the text leaves the choice open, and an issuer they decided is reported as derived.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from indexer.gazetteer import COUNTY, PROVINCE, Gazetteer, Place, level_of
from indexer.place_mentions import MENTION_CAP, Mention, Sources, mentions

SELF_REFERENCE_CAP = 6  # 全区/我区… count at most this many times

# How a report speaks of itself, by level: 我区、全镇、本街道…
SELF_REFERENCES = {
    "街道": ("我街道", "全街道", "本街道", "街道党工委", "街道办事处"),
    "镇": ("我镇", "全镇", "本镇", "镇党委", "镇政府"),
    "乡": ("我乡", "全乡", "本乡", "乡党委", "乡政府"),
    "苏木": ("我苏木", "全苏木"),
    "区": ("我区", "全区", "本区"),
    "县": ("我县", "全县", "本县"),
    "旗": ("我旗", "全旗", "本旗"),
    "市": ("我市", "全市", "本市"),
    "州": ("我州", "全州", "本州"),
    "盟": ("我盟", "全盟", "本盟"),
    "地区": ("我地区", "全地区"),
    "省": ("我省", "全省", "本省"),
}
# The level a speech declares with 我代表市人民政府 (or a department with 区司法局): the words
# mean the same levels as level_of().
DECLARED_LEVELS = {
    "市": ("市",), "州": ("州",), "区": ("区",), "县": ("县",), "旗": ("旗",), "盟": ("盟",),
    "省": ("省",), "自治区": ("省",), "行署": ("地区", "盟"), "行政公署": ("地区", "盟"),
    "镇": ("镇",), "乡": ("乡",), "街道": ("街道",),
}
# Context weights when choosing among places of the same name (several 西湖区).
CONTEXT_FULL = 3  # an ancestor's full name: 杭州市
CONTEXT_SHORT = 1  # an ancestor's short name: 杭州, 法治秦州
CONTEXT_QUALIFIER = 50  # an ancestor written right before the name: 杭州市西湖区
CONTEXT_CHILD = 1  # a township or county of the candidate named in the text

NATIONAL = "国务院"
LEVEL_NATIONAL = "国家"
_NATIONAL_TITLE = re.compile(r"国务院政府工作报告|中华人民共和国国务院")
_NATIONAL_SPEECH = re.compile(
    r"我代表(?:中华人民共和国)?国务院|代表国务院向|受国务院(?:的)?委托|根据国务院的决定"
    r"|^[—\-－\s（(]*(?:19|20)\d{2}\s*年[^。\n]{0,12}在第[一二三四五六七八九十]+届全国人民代表大会", re.MULTILINE)
# A title that names nobody (政府工作报告): then the page title or file name may.
_GENERIC_TITLE = re.compile(r"[\d\s年度]*政\s*府\s*工\s*作\s*报\s*告(?:[（(][^）)]*[）)])?")

_ORGAN = re.compile(
    r"([\u4e00-\u9fff]{2,12}?(?:街道|镇|乡|区|县|市|省|自治州|盟|旗))(?=办事处|人民政府|政府|关于)"
)
_LEVEL_WORDS = "自治区|行政公署|行署|街道|省|市|区|县|州|旗|盟|镇|乡"
_SPEAKER = (
    re.compile(rf"我代表(?P<name>[\u4e00-\u9fff]{{0,16}}?)(?:{_LEVEL_WORDS})?(?:人民政府|政府|行署|行政公署)"),
    re.compile(r"在(?P<name>[\u4e00-\u9fff]{2,20}?)第[一二三四五六七八九十\d]+届人民代表大会"),
    re.compile(r"(?P<name>[\u4e00-\u9fff]{2,20}?)人民政府(?:市长|州长|省长|区长|县长|主席|代市长|代省长)"),
)
_DECLARED = re.compile(rf"我代表(?P<level>{_LEVEL_WORDS})(?:人民政府|政府)|我代表(?P<office>行署|行政公署)")
# A department of a government: 海珠区司法局, 市生态环境局, 区委依法治区办. 办事处 is a 街道's own
# government, not a department.
_DEPARTMENT = re.compile(
    r"(?P<gov>(?:[\u4e00-\u9fff]{0,14}?(?:省|市|区|县|州|旗|盟))|(?:[\u4e00-\u9fff]{2,8}(?:街道|镇|乡)))"
    r"(?P<dept>(?:市场|人民政府)?[^\s省市区县州旗盟，。、；：:（）()《》“”\"\d]{2,12}?(?:局|厅|委员会|办公室))"
    r"(?=关于|\d|[（(]|法治|年度|$|\s|工作|的)"
)
# How a department speaks of itself (not 全局, which is also "the overall situation").
_SELF_DEPARTMENT = ("我局", "本局", "我委", "本委", "我办", "本办", "我厅", "本厅")
# The subject opening a report: 「2023年，海珠区司法局坚持…」 (not 「在区司法局的指导下」).
_OPENING_SUBJECT = re.compile(r"^(?:(?:19|20)\d{2}\s*年(?:度|以来|来)?\s*[，,]?\s*)?([^，,。在]{2,30})")


@dataclass(frozen=True)
class Issuer:
    """The reporting body, its place, and the fields only a hint decided (issuer, level, region)."""

    name: str = ""
    place: Place | None = None
    level: str = ""
    region: tuple[str, str, str] = ("", "", "")
    derived: tuple[str, ...] = ()


def is_national(sources: Sources, text: str) -> bool:
    """True for a report of the State Council, whatever places it names."""
    generic = not sources.title or _GENERIC_TITLE.fullmatch(sources.title)
    return bool(_NATIONAL_TITLE.search(sources.title) or _NATIONAL_SPEECH.search(text[:1500])
                or (generic and _NATIONAL_TITLE.search(sources.hint)))


def speaker_names(text: str) -> str:
    """The bodies a speech names for itself (我代表上海市人民政府, 在亳州市第五届人民代表大会上)."""
    head = text[:1500]
    names = [m["name"] for pattern in _SPEAKER for m in pattern.finditer(head) if m["name"]]
    return "、".join(names)


def declared_levels(text: str, department_gov: str = "") -> tuple[str, ...]:
    """The levels a report says it speaks for: 我代表市人民政府 -> 市; a 区司法局 -> 区."""
    match = _DECLARED.search(text[:1500])
    word = (match["level"] or match["office"]) if match else ""
    if not word and department_gov in DECLARED_LEVELS:
        word = department_gov
    return DECLARED_LEVELS.get(word, ())


def department(sources: Sources, text: str) -> tuple[str, str]:
    """(government part, department) of a department's report, or ("", "")."""
    subject = _OPENING_SUBJECT.match(sources.opening)
    for source in (sources.title, sources.intro, sources.signature, subject.group(1) if subject else ""):
        match = _DEPARTMENT.search(source)
        if match and not _party_committee(match):
            return match["gov"], match["dept"]
    if sum(text.count(w) for w in _SELF_DEPARTMENT) >= 2:
        counted = Counter((m["gov"], m["dept"]) for m in _DEPARTMENT.finditer(text) if not _party_committee(m))
        if counted:
            return counted.most_common(1)[0][0]
    return "", ""


def _party_committee(match: re.Match) -> bool:
    """中共翠苑街道工作委员会 signs beside its 街道's government: not a department's report."""
    return "中共" in match["gov"] or match["dept"].startswith(("工作委员会", "党"))


def find_issuer(gaz: Gazetteer, text: str, sources: Sources) -> Issuer:
    """The reporting body: a department's name with its government's place, or a government."""
    gov, dept = department(sources, text)
    levels = declared_levels(text, gov)
    found = mentions(gaz, text, sources, gov, levels)
    name, places = _ranked(gaz, text, found, levels)
    text_name, _ = _ranked(gaz, text, [m for m in found if m.kind != "hint"], levels)
    derived: tuple[str, ...] = ()
    if name and name != text_name:
        # The level still counts as stated when the speech declared it (我代表市人民政府).
        derived = ("issuer", "region") if levels else ("issuer", "level", "region")
    if not name:
        organ = _organ_name(sources.title or sources.intro or sources.opening)
        if dept:
            return Issuer(gov + dept if gov not in DECLARED_LEVELS else dept, None, _level_from_suffix(gov))
        return Issuer(organ, None, _level_from_suffix(organ))
    place, ties = places[0], places[1:]
    region = _region(gaz, place, ties)
    issuer = name + dept if dept else name
    return Issuer(issuer, place, level_of(place), region, derived)


# --- choosing ------------------------------------------------------------------------------

def _ranked(gaz: Gazetteer, text: str, found: list[Mention], levels: tuple[str, ...]
            ) -> tuple[str, list[Place]]:
    """The likeliest issuer name and its places (the best supported first), or ("", [])."""
    scores: Counter[str] = Counter()
    plain: Counter[str] = Counter()
    for mention in found:
        if mention.kind == "mention":
            plain[mention.name] += mention.weight
        else:
            scores[mention.name] += mention.weight
    for name, weight in plain.items():
        scores[name] += min(weight, MENTION_CAP)
    bonus = {level: float(min(sum(text.count(w) for w in words), SELF_REFERENCE_CAP))
             for level, words in SELF_REFERENCES.items()}
    level_sets = {name: {level_of(p) for p in gaz.named(name)} for name in scores}
    for name in list(scores):
        if scores[name] > 0:
            scores[name] += max((bonus.get(level, 0.0) for level in level_sets[name]), default=0.0)
    ranked = [n for n in scores if scores[n] > 0]
    if levels:
        # 我代表市人民政府: the issuer is a 市, whatever 区 or 镇 the speech names.
        ranked = [n for n in ranked if level_sets[n] & set(levels)] or ranked
    if not ranked:
        return "", []
    first_seen: dict[str, int] = {}
    for mention in found:
        first_seen.setdefault(mention.name, mention.start)
    name = min(ranked, key=lambda n: (-scores[n], first_seen[n]))
    places = _resolve(gaz, name, text, found)
    if levels:
        places = [p for p in places if level_of(p) in levels] or places
    return name, places


def _organ_name(source: str) -> str:
    """A body named before 人民政府/办事处 when the gazetteer does not know it."""
    match = _ORGAN.search(source)
    return match.group(1) if match and "代表" not in match.group(1) else ""


def _resolve(gaz: Gazetteer, name: str, text: str, found: list[Mention]) -> list[Place]:
    """The places called `name`, best supported by the text first; ties all returned."""
    candidates = list(gaz.named(name))
    rows = {p.row for p in candidates}
    # 北京市 the province and 北京市 the city are one place: keep the province.
    candidates = [p for p in candidates if p.parent not in rows or gaz.places[p.parent].name != name]
    if len(candidates) <= 1:
        return candidates
    qualifiers = {m.qualifier for m in found if m.name == name and m.qualifier}
    others = Counter(m.name for m in found if m.name != name)
    scored = []
    for place in candidates:
        score = 0
        for ancestor in gaz.ancestors(place):
            score += CONTEXT_FULL * text.count(ancestor.name)
            if len(ancestor.short) >= 2 and ancestor.short != ancestor.name:
                score += CONTEXT_SHORT * text.count(ancestor.short)
            if ancestor.name in qualifiers:
                score += CONTEXT_QUALIFIER
        for other, count in others.items():
            if any(gaz.is_ancestor(place, p) for p in gaz.named(other)):
                score += CONTEXT_CHILD * count
        scored.append((score, place))
    best = max(score for score, _ in scored)
    return [place for score, place in scored if score == best]


def _region(gaz: Gazetteer, place: Place, ties: list[Place]) -> tuple[str, str, str]:
    """The place's region, keeping only the levels on which all tied places agree."""
    region = gaz.region(place)
    for other in ties:
        other_region = gaz.region(other)
        region = tuple(a if a == b else "" for a, b in zip(region, other_region))
    # Once a higher level is unknown, a lower one alone (a district name) is kept only
    # when it is the issuer itself: 西湖区 is still 西湖区 without its city.
    province, city, district = region
    if not city and place.tier > COUNTY:
        district = ""
    if place.tier == PROVINCE:
        district = ""
    return province, city, district


def _level_from_suffix(name: str) -> str:
    """The level word from a name's suffix, for bodies the gazetteer does not know."""
    for suffix, level in (("街道", "街道"), ("自治区", "省"), ("自治州", "州"), ("镇", "镇"), ("乡", "乡"),
                          ("区", "区"), ("县", "县"), ("旗", "旗"), ("盟", "盟"), ("市", "市"), ("省", "省")):
        if name.endswith(suffix):
            return level
    return ""
