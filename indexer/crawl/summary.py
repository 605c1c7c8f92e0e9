"""What a fetch or crawl did, URL by URL, and what the index build made of it."""
from __future__ import annotations

from dataclasses import dataclass, field

from indexer.build import BuildSummary
from indexer.crawl.fetching import FETCHED, NOT_MODIFIED, SKIPPED, FetchOutcome


@dataclass
class CrawlSummary:
    """A fetch or crawl, for people (`lines`) and for JSON (`to_dict`), like BuildSummary."""

    action: str  # fetch / crawl
    listings: list[FetchOutcome] = field(default_factory=list)
    outcomes: list[FetchOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    build: BuildSummary | None = None  # None when nothing new was fetched

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def to_dict(self) -> dict:
        return {
            "action": self.action,
            "fetched": self.count(FETCHED),
            "not_modified": self.count(NOT_MODIFIED),
            "skipped": self.count(SKIPPED),
            "listings": [outcome.to_dict() for outcome in self.listings],
            "urls": [outcome.to_dict() for outcome in self.outcomes],
            "notes": [note.strip() for note in self.notes],
            "build": self.build.to_dict() if self.build else None,
        }

    def lines(self) -> list[str]:
        """A human summary: the counts, one line per URL, then the index's own summary."""
        out = [
            f"{self.action}: {self.count(FETCHED)} fetched, {self.count(NOT_MODIFIED)} not modified, "
            f"{self.count(SKIPPED)} skipped"
            + (f" from {len(self.listings)} listing pages" if self.listings else "")
        ]
        out += [outcome.line() for outcome in self.listings]
        out += [outcome.line() for outcome in self.outcomes]
        out += self.notes
        if self.build is not None:
            out += self.build.lines()
        else:
            out.append("index unchanged: nothing new to add.")
        return out
