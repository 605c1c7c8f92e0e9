"""Read a report's issuer, level, region, year reported on, publication date and title from its text.

Input is the normalised text (Simplified, see indexer.normalize). Nothing here raises on
odd text: what cannot be read is left empty ("" or None) for the caller to decide.
"""
from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass

from indexer.gazetteer import COUNTY, PROVINCE, Gazetteer, Place, level_of, load_gazetteer
from indexer.records import ReportMeta, SourceHints

# Where a place name stands says how likely it is to be the reporting body.
WEIGHT_TITLE = 10.0  # the title line: 广州市海珠区人民政府关于…的报告
WEIGHT_INTRO = 8.0  # 现将粤海街道办事处2024年…报告如下
WEIGHT_OPENING_FIRST = 6.0  # the first place named in the opening paragraph: 2024年，粤海街道…
WEIGHT_MENTION = 1.0  # any other mention outside 《》
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
# Context weights when choosing among places of the same name (several 西湖区).
CONTEXT_FULL = 3  # an ancestor's full name: 杭州市
CONTEXT_SHORT = 1  # an ancestor's short name: 杭州, 法治秦州
CONTEXT_QUALIFIER = 50  # an ancestor written right before the name: 杭州市西湖区
CONTEXT_CHILD = 1  # a township or county of the candidate named in the text

TITLE_MAX = 80
_CJK = re.compile(r"[\u3400-\u9fff]")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?=年|来)(?!年\s*\d{1,2}\s*月)")
_SUBTITLE = re.compile(r"^(?:[—\-－]|(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月)")  # ——2025年1月15日在…
_UNDER_LEADERSHIP = re.compile(r"在[^，,。；;]{0,40}?(?:领导|指导|带领|支持|监督)下")
_INTRO_TITLE = re.compile(r"现将(.{4,70}?报告)如下")
_ORGAN = re.compile(
    r"([\u4e00-\u9fff]{2,12}?(?:街道|镇|乡|区|县|市|省|自治州|盟|旗))(?=办事处|人民政府|政府|关于)"
)
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_DATE = (
    r"(?P<y>(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4})\s*年\s*"
    r"(?P<m>\d{1,2}|[一二三四五六七八九十]{1,2})\s*月\s*"
    r"(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日"
)
# A line that is only a date, or a signature followed by one: 粤海街道办事处 2024年11月21日
_DATE_LINE = re.compile(
    r"^(?:[^。，,；;：:\s]{0,25}?(?:办事处|政府|街道|镇|乡|区|县|市|省|局|委员会|办公室))?\s*" + _DATE + r"\s*$"
)
# The delivery date under a speech title: ——2025年1月15日（省长 XX）在广东省第十四届人民代表大会…
_SPEECH_DATE = re.compile(r"^[—\-－\s]*" + _DATE + r"[^。，,]{0,30}?在")


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    name: str
    weight: float  # as a candidate issuer
    qualifier: str = ""  # an ancestor's name written right before it (广州市 in 广州市海珠区)


LEVEL_NATIONAL = "国家"
_NATIONAL = re.compile(r"国务院政府工作报告|我代表国务院|代表国务院向|国务院总理")


def extract_metadata(doc_id: str, text: str, gazetteer: Gazetteer | None = None,
                     hints: SourceHints | None = None) -> ReportMeta:
    """What the report says about itself; source_* fields are left for the caller to fill.

    The title is the report's own title line, else the 「现将…报告如下」 phrase; when the
    text has neither, one is built from issuer and year
    (「天水郡街道2023年法治政府建设工作情况报告」) so every report has a readable name.
    """
    if not isinstance(text, str):
        text = ""
    hints = hints or SourceHints()
    gaz = gazetteer if gazetteer is not None else load_gazetteer()
    lines = [line.strip() for line in text.splitlines()]
    title_line, title_index = _title_line(lines)
    intro_title = _intro_title(text)
    opening = _opening(lines, title_index)

    issuer, place, ambiguous = _issuer(gaz, text, title_line, intro_title, opening)
    province = city = district = ""
    if _NATIONAL.search(" ".join((title_line, opening, text[:200]))):
        # 「我代表国务院，向大会报告政府工作」: the State Council, not a place it names.
        issuer, place, level = "国务院", None, LEVEL_NATIONAL
    elif place is not None:
        province, city, district = _region(gaz, place, ambiguous)
        level = level_of(place)
    else:
        level = _level_from_suffix(issuer)
    year = _year(title_line or intro_title, opening, text)
    title = title_line or intro_title or _built_title(issuer, year, text)
    return ReportMeta(
        doc_id=doc_id,
        title=title,
        issuer=issuer,
        level=level,
        province=province,
        city=city,
        district=district,
        year=year,
        published=_published(lines) or hints.published,
        source_url=hints.source_url,
    )


