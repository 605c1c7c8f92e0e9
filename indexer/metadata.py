"""Read a report's issuer, level, region, year reported on, publication date and title from its text.

Input is the normalised text (Simplified, see indexer.normalize). Nothing here raises on
odd text: what cannot be read is left empty ("" or None) for the caller to decide. Nothing
is invented either: a field the text does not state is taken from the hints (file name,
source page) only, and is then listed in ReportMeta.derived.
"""
from __future__ import annotations

import datetime
import re
from pathlib import PurePosixPath

from indexer.gazetteer import Gazetteer, load_gazetteer
from indexer.issuer import (
    LEVEL_NATIONAL,
    NATIONAL,
    Issuer,
    Sources,
    find_issuer,
    is_national,
    speaker_names,
)
from indexer.records import TITLE_NAMED, ReportMeta, SourceHints
from indexer.report_year import report_year, year_opening
from indexer.sections import heading_level

TITLE_MAX = 80
SIGNATURE_MAX = 30  # a signature line above the date is short: 海珠区司法局
_SALUTATIONS = ("各位代表", "各位委员", "各位主任", "同志们")  # a speech has begun: no title below
_CJK = re.compile(r"[\u3400-\u9fff]")
_SUBTITLE = re.compile(r"^(?:[—\-－（(]|(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月)")  # ——2025年1月15日在…
_INTRO_TITLE = re.compile(r"现将(.{4,70}?报告)如下")
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_DATE = (
    r"(?P<y>(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4})\s*年\s*"
    r"(?P<m>\d{1,2}|[一二三四五六七八九十]{1,2})\s*月\s*"
    r"(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日"
)
# A line that is only a date, or a signature followed by one: 粤海街道办事处 2024年11月21日
_DATE_LINE = re.compile(
    r"^(?P<sig>[^。，,；;：:\s]{0,25}?(?:办事处|政府|街道|镇|乡|区|县|市|省|局|委员会|办公室))?\s*" + _DATE + r"\s*$"
)
# The delivery date under a speech title: ——2025年1月15日（省长 XX）在广东省第十四届人民代表大会…
_SPEECH_DATE = re.compile(r"^[—\-－\s（(]*" + _DATE + r"[^。，,]{0,30}?在")
# A file name carries no title when it is only an id: 001_853fd82f221bc387.txt
_ID_STEM = re.compile(r"^[\w\-.]*$", re.ASCII)


def extract_metadata(doc_id: str, text: str, gazetteer: Gazetteer | None = None,
                     hints: SourceHints | None = None) -> ReportMeta:
    """What the report says about itself; hints fill only what the text leaves unsaid.

    The title is the report's own title line, else the 「现将…报告如下」 phrase, else the
    source page's title, else the file name's stem (or, when that is only an id, the issuer and
    year the text states); the last ones are marked derived. So are
    issuer, region and year when only the file name or page title decided them.
    """
    if not isinstance(text, str):
        text = ""
    hints = hints or SourceHints()
    gaz = gazetteer if gazetteer is not None else load_gazetteer()
    lines = [line.strip() for line in text.splitlines()]
    title_line, title_index = _title_line(lines)
    intro_title = _intro_title(text)
    hint_title = _hint_title(hints)
    sources = Sources(
        title=title_line, intro=intro_title, speaker=speaker_names(text),
        signature=_signature(lines), opening=_opening(lines, title_index),
        hint=" ".join(part for part in (_file_stem(hints.file_name), hints.page_title) if part),
    )
    derived: list[str] = []
    if is_national(sources, text):
        # 「我代表国务院，向大会报告政府工作」: the State Council, not a place it names.
        found = Issuer(NATIONAL, None, LEVEL_NATIONAL)
    else:
        found = find_issuer(gaz, text, sources)
        derived += found.derived
    year, year_derived = report_year(title_line or intro_title, year_opening(lines, title_index + 1), text,
                                     hint_title, hints.published)
    if year_derived:
        derived.append("year")
    title = title_line or intro_title
    hints_name_it = bool(hints.page_title.strip() or _file_stem(hints.file_name))
    if not title and not hints_name_it:
        title = _first_line_title(lines)  # not a report (a notice, a policy page): its own first line
    if not title and hint_title and _CJK.search(text):
        derived.insert(0, "title")
        # 《001_853fd82f221bc387》 tells a reader nothing; the text's issuer and year do.
        named = "" if hints_name_it else _named_title(found, year, text)
        if named:
            derived.append(TITLE_NAMED)
        title = named or hint_title
    published = _published(lines)
    if not published and hints.published:
        published = hints.published
        derived.append("published")
    province, city, district = found.region
    return ReportMeta(
        doc_id=doc_id,
        title=title,
        issuer=found.name,
        level=found.level,
        province=province,
        city=city,
        district=district,
        year=year,
        published=published,
        source_url=hints.source_url,
        derived=tuple(derived),
    )


def _file_stem(file_name: str) -> str:
    """The file name without folders and extension, or "" when it is only an id."""
    stem = PurePosixPath(file_name.replace("\\", "/")).stem if file_name else ""
    return "" if _ID_STEM.match(stem) else stem


def _named_title(found: Issuer, year: int | None, text: str) -> str:
    """A title for an untitled report named only by an id: its issuer, its year and what it is
    about (「天水郡街道2023年法治政府建设年度报告」), or "" when the text does not say both."""
    if not found.name or not year or found.level == LEVEL_NATIONAL:
        return ""
    kind = "法治政府建设年度报告" if text.count("法治政府建设") >= 2 else "年度报告"
    return f"{found.name}{year}年{kind}"


def _hint_title(hints: SourceHints) -> str:
    """The source page's title, else the file name's stem: what to call a report without a title."""
    return hints.page_title.strip() or PurePosixPath(hints.file_name.replace("\\", "/")).stem


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
        if "。" in line or len(line) > TITLE_MAX or line.startswith(_SALUTATIONS):
            break  # running text (or a speech, from 各位代表 on) has started: no title line
        if "现将" in line or line.startswith("来源") or _SUBTITLE.match(line):
            continue
        if "报告" in line or "总结" in line:
            return line, index
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following.startswith("关于") and "报告" in following and len(line + following) <= TITLE_MAX:
            return line + following, index + 1
    return "", -1


def _first_line_title(lines: list[str]) -> str:
    """The first line of Chinese when it reads as a title: short, not running text, a heading,
    a salutation or a source line. Used only when neither the text's report title nor the source
    (page title, a file name that is not an id) names the document."""
    line = next((line for line in lines if _CJK.search(line)), "")
    if (len(line) < 4 or len(line) > TITLE_MAX or re.search(r"[。；;，,：:！？!?]$|。", line)
            or line.startswith(_SALUTATIONS) or line.startswith("来源") or _SUBTITLE.match(line)
            or heading_level(line)):
        return ""
    return line


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


def _signature(lines: list[str]) -> str:
    """The signature above the closing date (or before it on the date's own line)."""
    for index in range(len(lines) - 1, max(-1, len(lines) - 8), -1):
        match = _DATE_LINE.match(lines[index])
        if not match:
            continue
        parts = [match["sig"] or ""]
        for line in reversed(lines[max(0, index - 2):index]):
            if not line or "。" in line or len(line) > SIGNATURE_MAX:
                break
            parts.insert(0, line)
        return " ".join(p for p in parts if p)
    return ""


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
