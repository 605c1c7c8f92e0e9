"""Fetch rule-of-law reports from government portals into the index: `fetch URL…` and `crawl LISTING_URL`.

The CLI registers the two commands with `add_commands(subparsers)` and runs one with
`run(args, embedder, progress)`, which returns a CrawlSummary (`.lines()`, `.to_dict()`).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from indexer.crawl.client import (
    DEFAULT_USER_AGENT,
    ClientSettings,
    PoliteClient,
    check_web_url,
)
from indexer.crawl.crawling import CrawlLimits, Progress, crawl_listing, no_progress
from indexer.crawl.fetching import FETCHED, FetchOutcome, fetch_report
from indexer.crawl.state import CrawlState
from indexer.crawl.summary import CrawlSummary
from indexer.embed import Embedder
from indexer.errors import IndexerError

COMMANDS = ("fetch", "crawl")


def add_commands(subparsers) -> None:
    """Register `fetch` and `crawl`, with their options, on an argparse subparsers object."""
    fetch = subparsers.add_parser("fetch", help="fetch report pages or .docx/.pdf links into the index")
    fetch.add_argument("urls", nargs="*", help="article pages or direct .docx/.pdf links")
    fetch.add_argument("--list", dest="url_list", type=Path, help="a file of URLs, one a line (# comments)")
    crawl = subparsers.add_parser("crawl", help="crawl a portal's listing column and index the reports it lists")
    crawl.add_argument("listing_url", help="the first page of the listing column")
    crawl.add_argument("--max-pages", type=int, default=CrawlLimits.max_pages,
                       help="listing pages to walk at most (default %(default)s)")
    crawl.add_argument("--max-articles", type=int, default=CrawlLimits.max_articles,
                       help="articles to fetch at most (default %(default)s)")
    defaults = ClientSettings()
    for command in (fetch, crawl):
        command.add_argument("--index", default=argparse.SUPPRESS)
        command.add_argument("--model", default=argparse.SUPPRESS)
        command.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        command.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                             help="another host that may be fetched (attachments on a file server); repeatable")
        command.add_argument("--delay", type=float, default=defaults.delay,
                             help="seconds between two requests to one host (default %(default)s)")
        command.add_argument("--timeout", type=float, default=defaults.timeout,
                             help="seconds to wait for a connection or for data (default %(default)s)")
        command.add_argument("--retries", type=int, default=defaults.retries,
                             help="further tries after a timeout or a server error (default %(default)s)")
        command.add_argument("--max-mb", type=float, default=defaults.max_bytes / 1048576,
                             help="megabytes read from one address at most (default %(default)g)")
        command.add_argument("--user-agent", default=DEFAULT_USER_AGENT)
        command.add_argument("--refresh", action="store_true",
                             help="fetch and index everything again, ignoring what the last crawl saw")
        command.add_argument("--any-page", action="store_true",
                             help="index pages even when they do not read as rule-of-law reports")


def settings_from(args: argparse.Namespace) -> ClientSettings:
    """ClientSettings from parsed options; a bad value raises ValueError with a sentence."""
    return ClientSettings(
        user_agent=args.user_agent,
        timeout=args.timeout,
        deadline=max(60.0, args.timeout * 4),
        delay=args.delay,
        retries=args.retries,
        backoff=max(min(args.delay, 1.0), 0.1),
        max_bytes=int(args.max_mb * 1048576),
    )


def read_url_list(path: Path) -> list[str]:
    """The URLs of a list file: one a line, blank lines and # comments ignored."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexerError(f"The URL list {path} could not be read ({exc}).") from exc
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def run(args: argparse.Namespace, embedder: Embedder, progress: Progress = no_progress) -> CrawlSummary:
    """Run `fetch` or `crawl` as parsed by add_commands' parsers, add what is new to args.index."""
    from indexer.build import add_sources

    root = Path(args.index)
    try:
        settings = settings_from(args)
        limits = CrawlLimits(args.max_pages, args.max_articles) if args.command == "crawl" else None
        starts = _start_urls(args)
    except ValueError as error:
        raise IndexerError(str(error)) from error
    state = CrawlState.load(root)
    conditional = not args.refresh
    reports_only = not args.any_page
    summary = CrawlSummary(args.command)
    with PoliteClient(starts, settings, extra_hosts=args.allow_host) as client:
        if args.command == "crawl":
            walked = crawl_listing(client, starts[0], state, limits, conditional, reports_only, progress)
            summary.listings, summary.outcomes, summary.notes = walked.listings, walked.articles, walked.notes
        else:
            for url in progress(starts, "fetching", len(starts)):
                summary.outcomes.append(fetch_report(client, url, state, conditional=conditional,
                                                     reports_only=reports_only))
    sources = [(o.doc_id, o.source) for o in summary.outcomes if o.status == FETCHED and o.source is not None]
    if sources:
        summary.build = add_sources(root, sources, embedder, progress)
    _remember(state, summary.listings + summary.outcomes)
    return summary


def _start_urls(args: argparse.Namespace) -> list[str]:
    if args.command == "crawl":
        urls = [args.listing_url]
    else:
        urls = list(args.urls) + (read_url_list(args.url_list) if args.url_list else [])
        if not urls:
            raise ValueError("Give at least one URL to fetch, on the command line or with --list FILE.")
    return [check_web_url(url.strip()) for url in dict.fromkeys(urls)]


def _remember(state: CrawlState, outcomes: list[FetchOutcome]) -> None:
    """Keep what was read, now that the index holds it, so the next crawl asks conditionally."""
    for outcome in outcomes:
        for url, entry in outcome.remember:
            state.record(url, entry)
    try:
        state.save()
    except OSError as exc:
        raise IndexerError(f"The crawl state {state.path} could not be written ({exc.strerror or exc}).") from exc


def build_parser() -> argparse.ArgumentParser:
    """A parser with just these two commands and the global options (for tests)."""
    parser = argparse.ArgumentParser(prog="python -m indexer", description=__doc__.split("\n")[0])
    parser.add_argument("--index", default="var/index")
    parser.add_argument("--model", default=None)
    parser.add_argument("--json", action="store_true")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser
