"""An article page -> its title, publication date, main text without the portal's chrome, and attachments."""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urldefrag, urljoin, urlsplit

import lxml.html
from lxml.etree import LxmlError, ParserError

from indexer.crawl.dates import find_published
from indexer.errors import UnreadableSource
from indexer.sources import MIN_COMMON_SHARE, charset_codec, common_share, meta_charset, read_bytes

# Attachment kinds a report is published as; .doc and .wps are listed so that the user is told
# why they cannot be read, rather than never hearing of them.
ATTACHMENT_SUFFIXES = (".docx", ".pdf", ".txt", ".doc", ".wps")
# An article whose own text is shorter than this, apart from its title, date line and links,
# is a cover page: its report is in the attachment.
MIN_BODY_CHARS = 120

_UTF8 = frozenset({"utf-8", "utf8", "utf_8"})
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|--|—|－|\s-\s)\s*")
_TITLE_METAS = ("articletitle", "og:title", "title", "dc.title")
# Lines of portal chrome that the extractor sometimes keeps: date/source lines, font-size
# switches, print/close buttons, breadcrumbs, share bars. Only short lines are considered.
_DEBRIS = re.compile(
    r"^[【\[]?\s*(?:发布时间|发布日期|发布机构|公开日期|日期|时间|来源|信息来源|文章来源|作者|浏览次数|阅读次数|"
    r"点击数|访问量|字号|字体|分享到|当前位置|您现在的位置|您的位置|打印本页|打印|关闭窗口|关闭|返回顶部|扫一扫)"
)
_FONT_SIZES = re.compile(r"^[【\[]?\s*(?:字号|字体)?\s*[：:]?\s*大\s*中\s*小\s*[】\]]?$")
MAX_DEBRIS_LINE = 80


@dataclass(frozen=True)
class ArticlePage:
    """What was read from one article page."""

    url: str
    title: str
    published: str  # YYYY-MM-DD or ""
    body: str  # the main text, without title and chrome
    attachments: tuple[str, ...]  # absolute URLs of linked report files, best kind first
    encoding: str

    @property
    def is_cover_page(self) -> bool:
        """True when the page only points at an attached file instead of carrying the report."""
        return bool(self.attachments) and len(re.sub(r"\s", "", self.body)) < MIN_BODY_CHARS

    def report_text(self) -> str:
        """The title as first line (unless the body already opens with it), then the body."""
        head = "\n".join(self.body.splitlines()[:3])
        if self.title and self.title not in head:
            return f"{self.title}\n{self.body}"
        return self.body


_BINARY_MAGIC = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a zip archive"), (b"\x1f\x8b", "a gzip archive"), (b"%PDF-", "a PDF file"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"), (b"\x7fELF", "a program"), (b"MZ", "a program"),
)


def check_markup(data: bytes, name: str) -> None:
    """Raise UnreadableSource when bytes served as a page are binary (an image, an archive, NUL bytes)."""
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            raise UnreadableSource(name, f"is {kind}, not a web page.")
    head = data[:8192]
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableSource(name, "is binary data (it contains NUL bytes), not a web page.")


def decode_html(data: bytes, name: str, declared: str = "") -> tuple[str, str]:
    """Decode a page: BOM, strict UTF-8, the declared charsets (HTTP header, then <meta>), then detection.

    UTF-8 comes before any declaration because Chinese portals often declare gb2312 for pages
    re-saved as UTF-8 (and the other way round), and valid UTF-8 is almost never an accident.
    """
    check_markup(data, name)
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, "replace"), codec
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    labels = [declared, meta_charset(data)]
    declared_codecs = [charset_codec(label) for label in labels]
    best: tuple[float, str, str] | None = None
    for codec in dict.fromkeys(c for c in declared_codecs + ["gb18030", "big5"] if c and c not in _UTF8):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        share = common_share(text)
        if share >= MIN_COMMON_SHARE and codec in declared_codecs:
            return text, codec  # the declaration reads well: trust it
        if best is None or share > best[0]:
            best = (share, codec, text)
    if best is not None and best[0] >= MIN_COMMON_SHARE:
        return best[2], best[1]
    said = f" (it declares {', '.join(label for label in labels if label)})" if any(labels) else ""
    raise UnreadableSource(name, f"is a web page whose text could not be decoded as UTF-8, GB18030 or Big5{said}.")


def parse_html(markup: str, name: str):
    """Parse markup with lxml; raise UnreadableSource for a page without any element."""
    markup = re.sub(r"^\s*<\?xml[^>]*\?>", "", markup, count=1)
    if not markup.strip():
        raise UnreadableSource(name, "is an empty web page.")
    try:
        return lxml.html.document_fromstring(markup)
    except (ParserError, LxmlError, ValueError) as exc:
        raise UnreadableSource(name, f"is a web page that could not be parsed ({type(exc).__name__}).") from exc


