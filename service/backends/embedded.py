"""The embedded backend: the generation's BM25 postings, FAISS index, chunk and report tables, in this process."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexer.bm25 import BM25Index
from indexer.chunk_table import ChunkTable
from indexer.dense import DenseIndex
from indexer.records import Chunk
from indexer.report_table import ReportTable
from service.backends.base import Scope


class EmbeddedBackend:
    """BM25 and dense retrieval over the files of one index generation, filtered by the row mask."""

    name = "embedded"

    def __init__(self, bm25: BM25Index, dense: DenseIndex, chunks: ChunkTable, reports: ReportTable):
        self.bm25 = bm25
        self.dense_index = dense
        self.chunk_table = chunks
        self.report_table = reports

    def lexical(self, tokens: list[str], k: int, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        ids, scores = self.bm25.top_k(tokens, k, mask=scope.mask)
        keep = scores > 0
        return ids[keep], scores[keep]

    def dense(self, vector: np.ndarray, k: int, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        return self.dense_index.search(vector, k, mask=scope.mask)

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        return [self.chunk_table[int(row)] for row in rows]

    def report(self, doc_id: str) -> dict:
        return self.report_table[doc_id]

    def ping(self) -> bool:
        return True

    def describe(self) -> dict:
        return {"backend": self.name}
