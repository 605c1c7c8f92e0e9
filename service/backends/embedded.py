"""The embedded backend: the generation's BM25 postings and FAISS index, in this process."""
from __future__ import annotations

import numpy as np

from indexer.bm25 import BM25Index
from indexer.dense import DenseIndex
from service.backends.base import Scope


class EmbeddedBackend:
    """BM25 and dense retrieval over the files of one index generation, filtered by the row mask."""

    name = "embedded"

    def __init__(self, bm25: BM25Index, dense: DenseIndex):
        self.bm25 = bm25
        self.dense_index = dense

    def lexical(self, tokens: list[str], k: int, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        ids, scores = self.bm25.top_k(tokens, k, mask=scope.mask)
        keep = scores > 0
        return ids[keep], scores[keep]

    def dense(self, vector: np.ndarray, k: int, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        return self.dense_index.search(vector, k, mask=scope.mask)

    def ping(self) -> bool:
        return True

    def describe(self) -> dict:
        return {"backend": self.name}
