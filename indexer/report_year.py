"""The year a report reports on: its title's year, a work report's year under review, or its opening's."""
from __future__ import annotations

import re
from collections import Counter

YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?=年|来)(?!年\s*\d{1,2}\s*月)")
# 「一、2023年工作回顾」, 「2023年国内工作的回顾」, 「首先报告2001年的工作」: the year under review.
_REVIEW_HEADING = re.compile(
    r"(?m)^\s*(?:[一二三四五六七八九十]+\s*[、.．]\s*)?(?:首先报告\s*)?"
    r"(?P<y>(?:19|20)\d{2})\s*年(?:国内|全市|全省|全州|全区|全县)?(?:的)?工作(?:的)?(?:回顾|总结)?"
)
_JUST_PASSED = re.compile(r"(?:刚刚|刚)?过去的\s*((?:19|20)\d{2})\s*年")
_LAST_YEAR = re.compile(r"过去(?:的)?一年|一年来|去年工作回顾")
# The delivery date of a speech: ——2024年1月16日在亳州市第五届人民代表大会…, （2024年1月29日在…）
_DELIVERED = re.compile(r"((?:19|20)\d{2})\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日[^。\n]{0,40}?人民代表大会")
# A speech to a people's congress: what makes a text a government work report.
WORK_REPORT = re.compile(r"我代表[^，。\n]{0,20}?(?:政府|国务院|行署|行政公署)|政府工作报告|向大会(?:报告|作)[^，。\n]{0,6}工作")
# Lines of a speech's preamble, which name no year of their own: 各位代表 / 我代表市人民政府…
_PREAMBLE = ("各位代表", "我代表", "请予审议", "各位委员", "各位主任")
REVIEW_SPAN = 4000  # the review's heading and 「过去一年」 stand at the start of a work report


def title_year(title: str) -> int | None:
    """The first plausible year written in a title."""
    for match in YEAR.finditer(title):
        if 1949 <= int(match.group(1)) <= 2100:
            return int(match.group(1))
    return None


def delivery_year(text: str) -> int | None:
    """The year a speech was delivered, from its date line under the title."""
    match = _DELIVERED.search(text[:1500])
    return int(match.group(1)) if match else None


def is_work_report(title: str, text: str) -> bool:
    """True for a government work report (a speech to a people's congress)."""
    return bool(WORK_REPORT.search(title) or WORK_REPORT.search(text[:1500]))


def reviewed_year(text: str, delivered: int | None) -> int | None:
    """The year a work report reviews: its 「2023年工作回顾」 heading, 「刚刚过去的2023年」, or the
    year before its delivery when it speaks of 「过去一年」 (or says nothing else)."""
    head = text[:REVIEW_SPAN]
    for pattern in (_REVIEW_HEADING, _JUST_PASSED):
        match = pattern.search(head)
        if match and 1949 <= int(match.group(1)) <= 2100:
            return int(match.group(1))
    if delivered is not None:
        return delivered - 1
    return None


def opening_year(opening: str) -> int | None:
    """The commonest year of the opening paragraph; a year opening it wins a tie."""
    years = [(m.start(), int(m.group(1))) for m in YEAR.finditer(opening)]
    years = [(at, y) for at, y in years if 1949 <= y <= 2100]
    if not years:
        return None
    counts: Counter[int] = Counter(y for _, y in years)
    first_at, first = years[0]
    if first_at < 5:
        counts[first] += 0.5  # 「2024年，…」 opens the report: it wins a tie
    return max(counts, key=lambda y: (counts[y], -min(a for a, v in years if v == y)))


def dominant_year(text: str) -> int | None:
    """A year that clearly dominates the whole text (at least twice, more than any other)."""
    counts = Counter(int(m.group(1)) for m in YEAR.finditer(text))
    ranked = [(n, y) for y, n in counts.most_common(2) if 1949 <= y <= 2100]
    if ranked and ranked[0][0] >= 2 and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
        return ranked[0][1]
    return None


def year_opening(lines: list[str], start: int) -> str:
    """The first paragraph of running text after line `start` that is not a speech's preamble."""
    for line in lines[start:]:
        if len(line) >= 20 and not line.startswith("来源") and not any(w in line for w in _PREAMBLE):
            return line
    return ""


def report_year(title: str, opening: str, text: str, hint_title: str = "",
                hint_published: str = "") -> tuple[int | None, bool]:
    """(the year reported on, whether it was taken from hints rather than the text).

    A work report reports on the year it reviews, not the year in its title (the 2025
    report reviews 2024). Any other report: its title's year, else the opening paragraph's
    commonest year, else a year dominating the text. Hints (the file name or page title,
    a work report's page date) count only when the text says nothing.
    """
    work = is_work_report(title or hint_title, text)
    if work:
        delivered = delivery_year(text) or (title_year(title) if "政府工作报告" in title else None)
        year = reviewed_year(text, delivered)
        if year is not None:
            return year, False
    else:
        year = title_year(title)
        if year is not None:
            return year, False
    year = opening_year(opening) or dominant_year(text)
    if year is not None:
        return year, False
    work = work or "政府工作报告" in hint_title
    hinted = title_year(hint_title)
    if hinted is None and work and hint_published[:4].isdigit():
        hinted = int(hint_published[:4])  # only a work report's date says which year it reviews
    if hinted is not None and work:
        hinted -= 1  # a work report delivered (or named for) that year reviews the one before
    return hinted, hinted is not None
