"""The seekdb backend: BM25 and vector top-k from OceanBase's engine, one database per index generation
(indexer/seekdb/generations.py loads them).

Each request thread gets its own connection (PyMySQL connections are not shared between threads,
nor across gunicorn's fork). A lost engine raises EngineUnavailable, which the API turns into a
503 with a sentence; the next request reconnects by itself.
"""
from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from indexer.seekdb import SeekdbConfig, SeekdbStore, Where
from indexer.seekdb.generations import database_for
from service.backends.base import Scope

OVERFETCH = 4  # candidates asked per result when the engine cannot apply the whole filter (task areas)


class SeekdbBackend:
    """Lexical and dense rankings of one generation from its seekdb database."""

    name = "seekdb"

    def __init__(self, config: SeekdbConfig, folder: Path, chunks: int):
        self.config = replace(config, database=database_for(folder))
        self.chunks = chunks
        self._local = threading.local()
        self._terms_lock = threading.Lock()
        self._term_frequencies: dict[str, int] | None = None

    def _store(self) -> SeekdbStore:
        store = getattr(self._local, "store", None)
        if store is None or getattr(self._local, "pid", None) != os.getpid():
            store = self._local.store = SeekdbStore(self.config)  # opens its connection on first use
            self._local.pid = os.getpid()
            store.term_frequencies, store.chunk_count = self._terms(store), self.chunks
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

    def ping(self) -> bool:
        return self._store().ping()

    def describe(self) -> dict:
        return {"backend": self.name, "engine": self.config.address, "database": self.config.database}
