"""Place names in a report, each weighted by where it stands: how likely it names the reporting body."""
from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.gazetteer import Gazetteer, level_of

# Where a place name stands says how likely it is to be the reporting body.
WEIGHT_TITLE = 10.0  # the title line: 广州市海珠区人民政府关于…的报告
WEIGHT_SPEAKER = 10.0  # 我代表上海市人民政府 / 在亳州市第五届人民代表大会上 / 杭州市人民政府市长
WEIGHT_INTRO = 8.0  # 现将粤海街道办事处2024年…报告如下
WEIGHT_SIGNATURE = 8.0  # the signature above the closing date: 海珠区司法局 2024年1月5日
WEIGHT_HINT = 8.0  # the file name or source page title names it (广州.txt)
WEIGHT_OPENING_FIRST = 6.0  # the first place named in the opening paragraph: 2024年，粤海街道…
WEIGHT_MENTION = 1.0  # any other mention outside 《》, not as a partner or an example
WEIGHT_SHORT = 1.0  # a province or city of the declared level by short name in the body: 贵州, 广州
MENTION_CAP = 8.0  # plain mentions of one name count at most this much: a report calls itself 我市

_UNDER_LEADERSHIP = re.compile(r"在[^，,。；;]{0,40}?(?:领导|指导|带领|支持|监督)下")
# A place named as a partner or an example is not the reporting body: 与深圳市合作, 赴杭州市学习.
_PARTNER_BEFORE = re.compile(r"(?:与|同|跟|对口|帮扶|援助|支援|援|赴|到|联合|携手|友好|结对|协作|来自|学习)$")


@dataclass(frozen=True)
class Sources:
    """The parts of a report that can name its issuer, strongest first."""

    title: str = ""
    intro: str = ""  # 现将…报告如下
    speaker: str = ""  # names from 我代表…政府 / 在…人民代表大会 / …人民政府市长
    signature: str = ""  # the lines above the closing date
    opening: str = ""  # the first paragraph of running text
    hint: str = ""  # the file name stem and the source page title


@dataclass(frozen=True)
class Mention:
    """One place name found in the text or the hints, with its weight as a candidate issuer."""

    start: int
    end: int
    name: str
    weight: float
    qualifier: str = ""  # an ancestor's name written right before it (广州市 in 广州市海珠区)
    kind: str = "text"  # "text", "mention" (capped) or "hint"


def mentions(gaz: Gazetteer, text: str, sources: Sources, gov: str, levels: tuple[str, ...]
             ) -> list[Mention]:
    """Place names in the text and hints, each weighted by how likely it names the reporting body.

    gov is a department's government as written (海珠区 of 海珠区司法局); levels are those the
    report declares (我代表市人民政府), which let a bare file name (吉林) and short names count.
    """
    out: list[Mention] = []
    strong = ((sources.title, WEIGHT_TITLE), (sources.speaker, WEIGHT_SPEAKER),
              (sources.intro, WEIGHT_INTRO), (sources.signature, WEIGHT_SIGNATURE),
              (gov if len(gov) > 1 else "", WEIGHT_TITLE))
    for source, weight in strong:
        out += _names_in(gaz, source, weight, "text")
    hinted = _names_in(gaz, sources.hint, WEIGHT_HINT, "hint") + _hinted_by_level(gaz, sources.hint, levels)
    named = set()
    for mention in sorted(hinted, key=lambda m: -m.weight):
        if mention.name not in named:  # 广州 and 广州+市 are one hint, counted once
            named.add(mention.name)
            out.append(mention)
    opening = sources.opening
    # 「在秦州区委、区政府的领导下，天水郡街道…」: the superior named in 在…下 is not the subject.
    superiors = [(m.start(), m.end()) for m in _UNDER_LEADERSHIP.finditer(opening)]
    for found in _with_qualifiers(gaz, gaz.find_names(opening), WEIGHT_OPENING_FIRST):
        if found.weight and not any(a <= found.start < b for a, b in superiors):
            out.append(found)
            break
    out += _short_mentions(gaz, text, levels)
    cited = _cited_spans(text)
    found_all = _with_qualifiers(gaz, gaz.find_names(text), WEIGHT_MENTION, "mention")
    for k, found in enumerate(found_all):
        inside = any(a <= found.start < b for a, b in cited)
        weight = 0.0 if inside or _as_partner(text, found_all, k) else found.weight
        out.append(Mention(found.start, found.end, found.name, weight, found.qualifier, "mention"))
    return out


def _short_mentions(gaz: Gazetteer, text: str, levels: tuple[str, ...]) -> list[Mention]:
    """Provinces and cities of the declared level by short name: a speech for 我代表省人民政府
    calls its province 贵州 far more often than 贵州省. Only for those levels, where short
    names are long and distinctive enough; a 镇's report names its city this way too."""
    wanted = set(levels) & {"省", "市", "州", "盟", "地区"}
    if not wanted:
        return []
    out = []
    full = {i for a, b, _ in gaz.find_names(text) for i in range(a, b)}  # 浙江省 counts as itself once
    i, n = 0, len(text)
    while i < n:
        step = 1
        for length in (4, 3, 2) if i not in full else ():
            names = {p.name for p in gaz.shortly_named(text[i:i + length])
                     if p.tier <= 1 and level_of(p) in wanted}
            if len(names) == 1:
                if not _PARTNER_BEFORE.search(text[max(0, i - 2):i]):
                    out.append(Mention(i, i + length, names.pop(), WEIGHT_SHORT, "", "mention"))
                step = length
                break
        i += step
    return out


def _names_in(gaz: Gazetteer, source: str, weight: float, kind: str) -> list[Mention]:
    """Full names, and provinces or cities by short name (2025年广西政府工作报告, 广州.txt)."""
    if not source:
        return []
    found = gaz.find_names(source, min_length=2)
    found += _short_names(gaz, source, found)
    return _with_qualifiers(gaz, found, weight, kind)


def _hinted_by_level(gaz: Gazetteer, hint: str, levels: tuple[str, ...]) -> list[Mention]:
    """A hint that is a bare name plus the declared level word: 吉林.txt + 我代表市人民政府 -> 吉林市."""
    out = []
    for core in re.findall(r"[\u4e00-\u9fff]{2,8}", hint):
        for word in levels:
            if gaz.named(core + word) and not gaz.named(core):
                out.append(Mention(-1, -1, core + word, WEIGHT_HINT, "", "hint"))
    return out


def _short_names(gaz: Gazetteer, source: str, found: list) -> list[tuple[int, int, str]]:
    """Provinces and cities named by short name in a strong position."""
    taken = {i for a, b, _ in found for i in range(a, b)}
    extra = []
    for length in (4, 3, 2):
        for i in range(len(source) - length + 1):
            if any(j in taken for j in range(i, i + length)):
                continue
            places = [p for p in gaz.shortly_named(source[i:i + length]) if p.tier <= 1]
            names = {p.name for p in places}
            if len(names) == 1:
                extra.append((i, i + length, names.pop()))
                taken.update(range(i, i + length))
    return extra


def _as_partner(text: str, found: list[Mention], k: int) -> bool:
    """True when a mention names a partner or one example among several (A市、B市、C市)."""
    mention = found[k]
    if _PARTNER_BEFORE.search(text[max(0, mention.start - 2):mention.start]):
        return True
    before = found[k - 1] if k else None
    after = found[k + 1] if k + 1 < len(found) else None
    joined_before = before is not None and text[before.end:mention.start] in ("、", "和", "及")
    joined_after = after is not None and text[mention.end:after.start] in ("、", "和", "及")
    return joined_before or joined_after or text[mention.end:mention.end + 1] == "等"


def _with_qualifiers(gaz: Gazetteer, found: list[tuple[int, int, str]], weight: float,
                     kind: str = "text") -> list[Mention]:
    """Mentions where a name written right before a descendant's name (广州市海珠区) qualifies it."""
    found = sorted(found)
    out = []
    for k, (start, end, name) in enumerate(found):
        nxt = found[k + 1] if k + 1 < len(found) else None
        if nxt and nxt[0] == end and _contains(gaz, name, nxt[2]):
            out.append(Mention(start, end, name, 0.0, "", kind))  # only a qualifier here
            continue
        prev = found[k - 1] if k else None
        qualifier = prev[2] if prev and prev[1] == start and _contains(gaz, prev[2], name) else ""
        out.append(Mention(start, end, name, weight, qualifier, kind))
    return out


def _contains(gaz: Gazetteer, outer: str, inner: str) -> bool:
    """True when some place called `outer` contains some place called `inner`."""
    outer_rows = {p.row for p in gaz.named(outer)}
    return any(a.row in outer_rows for p in gaz.named(inner) for a in gaz.ancestors(p))


def _cited_spans(text: str) -> list[tuple[int, int]]:
    """Ranges inside 《》: titles of other documents, whose places are not the issuer."""
    return [(m.start(), m.end()) for m in re.finditer(r"《[^《》\n]{0,80}》", text)]
