"""robots.txt, read once per site and obeyed (urllib.robotparser does the parsing)."""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

# More than any real robots.txt; Google reads 500 KiB.
MAX_ROBOTS_BYTES = 512 * 1024


class RobotsCache:
    """Whether a URL may be fetched, per its site's robots.txt (RFC 9309's rules for failures)."""

    def __init__(self, read: Callable[[str], tuple[int, bytes]], user_agent: str):
        self._read = read  # robots URL -> (HTTP status, body); status 0 when unreachable
        self._agent = user_agent.split("/", 1)[0]
        self._sites: dict[str, RobotFileParser] = {}

    def _parser(self, url: str) -> RobotFileParser:
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        parser = self._sites.get(site)
        if parser is None:
            parser = RobotFileParser(site + "/robots.txt")
            status, body = self._read(site + "/robots.txt")
            if 200 <= status < 300:
                parser.parse(body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace").splitlines())
            elif 400 <= status < 500:
                parser.allow_all = True  # no robots.txt: everything may be crawled
            else:
                parser.disallow_all = True  # unreachable or a server error: assume nothing may be
            self._sites[site] = parser
        return parser

    def allows(self, url: str) -> bool:
        """True when the site's robots.txt lets this crawler fetch `url`."""
        return self._parser(url).can_fetch(self._agent, url)

    def crawl_delay(self, url: str) -> float:
        """The site's Crawl-delay for this crawler in seconds, 0 when it sets none (or is not read yet)."""
        parts = urlsplit(url)
        parser = self._sites.get(f"{parts.scheme}://{parts.netloc}")
        if parser is None:
            return 0.0
        delay = parser.crawl_delay(self._agent)
        try:
            return max(float(delay or 0), 0.0)
        except (TypeError, ValueError):
            return 0.0