# --- title, opening, year, date ------------------------------------------------------------

def _title_line(lines: list[str]) -> tuple[str, int]:
    """The report's own title among its first lines (joining a title broken over two lines)."""
    seen = 0
    for index, line in enumerate(lines):
        if not _CJK.search(line):
            continue
        seen += 1
        if seen > 3:
            break
        if "。" in line or len(line) > TITLE_MAX:
            break  # running text has started: no title line
        if "现将" in line or line.startswith("来源") or _SUBTITLE.match(line):
            continue
        if "报告" in line or "总结" in line:
            return line, index
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following.startswith("关于") and "报告" in following and len(line + following) <= TITLE_MAX:
            return line + following, index + 1
    return "", -1


def _intro_title(text: str) -> str:
    """The report's name in 「现将粤海街道办事处2024年法治政府建设年度报告如下」, if it has a year."""
    match = _INTRO_TITLE.search(text[:3000])
    if match and re.search(r"(?:19|20)\d{2}", match.group(1)):
        return match.group(1).strip("“”\"")
    return ""


def _opening(lines: list[str], title_index: int) -> str:
    """The first paragraph of running text after the title."""
    for line in lines[title_index + 1:]:
        if len(line) >= 20 and _CJK.search(line) and not line.startswith("来源"):
            return line
    return ""


def _year(title: str, opening: str, text: str = "") -> int | None:
    """The year reported on: the title's year, else the commonest year of the opening paragraph.

    When neither names a year, a year that clearly dominates the whole text (at least twice,
    and more often than any other) is taken; otherwise None.
    """
    for source in (title, opening):
        years = [(m.start(), int(m.group(1))) for m in _YEAR.finditer(source)]
        years = [(at, y) for at, y in years if 1949 <= y <= 2100]
        if not years:
            continue
        if source is title:
            return years[0][1]
        counts = Counter(y for _, y in years)
        first_at, first = years[0]
        if first_at < 5:
            counts[first] += 0.5  # 「2024年，…」 opens the report: it wins a tie
        return max(counts, key=lambda y: (counts[y], -min(a for a, v in years if v == y)))
    counts = Counter(int(m.group(1)) for m in _YEAR.finditer(text))
    ranked = [(n, y) for y, n in counts.most_common(2) if 1949 <= y <= 2100]
    if ranked and ranked[0][0] >= 2 and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
        return ranked[0][1]
    return None


def _date(match: re.Match) -> str:
    """An ISO date from a matched Arabic or Chinese-numeral date, or "" when it is not a date."""
    def number(value: str) -> int:
        if value.isdigit():
            return int(value)
        if all(c in _CN_DIGITS for c in value) and len(value) == 4:
            return int("".join(str(_CN_DIGITS[c]) for c in value))
        tens, _, units = value.partition("十")
        if "十" not in value:
            return _CN_DIGITS.get(value, 0)
        return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0) if units else 0)

    try:
        return datetime.date(number(match["y"]), number(match["m"]), number(match["d"])).isoformat()
    except ValueError:
        return ""


def _published(lines: list[str]) -> str:
    """The date under the signature (the last date-only line), else a speech's delivery date."""
    for line in reversed(lines):
        match = _DATE_LINE.match(line)
        if match and (date := _date(match)):
            return date
    for line in lines[:8]:
        match = _SPEECH_DATE.match(line)
        if match and (date := _date(match)):
            return date
    return ""


def _built_title(issuer: str, year: int | None, text: str) -> str:
    """A title for a report that has none: issuer + year + what it reports on."""
    if not issuer:
        return ""
    topic = "法治政府建设工作情况报告" if "法治" in text else "工作报告"
    return f"{issuer}{year}年{topic}" if year else f"{issuer}{topic}"


# --- issuer and region ---------------------------------------------------------------------

def _mentions(gaz: Gazetteer, text: str, title: str, intro: str, opening: str) -> list[_Mention]:
    """Place names in the text, each weighted by how likely it names the reporting body."""
    mentions: list[_Mention] = []
    for source, weight in ((title, WEIGHT_TITLE), (intro, WEIGHT_INTRO)):
        found = gaz.find_names(source, min_length=2)
        found += _short_province_or_city(gaz, source, found)
        mentions += _with_qualifiers(gaz, found, weight)
    # 「在秦州区委、区政府的领导下，天水郡街道…」: the superior named in 在…下 is not the subject.
    superiors = [(m.start(), m.end()) for m in _UNDER_LEADERSHIP.finditer(opening)]
    for found in _with_qualifiers(gaz, gaz.find_names(opening), WEIGHT_OPENING_FIRST):
        if found.weight and not any(a <= found.start < b for a, b in superiors):
            mentions.append(found)
            break
    cited = _cited_spans(text)
    for found in _with_qualifiers(gaz, gaz.find_names(text), WEIGHT_MENTION):
        inside = any(a <= found.start < b for a, b in cited)
        mentions.append(_Mention(found.start, found.end, found.name, 0.0 if inside else found.weight,
                                 found.qualifier))
    return mentions