def read_article(data: bytes, url: str, declared_charset: str = "") -> ArticlePage:
    """Read an article page's bytes; raise UnreadableSource when they are not a readable page."""
    markup, encoding = decode_html(data, url, declared_charset)
    root = parse_html(markup, url)
    visible = visible_text(root)
    body = main_text(markup, root)
    return ArticlePage(
        url=url,
        title=page_title(root, markup),
        published=find_published(root, markup, visible, url),
        body=body,
        attachments=attachment_links(root, url),
        encoding=encoding,
    )


def visible_text(root) -> str:
    """Every text node outside script and style, joined by spaces (for the date line)."""
    return " ".join(root.xpath("//text()[not(ancestor::script) and not(ancestor::style)]"))


def page_title(root, markup: str) -> str:
    """The article's title: its ArticleTitle-like <meta>, the extractor's title, else <title> without the site name."""
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        content = " ".join((meta.get("content") or "").split())
        if name in _TITLE_METAS and len(content) >= 4:
            return content
    import trafilatura

    found = trafilatura.extract_metadata(markup)
    if found is not None and found.title:
        return " ".join(found.title.split())
    title = root.findtext(".//title") or ""
    return _TITLE_SEPARATORS.split(" ".join(title.split()))[0]


def main_text(markup: str, root) -> str:
    """The article's main text, one paragraph a line, without navigation, sidebars and footers.

    trafilatura reads most portals well; a page laid out in tables (older portals) comes back
    as one table, and then the element holding the most paragraph text is taken instead.
    """
    import trafilatura

    try:
        extracted = trafilatura.extract(
            markup, include_tables=True, include_comments=False, include_links=False, include_images=False,
            deduplicate=False, favor_precision=True,
        ) or ""
    except (LxmlError, ValueError, TypeError, RecursionError):
        extracted = ""  # a page the extractor chokes on still has its densest block
    densest = _densest_text(root)
    if not extracted.strip() or _is_layout_table(extracted, densest):
        extracted = densest
    return _drop_debris(extracted)


def _is_layout_table(extracted: str, densest: str) -> bool:
    """True when the extractor returned the page's layout table: the body sits inside a '| ... |' row."""
    lines = [line for line in densest.splitlines() if line.strip()]
    if not lines:
        return False
    probe = lines[0].strip()[:20]
    return any(row.lstrip().startswith("|") and probe in row for row in extracted.splitlines())


def _densest_text(root) -> str:
    """The text of the element whose own paragraphs hold the most non-link text."""
    scores: dict[object, int] = {}
    for element in root.iter("p", "div", "td", "article", "section", "span", "font"):
        own = (element.text or "") + "".join(child.tail or "" for child in element)
        length = len(re.sub(r"\s", "", own))
        if element.tag in ("p", "span", "font"):
            parent = element.getparent()
            if parent is not None:
                length = len(re.sub(r"\s", "", element.text_content() or "")) - _link_chars(element)
                scores[parent] = scores.get(parent, 0) + max(length, 0)
            continue
        if length:
            scores[element] = scores.get(element, 0) + length
    if not scores:
        return ""
    best = max(scores, key=scores.get)
    html = lxml.html.tostring(best, encoding="utf-8")
    try:
        return read_bytes(b"<html><body>" + html + b"</body></html>", "block.html").text
    except UnreadableSource:
        return ""


def _link_chars(element) -> int:
    return sum(len(re.sub(r"\s", "", a.text_content() or "")) for a in element.iter("a"))


def _drop_debris(text: str) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.strip(" \t\u3000\xa0")
        if not stripped:
            continue
        if len(stripped) <= MAX_DEBRIS_LINE and (_DEBRIS.match(stripped) or _FONT_SIZES.match(stripped)):
            continue
        lines.append(stripped)
    return "\n".join(lines)


def attachment_links(root, page_url: str) -> tuple[str, ...]:
    """Absolute URLs of the report files the page links to (.docx, .pdf first; .doc/.wps last)."""
    base = page_url
    for element in root.iter("base"):
        if element.get("href"):
            base = urljoin(page_url, element.get("href").strip())
            break
    found: dict[str, int] = {}
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        kind = attachment_kind(href) or attachment_kind(anchor.text_content() or "")
        if kind:
            url = urldefrag(urljoin(base, href))[0]
            found.setdefault(url, ATTACHMENT_SUFFIXES.index(kind))
    return tuple(sorted(found, key=found.get))


def attachment_kind(href_or_name: str) -> str:
    """The attachment suffix ('.pdf', '.docx', ...) of a link or file name, or ''."""
    parts = urlsplit(href_or_name.strip())
    names = [unquote(parts.path)] + [unquote(v) for _k, v in parse_qsl(parts.query)]
    for name in names:
        lower = name.lower().rstrip()
        for suffix in ATTACHMENT_SUFFIXES:
            if lower.endswith(suffix):
                return suffix
    return ""
