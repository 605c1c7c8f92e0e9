"""The per-file report of an import: one row per file seen, written as CSV that Excel opens right."""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from indexer.errors import IndexerError

OUTCOMES = ("indexed", "re-indexed", "unchanged", "duplicate", "near-duplicate", "skipped", "removed")


@dataclass
class ImportRow:
    """What happened to one file: its path (with `!/` before an archive member), outcome and why."""

    path: str
    outcome: str
    doc_id: str = ""
    duplicate_of: str = ""
    similarity: float | None = None
    reason: str = ""

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"An import outcome must be one of {', '.join(OUTCOMES)}, not {self.outcome!r}.")

    def to_dict(self) -> dict:
        return asdict(self)


def count_outcomes(rows: list[ImportRow]) -> dict[str, int]:
    """How many rows had each outcome, in the order of OUTCOMES, leaving out the zeros."""
    counts = Counter(row.outcome for row in rows)
    return {outcome: counts[outcome] for outcome in OUTCOMES if counts[outcome]}


def write_report(rows: list[ImportRow], path: Path) -> None:
    """Write the rows as CSV in UTF-8 with a byte-order mark (without one Excel shows Chinese as mojibake)."""
    path = Path(path)
    names = [f.name for f in fields(ImportRow)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=names)
            writer.writeheader()
            for row in rows:
                data = row.to_dict()
                data["similarity"] = "" if row.similarity is None else f"{row.similarity:.3f}"
                writer.writerow(data)
    except OSError as error:
        raise IndexerError(f"Could not write the import report {path}: {error.strerror or error}.") from error
