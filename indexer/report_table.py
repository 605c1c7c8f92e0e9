"""The reports of an index generation: metadata in memory, full texts read when asked for.

``reports.jsonl`` holds one report per line (metadata, published text, outline, problem
spans, mined terms). Loading keeps each report's metadata and a few counts, and where its
line starts; the text and outline of a report are read back with ``os.pread`` when a page
or a citation needs them (a few recent ones are cached).
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from indexer.errors import CorruptIndex
from indexer.pread_file import PreadFile

REPORTS_FILE = "reports.jsonl"
RECORD_CACHE = 64


@dataclass(frozen=True)
class ReportEntry:
    """What is kept in memory of one report."""

    meta: dict
    sections: int  # number of outline entries
    problems: int  # number of spans that could not be read as published
    offset: int  # where its line starts in reports.jsonl
    length: int


class ReportTable(Mapping):
    """doc_id -> the report's full record ({"meta", "original", "sections", "problems", "terms"})."""

    def __init__(self, path: Path, entries: dict[str, ReportEntry]):
        self.path = path
        self._entries = entries
        self._metas = {doc_id: entry.meta for doc_id, entry in entries.items()}
        self._file = PreadFile(path)
        self._record = lru_cache(maxsize=RECORD_CACHE)(self._read_record)

    @classmethod
    def open(cls, folder: Path) -> "ReportTable":
        """Read the metadata of every report of a generation, one line at a time."""
        path = Path(folder) / REPORTS_FILE
        entries: dict[str, ReportEntry] = {}
        offset = 0
        try:
            with path.open("rb") as handle:
                for line in handle:
                    if line.strip():
                        row = json.loads(line)
                        entries[row["doc_id"]] = ReportEntry(
                            row["meta"], len(row.get("sections", [])), len(row.get("problems", [])), offset, len(line))
                    offset += len(line)
        except (OSError, ValueError, KeyError) as error:
            raise CorruptIndex(f"The report table in {folder} cannot be read ({error}); rebuild the index.") from error
        return cls(path, entries)


    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._entries

    def __getitem__(self, doc_id: str) -> dict:
        entry = self._entries[doc_id]  # KeyError for an unknown id, as a Mapping should
        return self._record(doc_id, entry.offset, entry.length)

    def _read_record(self, doc_id: str, offset: int, length: int) -> dict:
        data = self._file.read(offset, length)
        try:
            row = json.loads(data)
        except ValueError as error:
            raise CorruptIndex(f"The report {doc_id} in {self.path} cannot be read ({error}); rebuild the index.") from error
        row.pop("doc_id", None)
        return row

    def meta(self, doc_id: str) -> dict:
        """A report's metadata (no text read)."""
        return self._entries[doc_id].meta

    def metas(self) -> dict[str, dict]:
        """Every report's metadata, by doc_id, in index order (built once; do not modify)."""
        return self._metas

    def counts(self, doc_id: str) -> ReportEntry:
        return self._entries[doc_id]
