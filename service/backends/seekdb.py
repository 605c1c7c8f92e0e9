"""The seekdb backend: BM25 and vector top-k from OceanBase's engine, one database per index generation
(indexer/seekdb/generations.py loads them), and the chunk and report records a search or a report page
shows, read from the same database (the most recent few kept: a generation's records never change).

Each request thread gets its own connection (PyMySQL connections are not shared between threads,
nor across gunicorn's fork). A lost engine raises EngineUnavailable, which the API turns into a
503 with a sentence; the next request reconnects by itself.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from indexer.records import Chunk
from indexer.seekdb import SeekdbConfig, SeekdbStore, Where
from indexer.seekdb.generations import database_for
from service.backends.base import Scope

CHUNK_CACHE = 4096  # chunk records kept, as the embedded chunk table keeps
REPORT_CACHE = 64  # report records kept (each holds a whole published text)
OVERFETCH = 4  # candidates asked per result when the engine cannot apply the whole filter (task areas)


class SeekdbBackend:
    """Lexical and dense rankings of one generation from its seekdb database."""

    name = "seekdb"

    def __init__(self, config: SeekdbConfig, folder: Path, chunks: int):
        self.config = replace(config, database=database_for(folder))
        self.chunk_count = chunks
        self._local = threading.local()
        self._terms_lock = threading.Lock()
        self._term_frequencies: dict[str, int] | None = None
        self._chunks = RecentRecords(CHUNK_CACHE)
        self._reports = RecentRecords(REPORT_CACHE)

    def _store(self) -> SeekdbStore:
        store = getattr(self._local, "store", None)
        if store is None or getattr(self._local, "pid", None) != os.getpid():
            store = self._local.store = SeekdbStore(self.config)  # opens its connection on first use
            self._local.pid = os.getpid()
            store.term_frequencies, store.chunk_count = self._terms(store), self.chunk_count
        return store

    def _terms(self, store: SeekdbStore) -> dict[str, int]:
        """The generation's word frequencies, read from the engine once and shared by every thread's store."""
        with self._terms_lock:
            if self._term_frequencies is None:
                self._term_frequencies = store.term_chunks()
            return self._term_frequencies

    def _where(self, scope: Scope) -> Where | None:
        if scope.everything:
            return None
        return Where(doc_ids=scope.doc_ids, label=scope.label or None)

    def _within(self, found: list[tuple[int, float]], k: int, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        if not scope.exact:
            found = [(row, score) for row, score in found if scope.mask[row]]
        found = found[:k]
        return (np.array([r for r, _ in found], dtype=np.int64), np.array([s for _, s in found], dtype=np.float32))

    def _depth(self, k: int, scope: Scope) -> int:
        return k if scope.exact else k * OVERFETCH

    def lexical(self, tokens: list[str], k: int, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        found = self._store().bm25_top_k(tokens, self._depth(k, scope), self._where(scope))
        return self._within([(r, s) for r, s in found if s > 0], k, scope)

    def dense(self, vector: np.ndarray, k: int, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        found = self._store().dense_top_k(vector, self._depth(k, scope), self._where(scope))
        return self._within(found, k, scope)

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        records = {row: self._chunks.get(row) for row in map(int, rows)}
        missing = [row for row, chunk in records.items() if chunk is None]
        if missing:
            found = self._store().chunks(missing)
            for row in missing:
                if row not in found:
                    raise IndexError(f"There is no chunk row {row}; the generation has {self.chunk_count} chunks.")
                records[row] = found[row]
                self._chunks.put(row, found[row])
        return [records[int(row)] for row in rows]

    def report(self, doc_id: str) -> dict:
        record = self._reports.get(doc_id)
        if record is None:
            record = self._store().report_record(doc_id)
            if record is None:
                raise KeyError(doc_id)
            self._reports.put(doc_id, record)
        return record

    def ping(self) -> bool:
        return self._store().ping()

    def describe(self) -> dict:
        return {"backend": self.name, "engine": self.config.address, "database": self.config.database}


class RecentRecords:
    """The most recently read records of a generation, by key, shared by the request threads."""

    def __init__(self, size: int):
        self.size = size
        self._records: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            record = self._records.get(key)
            if record is not None:
                self._records.move_to_end(key)
            return record

    def put(self, key, record) -> None:
        with self._lock:
            self._records[key] = record
            self._records.move_to_end(key)
            while len(self._records) > self.size:
                self._records.popitem(last=False)
