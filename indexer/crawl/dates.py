"""A web page's publication date: the portal's own 发布时间/发布日期/日期 line first, htmldate after."""
from __future__ import annotations

import datetime as dt
import re

# Labels in the order they are trusted: a page may show 成文日期 and 发布日期 side by side.
_LABELS = ("发布时间", "发布日期", "公开日期", "发文日期", "日期", "时间", "成文日期", "更新时间")
_LABELLED = re.compile(
    r"(" + "|".join(_LABELS) + r")\s*[：:]\s*"
    r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
)
_META_NAMES = ("pubdate", "publishdate", "firstpublishedtime", "article:published_time", "dc.date",
               "dc.date.issued", "og:published_time", "maketime")
_META_DATE = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
EARLIEST_YEAR = 1990


def iso_date(year: int | str, month: int | str, day: int | str, today: dt.date | None = None) -> str:
    """'YYYY-MM-DD' for a real calendar date from 1990 to next year, else ''."""
    today = today or dt.date.today()
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        return ""
    return date.isoformat() if EARLIEST_YEAR <= date.year <= today.year + 1 else ""


def labelled_date(text: str) -> str:
    """The date after the most trusted label (发布时间：2024-03-28, 发布日期：2024年3月29日...), or ''."""
    best: tuple[int, str] | None = None
    for match in _LABELLED.finditer(text):
        date = iso_date(*match.group(2, 3, 4))
        rank = _LABELS.index(match.group(1))
        if date and (best is None or rank < best[0]):
            best = (rank, date)
    return best[1] if best else ""


def meta_date(root) -> str:
    """The date of a <meta name="PubDate"> (or a like name) in a parsed page, or ''."""
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        if name in _META_NAMES:
            match = _META_DATE.search(meta.get("content") or "")
            if match and (date := iso_date(*match.groups())):
                return date
    return ""


def find_published(root, markup: str, visible_text: str, url: str) -> str:
    """The page's publication date as YYYY-MM-DD, or '' when it gives none."""
    date = labelled_date(visible_text) or meta_date(root)
    if date:
        return date
    import htmldate  # the general web fallback: JSON-LD, <time>, URL paths, common markup

    found = htmldate.find_date(
        markup, url=url, original_date=True, extensive_search=False, outputformat="%Y-%m-%d",
        min_date=f"{EARLIEST_YEAR}-01-01",
    )
    return iso_date(*found.split("-")) if found else ""
