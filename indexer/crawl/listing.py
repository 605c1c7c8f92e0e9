"""A portal's listing page -> the article links of its list and the links to its other pages."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from indexer.crawl.dates import iso_date

# Pagination words of Chinese portals; 上一页/首页/尾页 only count inside a pager block.
NEXT_WORDS = frozenset({"下一页", "下页", "后一页", "下一頁", "next", "›", "»", ">", ">>"})
PAGER_WORDS = frozenset({"上一页", "上页", "前一页", "首页", "尾页", "末页", "最后一页", "第一页"}) | NEXT_WORDS
_PAGER_BLOCK = re.compile(r"pag|fenye|fy\b|pager|turn", re.IGNORECASE)
_PAGED_HREF = re.compile(
    r"(?:index|list|default)_\d+\.s?html?$|[?&](?:page|pageno|pageindex|pagenum|curpage|p|pn)=\d+", re.IGNORECASE
)
# createPageHTML(10, 0, "index", "html") and createPageHTML('page_div', 10, 1, 'index', 'html', 200):
# the first number is the page count, the first two quoted words the file prefix and suffix.
_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^)]*)\)", re.IGNORECASE)
_SCRIPT_URL = re.compile(r"""['"]([^'"\s]+?\.(?:s?html?|jsp|php|aspx?|pdf|docx?))['"]""", re.IGNORECASE)
_LIST_DATE = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
# A list entry's title is longer than a menu item; 6 characters keeps 「普法工作总结」 and drops 「政务公开」.
MIN_TITLE_CHARS = 6
MAX_SCRIPT_PAGES = 500
_CHROME = re.compile(r"(?:^|[\s_-])(?:nav|menu|header|footer|top|foot|bottom|bread|crumbs?|breadcrumbs?|position)(?:$|[\s_-])", re.IGNORECASE)


@dataclass(frozen=True)
class ListedLink:
    """One entry of a listing: where it points, its title and the date shown beside it."""

    url: str
    text: str
    date: str = ""  # YYYY-MM-DD or ""


@dataclass(frozen=True)
class Listing:
    """What a listing page offers."""

    links: tuple[ListedLink, ...]
    next_pages: tuple[str, ...]
    refused: tuple[tuple[str, str], ...] = ()  # (link, sentence): list entries that are not pages


def read_listing(root, url: str) -> Listing:
    """The article links of the page's main list, and every pagination link found on it."""
    base = _base_url(root, url)
    entries, refused = _list_entries(root, base)
    return Listing(tuple(entries), tuple(_next_pages(root, base, url)), tuple(refused))


def _base_url(root, url: str) -> str:
    for element in root.iter("base"):
        if element.get("href"):
            return urljoin(url, element.get("href").strip())
    return url


def absolute(base: str, href: str) -> str:
    """`href` resolved against `base`, without its #fragment."""
    return urldefrag(urljoin(base, href.strip()))[0]


def _text(element) -> str:
    return " ".join((element.text_content() or "").split())


def _in_chrome(element) -> bool:
    for ancestor in element.iterancestors():
        if ancestor.tag in ("nav", "header", "footer"):
            return True
        marker = f"{ancestor.get('class', '')} {ancestor.get('id', '')}"
        if _CHROME.search(marker):
            return True
    return False


def _container_key(anchor) -> tuple:
    """The list an anchor belongs to, named by its tag-and-class path so that a list split
    into several <ul class="list"> blocks counts as one."""
    item = anchor
    for ancestor in anchor.iterancestors():
        if ancestor.tag in ("li", "tr", "dd", "dt"):
            item = ancestor
            break
    container = item.getparent() if item is not anchor else anchor.getparent()
    path = []
    node = container
    while node is not None:
        path.append(f"{node.tag}.{node.get('class', '')}")
        node = node.getparent()
    return tuple(reversed(path))


def _list_entries(root, base: str) -> tuple[list[ListedLink], list[tuple[str, str]]]:
    groups: dict[tuple, list] = {}
    for anchor in root.iter("a"):
        text = _text(anchor) or (anchor.get("title") or "").strip()
        if len(text) < MIN_TITLE_CHARS or text.lower() in PAGER_WORDS or _in_chrome(anchor):
            continue
        if anchor.get("href") is None:
            continue
        groups.setdefault(_container_key(anchor), []).append((anchor, text))
    if not groups:
        return [], []
    best = max(groups.values(), key=len)
    entries: list[ListedLink] = []
    refused: list[tuple[str, str]] = []
    seen: set[str] = set()
    for anchor, text in best:
        href = anchor.get("href").strip()
        target, reason = _link_target(base, href)
        if reason:
            refused.append((href, reason))
            continue
        if target in seen:
            continue
        seen.add(target)
        entries.append(ListedLink(target, (anchor.get("title") or text).strip(), _entry_date(anchor)))
    return entries, refused


def _link_target(base: str, href: str) -> tuple[str, str]:
    """(absolute URL, '') for a followable link, ('', sentence) for one that is not a page."""
    lower = href.lower()
    if lower.startswith("javascript:"):
        match = _SCRIPT_URL.search(href)
        if match:  # window.open('/art/2024/...html'): the script only opens a page
            return absolute(base, match.group(1)), ""
        return "", "is a script link (javascript:), not the address of a page."
    if lower.startswith(("mailto:", "tel:")):
        return "", "is an e-mail address or a phone number, not the address of a page."
    if not href or href.startswith("#"):
        return "", "points inside the listing itself."
    target = absolute(base, href)
    if urlsplit(target).scheme not in ("http", "https"):
        return "", f"uses the {urlsplit(target).scheme}: scheme; only http:// and https:// pages are fetched."
    return target, ""


def _entry_date(anchor) -> str:
    item = anchor
    for ancestor in anchor.iterancestors():
        if ancestor.tag in ("li", "tr", "dd", "dt"):
            item = ancestor
            break
    match = _LIST_DATE.search(_text(item))
    return iso_date(*match.groups()) if match else ""


def _next_pages(root, base: str, url: str) -> list[str]:
    pages: dict[str, None] = {}
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        text = _text(anchor).replace(" ", "").lower()
        in_pager = any(_PAGER_BLOCK.search(f"{a.get('class', '')} {a.get('id', '')}") for a in anchor.iterancestors())
        numbered = text.isdigit() or text in PAGER_WORDS
        if text in NEXT_WORDS or (in_pager and numbered) or (_PAGED_HREF.search(href) and numbered):
            target = absolute(base, href)
            if urlsplit(target).scheme in ("http", "https"):
                pages[target] = None
    for script in root.iter("script"):
        for match in _CREATE_PAGE.finditer(script.text or ""):
            pages.update(dict.fromkeys(_script_pages(match.group(1), base)))
    pages.pop(urldefrag(url)[0], None)
    return list(pages)


def _script_pages(arguments: str, base: str) -> list[str]:
    """The page URLs a createPageHTML(count, current, "index", "html") call would link to."""
    numbers = [int(n) for n in re.findall(r"(?<![\w.'\"])(\d+)(?![\w.'\"])", arguments)]
    words = re.findall(r"""['"]([\w\-]+)['"]""", arguments)
    words = [w for w in words if not w.endswith(("div", "Div"))]
    if not numbers or len(words) < 2:
        return []
    count = min(numbers[0], MAX_SCRIPT_PAGES)
    prefix, suffix = words[0], words[1]
    folder = urlunsplit(urlsplit(base)._replace(query="", fragment=""))
    return [urljoin(folder, f"{prefix}_{n}.{suffix}") for n in range(1, count)]
