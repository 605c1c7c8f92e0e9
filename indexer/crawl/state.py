"""What the last crawl saw of each URL (ETag, Last-Modified, content hash), kept in the index folder."""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from indexer.crawl.client import Validators

STATE_FILE = "crawl-state.json"
STATE_VERSION = 1


@dataclass(frozen=True)
class UrlState:
    """One URL as last fetched: its validators, the hash of the report text taken from it, and for
    a listing page the links it held (so that a 304 still tells where to go)."""

    etag: str = ""
    last_modified: str = ""
    text_sha256: str = ""
    doc_id: str = ""
    links: tuple[tuple[str, str, str], ...] = ()  # listing pages: (url, anchor text, date)
    next_pages: tuple[str, ...] = ()
    fetched: str = ""  # when, ISO 8601

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["links"] = [list(link) for link in self.links]
        data["next_pages"] = list(self.next_pages)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> UrlState:
        return cls(
            etag=str(data.get("etag", "")),
            last_modified=str(data.get("last_modified", "")),
            text_sha256=str(data.get("text_sha256", "")),
            doc_id=str(data.get("doc_id", "")),
            links=tuple(tuple(str(x) for x in link[:3]) for link in data.get("links", []) if len(link) >= 3),
            next_pages=tuple(str(url) for url in data.get("next_pages", [])),
            fetched=str(data.get("fetched", "")),
        )


@dataclass
class CrawlState:
    """The state file of an index folder; changes are kept in memory until `save()`."""

    path: Path
    urls: dict[str, UrlState] = field(default_factory=dict)

    @classmethod
    def load(cls, index_dir: Path) -> CrawlState:
        """Read DIR/crawl-state.json; a missing or unreadable file is an empty state (everything is fetched anew)."""
        path = Path(index_dir) / STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            urls = {url: UrlState.from_dict(entry) for url, entry in raw.get("urls", {}).items()}
        except (OSError, ValueError, AttributeError, TypeError):
            urls = {}
        return cls(path, urls)

    def get(self, url: str) -> UrlState | None:
        return self.urls.get(url)

    def record(self, url: str, entry: UrlState) -> None:
        self.urls[url] = replace(entry, fetched=time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    def save(self) -> None:
        """Write the file whole under a temporary name, then rename it over the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": STATE_VERSION, "urls": {url: e.to_dict() for url, e in sorted(self.urls.items())}}
        fd, temporary = tempfile.mkstemp(prefix=".crawl-state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, ensure_ascii=False, indent=1)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
