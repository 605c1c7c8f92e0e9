"""Walk a portal's listing column: its pages (capped, each once), then each article it lists."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from indexer.crawl.client import PoliteClient
from indexer.crawl.fetching import (
    NOT_MODIFIED,
    SKIPPED,
    FetchOutcome,
    check_page_size,
    fetch_report,
)
from indexer.crawl.listing import ListedLink, Listing, read_listing
from indexer.crawl.pages import decode_html, parse_html
from indexer.crawl.state import CrawlState, UrlState
from indexer.errors import FetchError, UnreadableSource

LISTED = "listed"
Progress = Callable[[Iterable, str, int], Iterable]


def no_progress(items: Iterable, _label: str, _total: int) -> Iterable:
    return items


@dataclass(frozen=True)
class CrawlLimits:
    """How far one crawl may go."""

    max_pages: int = 20  # listing pages
    max_articles: int = 200  # article pages and files

    def __post_init__(self):
        if self.max_pages < 1 or self.max_articles < 1:
            raise ValueError("The page and article caps must be at least 1.")


@dataclass
class CrawlOutcome:
    """The listing pages walked, what became of each article, and notes on where the walk stopped."""

    listings: list[FetchOutcome] = field(default_factory=list)
    articles: list[FetchOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def crawl_listing(
    client: PoliteClient,
    start_url: str,
    state: CrawlState,
    limits: CrawlLimits = CrawlLimits(),
    conditional: bool = True,
    reports_only: bool = True,
    progress: Progress = no_progress,
) -> CrawlOutcome:
    """Follow the listing's pagination up to the page cap, then fetch each listed article once."""
    outcome = CrawlOutcome()
    queue = [start_url]
    queued = {start_url}
    page_hashes: dict[str, str] = {}
    entries: dict[str, ListedLink] = {}
    while queue and len(outcome.listings) < limits.max_pages:
        url = queue.pop(0)
        listed, listing = _read_listing_page(client, url, state, conditional, page_hashes)
        outcome.listings.append(listed)
        if listing is None:
            continue
        for link in listing.links:
            entries.setdefault(link.url, link)
        for href, reason in listing.refused:
            outcome.notes.append(f"  skipped link {href} on {url}: it {reason}")
        for page in listing.next_pages:
            if page not in queued:
                queued.add(page)
                queue.append(page)
    if queue:
        outcome.notes.append(
            f"  stopped after {len(outcome.listings)} listing pages (the page cap, --max-pages); "
            f"{len(queue)} more linked pages were not visited."
        )
    links = list(entries.values())
    if len(links) > limits.max_articles:
        outcome.notes.append(
            f"  fetched the first {limits.max_articles} of {len(links)} listed articles (the cap, --max-articles)."
        )
        links = links[: limits.max_articles]
    for link in progress(links, "fetching", len(links)):
        outcome.articles.append(fetch_report(client, link.url, state, listed=link, conditional=conditional,
                                             reports_only=reports_only))
    return outcome


def _read_listing_page(
    client: PoliteClient, url: str, state: CrawlState, conditional: bool, page_hashes: dict[str, str]
) -> tuple[FetchOutcome, Listing | None]:
    known = state.get(url) if conditional else None
    try:
        fetched = client.get(url, known.validators if known else None)
    except FetchError as error:
        return FetchOutcome(url, SKIPPED, error.reason), None
    if fetched.not_modified and known is not None:
        links = tuple(ListedLink(*link) for link in known.links)
        listing = Listing(links, known.next_pages)
        return FetchOutcome(url, NOT_MODIFIED, f"the listing has not changed since the last crawl (HTTP 304); "
                                               f"its {len(links)} links are taken from then."), listing
    if fetched.not_modified:
        return FetchOutcome(url, SKIPPED, "it answered 304 Not Modified to a request that was not conditional."), None
    digest = hashlib.sha256(fetched.content).hexdigest()
    if digest in page_hashes:
        return FetchOutcome(url, SKIPPED, f"it is the same page as {page_hashes[digest]}, already read."), None
    page_hashes[digest] = url
    try:
        check_page_size(fetched)
        markup, _encoding = decode_html(fetched.content, fetched.final_url, fetched.charset)
        listing = read_listing(parse_html(markup, fetched.final_url), fetched.final_url)
    except UnreadableSource as error:
        return FetchOutcome(url, SKIPPED, f"it {error.reason}"), None
    remember = UrlState(fetched.validators.etag, fetched.validators.last_modified,
                        links=tuple((link.url, link.text, link.date) for link in listing.links),
                        next_pages=listing.next_pages)
    reason = f"{len(listing.links)} article links, {len(listing.next_pages)} other pages."
    return FetchOutcome(url, LISTED, reason, remember=((url, remember),)), listing

