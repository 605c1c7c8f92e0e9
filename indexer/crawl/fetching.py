"""Fetch one URL (an article page or a direct .docx/.pdf link) into a SourceText with its page's hints."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from indexer.build import doc_id_for
from indexer.crawl.client import Fetched, PoliteClient
from indexer.crawl.listing import ListedLink
from indexer.crawl.pages import ArticlePage, attachment_kind, read_article
from indexer.crawl.state import CrawlState, UrlState
from indexer.errors import FetchError, UnreadableSource
from indexer.records import SourceHints
from indexer.sources import SourceText, read_bytes

FETCHED = "fetched"
NOT_MODIFIED = "not modified"
SKIPPED = "skipped"

# A report's title or opening names its subject (法治政府建设, 依法行政...) and its kind (报告...).
_REPORT_SUBJECT = re.compile(r"法治政府|依法行政|法治建设|法治.{0,6}工作|法治.{0,4}情况")
_REPORT_KIND = re.compile(r"报告|情况|总结|述法")
REPORT_PROBE_CHARS = 400
# Real article and listing pages are well under 1 MB; main-text extraction of a page much larger
# takes many seconds, so pages above this are refused (files keep the client's larger cap).
MAX_PAGE_BYTES = 5 * 1024 * 1024
_ATTACHMENT_TYPES = ("application/pdf", "application/msword", "application/vnd.openxmlformats",
                     "application/octet-stream", "application/x-download", "application/kswps", "application/wps")
_FILE_MAGIC = (b"%PDF-", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


@dataclass(frozen=True)
class FetchOutcome:
    """What became of one URL: fetched (with the report's text), not modified, or skipped with a sentence."""

    url: str
    status: str  # fetched / not modified / skipped
    reason: str = ""
    doc_id: str = ""
    title: str = ""
    published: str = ""
    source: SourceText | None = field(default=None, compare=False, repr=False)
    # What to remember of each URL read, once the report is safely in the index.
    remember: tuple[tuple[str, UrlState], ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict:
        return {"url": self.url, "status": self.status, "reason": self.reason, "doc_id": self.doc_id,
                "title": self.title, "published": self.published}

    def line(self) -> str:
        """One line for people."""
        if self.status == FETCHED:
            detail = " ".join(part for part in (self.title, f"({self.published})" if self.published else "") if part)
            return f"  fetched {self.url} as {self.doc_id}" + (f": {detail}" if detail else "")
        return f"  {self.status} {self.url}: {self.reason}"


def url_doc_id(url: str) -> str:
    """A report id stable across crawls: the page's file name plus a short hash of its whole URL."""
    stem = PurePosixPath(unquote(urlsplit(url).path)).stem or "index"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    return doc_id_for(PurePosixPath(f"{stem[:60]}_{digest}"))


def is_report(title: str, text: str) -> bool:
    """True when the title, or failing it the opening of the text, reads as a rule-of-law work report."""
    for probe in (title, text[:REPORT_PROBE_CHARS]):
        if _REPORT_SUBJECT.search(probe) and _REPORT_KIND.search(probe):
            return True
    return False


def is_file(fetched: Fetched) -> bool:
    """True when a response is a document file (by its first bytes or its media type), not a web page."""
    if fetched.content.startswith(_FILE_MAGIC):
        return True
    return fetched.content_type.startswith(_ATTACHMENT_TYPES)


def fetch_report(
    client: PoliteClient,
    url: str,
    state: CrawlState,
    listed: ListedLink | None = None,
    conditional: bool = True,
    reports_only: bool = True,
) -> FetchOutcome:
    """Fetch `url` and read the report it holds; never raises for anything the site does."""
    known = state.get(url) if conditional else None
    try:
        fetched = client.get(url, known.validators if known else None)
    except FetchError as error:
        return FetchOutcome(url, SKIPPED, error.reason)
    if fetched.not_modified:
        return FetchOutcome(url, NOT_MODIFIED, "it has not changed since the last crawl (HTTP 304).",
                            doc_id=known.doc_id if known else "")
    try:
        if is_file(fetched) or (attachment_kind(fetched.final_url) and fetched.content_type != "text/html"):
            return _file_outcome(fetched, state, listed, conditional, reports_only)
        check_page_size(fetched)
        page = read_article(fetched.content, fetched.final_url, fetched.charset)
        if page.is_cover_page:
            return _attachment_outcome(client, fetched, page, state, conditional, reports_only)
        if not page.body.strip():
            return FetchOutcome(url, SKIPPED, "the page shows no text to index (it may be drawn by scripts).")
        source = _page_source(fetched.final_url, page)
    except UnreadableSource as error:
        return FetchOutcome(url, SKIPPED, _served_as(fetched, error.reason))
    return _outcome(fetched, source, page.title, page.published, state if conditional else None, reports_only)


def check_page_size(fetched: Fetched) -> None:
    """Raise UnreadableSource for a web page too large to be an article or a listing."""
    if len(fetched.content) > MAX_PAGE_BYTES:
        raise UnreadableSource(
            fetched.final_url,
            f"is a {len(fetched.content) / 1048576:.1f} MB web page, more than the {MAX_PAGE_BYTES / 1048576:g} MB "
            "an article or listing page is read up to.",
        )


def _served_as(fetched: Fetched, reason: str) -> str:
    if fetched.content_type:
        return f"it is served as {fetched.content_type} but {reason}"
    return f"it {reason}"


def _page_source(url: str, page: ArticlePage) -> SourceText:
    name = PurePosixPath(unquote(urlsplit(url).path)).name or "index.html"
    text = read_bytes(page.report_text().encode("utf-8"), name + ".txt")
    hints = SourceHints(file_name=name, source_url=url, page_title=page.title, published=page.published)
    return replace(text, path=url, format="html", encoding=page.encoding, hints=hints)


def _file_source(fetched: Fetched, hints: SourceHints) -> SourceText:
    name = PurePosixPath(unquote(urlsplit(fetched.final_url).path)).name or "attachment"
    text = read_bytes(fetched.content, name)
    return replace(text, path=fetched.final_url, hints=replace(hints, file_name=name))


def _file_outcome(fetched: Fetched, state: CrawlState, listed: ListedLink | None, conditional: bool,
                  reports_only: bool) -> FetchOutcome:
    title = listed.text if listed else ""
    published = listed.date if listed else ""
    hints = SourceHints(source_url=fetched.final_url, page_title=title, published=published)
    source = _file_source(fetched, hints)
    return _outcome(fetched, source, title, published, state if conditional else None, reports_only)


def _attachment_outcome(client: PoliteClient, page_fetch: Fetched, page: ArticlePage, state: CrawlState,
                        conditional: bool, reports_only: bool) -> FetchOutcome:
    """A cover page: its first readable attachment is the report, titled and dated by the page."""
    hints = SourceHints(source_url=page.url, page_title=page.title, published=page.published)
    reasons = []
    for link in page.attachments:
        known = state.get(link) if conditional else None
        try:
            fetched = client.get(link, known.validators if known else None)
            if fetched.not_modified:
                page_state = UrlState(page_fetch.validators.etag, page_fetch.validators.last_modified,
                                      text_sha256=known.text_sha256 if known else "", doc_id=known.doc_id if known else "")
                return FetchOutcome(page_fetch.url, NOT_MODIFIED,
                                    f"its attachment {link} has not changed since the last crawl (HTTP 304).",
                                    doc_id=known.doc_id if known else "", remember=((page_fetch.url, page_state),))
            source = _file_source(fetched, hints)
        except (FetchError, UnreadableSource) as error:
            reasons.append(f"{link} {error.reason.rstrip('.')}")
            continue
        outcome = _outcome(page_fetch, source, page.title, page.published, state if conditional else None, reports_only)
        file_state = UrlState(fetched.validators.etag, fetched.validators.last_modified,
                              text_sha256=source.sha256, doc_id=outcome.doc_id)
        return replace(outcome, remember=outcome.remember + ((link, file_state),))
    return FetchOutcome(page_fetch.url, SKIPPED,
                        "the page only links attachments, and none could be read: " + "; ".join(reasons) + ".")


def _outcome(fetched: Fetched, source: SourceText, title: str, published: str, state: CrawlState | None,
             reports_only: bool) -> FetchOutcome:
    """Decide on a report read from `fetched`; `state` is None when unchanged text should be indexed again."""
    doc_id = url_doc_id(fetched.final_url)
    remembered = UrlState(fetched.validators.etag, fetched.validators.last_modified,
                          text_sha256=source.sha256, doc_id=doc_id)
    remember = ((fetched.url, remembered),)
    if reports_only and not is_report(title, source.text):
        shown = title or source.text.split("\n", 1)[0][:40]
        return FetchOutcome(fetched.url, SKIPPED,
                            f"it is not a rule-of-law report: 「{shown}」 names no 法治政府建设 report "
                            "(use --any-page to index it anyway).", remember=remember)
    known = state.get(fetched.url) if state is not None else None
    if known is not None and known.text_sha256 == source.sha256:
        return FetchOutcome(fetched.url, NOT_MODIFIED, "the page was sent again but its report text is unchanged.",
                            doc_id=known.doc_id, remember=remember)
    return FetchOutcome(fetched.url, FETCHED, doc_id=doc_id, title=title, published=published,
                        source=source, remember=remember)
