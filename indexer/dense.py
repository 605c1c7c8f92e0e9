"""FAISS over chunk vectors: exact inner product while small, IVF-Flat beyond a threshold."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

EXACT_LIMIT = 50_000  # below this many vectors exact search is fast enough and exact
# Above it, IVF-Flat (bench/speed.py, 2 cores, clustered e5-like vectors, 1M x 384): built
# in 76 s against 494 s for HNSW M=32/efConstruction=80, and recall@10 against exact search
# 0.9750 at nprobe=128 (3.5 ms) where that HNSW reached 0.8255 at efSearch=128 and 0.8890 at 256.
IVF_LISTS_PER_SQRT = 4  # nlist = 4 * sqrt(n)
IVF_NPROBE = 128
IVF_TRAIN_PER_LIST = 50  # k-means training sample: 50 vectors per list (FAISS wants >= 39)
IVF_SEED = 1234
# HNSW is still read and searched (indexes built before IVF), no longer built.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# Under a filter that keeps few vectors, scoring them directly beats walking a graph
# that mostly leads to excluded nodes (and keeps recall exact).
BRUTE_FORCE_SHARE = 0.2


@dataclass
class DenseIndex:
    """A FAISS index with its parameters, searchable with an optional allow-mask."""

    index: faiss.Index
    params: dict
    vectors: np.ndarray  # (n, dim) float32, the same rows, for filtered brute force

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and inner-product scores of the k nearest rows allowed by `mask`, best first."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if mask is not None and not mask.all():
            allowed = np.flatnonzero(mask)
            if len(allowed) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            if self.params["kind"] == "flat" or len(allowed) <= BRUTE_FORCE_SHARE * self.size:
                return _brute_force(self.vectors, allowed, query[0], k)
            selector = faiss.IDSelectorBatch(allowed.astype(np.int64))
            if self.params["kind"] == "ivf":
                search_params = faiss.SearchParametersIVF(sel=selector, nprobe=self.params.get("nprobe", IVF_NPROBE))
            else:
                search_params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k))
            scores, ids = self.index.search(query, min(k, len(allowed)), params=search_params)
        elif self.params["kind"] == "flat":
            return _brute_force(self.vectors, None, query[0], k)
        elif self.params["kind"] == "ivf":
            faiss.extract_index_ivf(self.index).nprobe = self.params.get("nprobe", IVF_NPROBE)
            scores, ids = self.index.search(query, k)
        else:
            self.index.hnsw.efSearch = max(self.params.get("ef_search", HNSW_EF_SEARCH), k)
            scores, ids = self.index.search(query, k)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def save(self, folder: Path) -> dict:
        """Write the FAISS index file; return the parameters for the manifest."""
        faiss.write_index(self.index, str(folder / "dense.faiss"))
        return {"dense": self.params}


def _brute_force(vectors: np.ndarray, allowed: np.ndarray | None, query: np.ndarray, k: int):
    rows = vectors if allowed is None else vectors[allowed]
    scores = rows @ query
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    # Stable order: score descending, then row id ascending.
    ids = top if allowed is None else allowed[top]
    order = np.lexsort((ids, -scores[top]))
    return ids[order].astype(np.int64), scores[top][order].astype(np.float32)


def build_dense(vectors: np.ndarray, exact_limit: int = EXACT_LIMIT) -> DenseIndex:
    """Choose and build the FAISS index for these vectors by their number."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape if vectors.ndim == 2 else (0, 0)
    if n < exact_limit:
        index = faiss.IndexFlatIP(max(dim, 1))
        params = {"kind": "flat", "metric": "inner_product", "dim": dim}
    else:
        nlist = int(IVF_LISTS_PER_SQRT * np.sqrt(n))
        index = faiss.index_factory(dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        sample = min(n, IVF_TRAIN_PER_LIST * nlist)
        rows = np.sort(np.random.default_rng(IVF_SEED).choice(n, sample, replace=False))
        index.train(vectors[rows])
        faiss.extract_index_ivf(index).nprobe = IVF_NPROBE
        params = {
            "kind": "ivf", "metric": "inner_product", "dim": dim, "nlist": nlist, "nprobe": IVF_NPROBE,
            "train_sample": sample, "train_seed": IVF_SEED,
        }
    if n:
        index.add(vectors)
    return DenseIndex(index, params, vectors)


def load_dense(folder: Path, params: dict, vectors: np.ndarray) -> DenseIndex:
    """Read the FAISS index written by DenseIndex.save."""
    index = faiss.read_index(str(folder / "dense.faiss"))
    if params.get("kind") == "hnsw":
        index.hnsw.efSearch = params.get("ef_search", HNSW_EF_SEARCH)
    elif params.get("kind") == "ivf":
        faiss.extract_index_ivf(index).nprobe = params.get("nprobe", IVF_NPROBE)
    return DenseIndex(index, params, vectors)