def _short_province_or_city(gaz: Gazetteer, source: str, found: list) -> list[tuple[int, int, str]]:
    """Provinces and cities named by short name in a title (2025年广西政府工作报告)."""
    taken = {i for a, b, _ in found for i in range(a, b)}
    extra = []
    for length in (3, 2):
        for i in range(len(source) - length + 1):
            if i in taken:
                continue
            places = [p for p in gaz.shortly_named(source[i:i + length]) if p.tier <= 1]
            names = {p.name for p in places}
            if len(names) == 1:
                extra.append((i, i + length, names.pop()))
                taken.update(range(i, i + length))
    return extra


def _with_qualifiers(gaz: Gazetteer, found: list[tuple[int, int, str]], weight: float) -> list[_Mention]:
    """Mentions where a name written right before a descendant's name (广州市海珠区) qualifies it."""
    found = sorted(found)
    out = []
    for k, (start, end, name) in enumerate(found):
        nxt = found[k + 1] if k + 1 < len(found) else None
        if nxt and nxt[0] == end and _contains(gaz, name, nxt[2]):
            out.append(_Mention(start, end, name, 0.0))  # only a qualifier here
            continue
        prev = found[k - 1] if k else None
        qualifier = prev[2] if prev and prev[1] == start and _contains(gaz, prev[2], name) else ""
        out.append(_Mention(start, end, name, weight, qualifier))
    return out


def _contains(gaz: Gazetteer, outer: str, inner: str) -> bool:
    """True when some place called `outer` contains some place called `inner`."""
    outer_rows = {p.row for p in gaz.named(outer)}
    return any(a.row in outer_rows for p in gaz.named(inner) for a in gaz.ancestors(p))


def _cited_spans(text: str) -> list[tuple[int, int]]:
    """Ranges inside 《》: titles of other documents, whose places are not the issuer."""
    return [(m.start(), m.end()) for m in re.finditer(r"《[^《》\n]{0,80}》", text)]


def _self_reference_bonus(text: str) -> dict[str, float]:
    """Per level, how often the report speaks of itself at that level (全区, 我镇...)."""
    return {
        level: float(min(sum(text.count(w) for w in words), SELF_REFERENCE_CAP))
        for level, words in SELF_REFERENCES.items()
    }


def _issuer(gaz: Gazetteer, text: str, title: str, intro: str, opening: str
            ) -> tuple[str, Place | None, list[Place]]:
    """(issuer name, its place, the other equally likely places of that name)."""
    mentions = _mentions(gaz, text, title, intro, opening)
    scores: Counter[str] = Counter()
    for mention in mentions:
        scores[mention.name] += mention.weight
    bonus = _self_reference_bonus(text)
    for name in list(scores):
        if scores[name] > 0:
            levels = {level_of(p) for p in gaz.named(name)}
            scores[name] += max((bonus.get(level, 0.0) for level in levels), default=0.0)
    first_seen = {}
    for mention in mentions:
        first_seen.setdefault(mention.name, mention.start)
    ranked = sorted((n for n in scores if scores[n] > 0), key=lambda n: (-scores[n], first_seen[n]))
    if not ranked:
        fallback = _organ_name(title or intro or opening)
        return fallback, None, []
    name = ranked[0]
    places = _resolve(gaz, name, text, mentions)
    return name, places[0], places[1:]


def _organ_name(source: str) -> str:
    """A body named before 人民政府/办事处 when the gazetteer does not know it."""
    match = _ORGAN.search(source)
    return match.group(1) if match else ""


def _resolve(gaz: Gazetteer, name: str, text: str, mentions: list[_Mention]) -> list[Place]:
    """The places called `name`, best supported by the text first; ties all returned."""
    candidates = list(gaz.named(name))
    rows = {p.row for p in candidates}
    # 北京市 the province and 北京市 the city are one place: keep the province.
    candidates = [p for p in candidates if p.parent not in rows or gaz.places[p.parent].name != name]
    if len(candidates) <= 1:
        return candidates
    qualifiers = {m.qualifier for m in mentions if m.name == name and m.qualifier}
    others = Counter(m.name for m in mentions if m.name != name)
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
