"""FAISS over chunk vectors: exact inner product while small, IVF with 8-bit codes beyond a threshold.

The approximate index holds 8-bit scalar-quantised codes (a quarter of the float32
vectors); its candidates are re-ranked with their exact vectors, read from vectors.npy.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from indexer.errors import CorruptIndex
from indexer.vector_file import VectorFile

EXACT_LIMIT = 50_000  # below this many vectors exact search is fast enough and exact
# Above it, IVF-Flat (bench/speed.py, 2 cores, clustered e5-like vectors, 1M x 384): built
# in 76 s against 494 s for HNSW M=32/efConstruction=80, and recall@10 against exact search
# 0.9750 at nprobe=128 (3.5 ms) where that HNSW reached 0.8255 at efSearch=128 and 0.8890 at 256.
IVF_LISTS_PER_SQRT = 4  # nlist = 4 * sqrt(n)
IVF_NPROBE = 128
IVF_TRAIN_PER_LIST = 50  # k-means training sample: 50 vectors per list (FAISS wants >= 39)
IVF_SEED = 1234
IVF_CODES = "SQ8"  # 8-bit scalar quantiser: 384 bytes per 384-d vector instead of 1,536
IVF_RERANK_DEPTH = 100  # candidates taken from the codes and re-ranked with exact vectors
ADD_BATCH = 65_536  # vectors handed to an IVF index at a time (each is coded on its own: same index)
# HNSW is still read and searched (indexes built before IVF), no longer built.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# Under a filter that keeps few vectors, scoring them directly beats probing lists that
# mostly hold excluded ones (and keeps recall exact).
BRUTE_FORCE_SHARE = 0.2
BRUTE_FORCE_ROWS_FROM_DISK = 4_096  # at most this many exact rows (6 MB at 384-d) read for one filtered query


@dataclass
class DenseIndex:
    """A FAISS index with its parameters, searchable with an optional allow-mask."""

    index: faiss.Index | None  # None for a flat index loaded to be searched (numpy scores it)
    params: dict
    vectors: np.ndarray | VectorFile  # the exact rows: in memory when flat, read from disk otherwise

    @property
    def size(self) -> int:
        return len(self.vectors)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and inner-product scores of the k nearest rows allowed by `mask`, best first."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        kind = self.params["kind"]
        allowed = None
        if mask is not None and not mask.all():
            allowed = np.flatnonzero(mask)
            if len(allowed) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if kind == "flat":
            return _brute_force(self.vectors, allowed, query[0], k)
        if allowed is not None and len(allowed) <= self._brute_force_limit():
            return _brute_force(self._rows(allowed), None, query[0], k, ids=allowed)
        search_params = None
        if kind == "ivf":
            selector = faiss.IDSelectorBatch(allowed.astype(np.int64)) if allowed is not None else None
            search_params = faiss.SearchParametersIVF(sel=selector, nprobe=self.params.get("nprobe", IVF_NPROBE))
        elif allowed is not None:
            selector = faiss.IDSelectorBatch(allowed.astype(np.int64))
            search_params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k))
        else:
            self.index.hnsw.efSearch = max(self.params.get("ef_search", HNSW_EF_SEARCH), k)
        rerank = kind == "ivf" and self.params.get("codes", "Flat") != "Flat"
        wanted = max(k, IVF_RERANK_DEPTH) if rerank else k
        wanted = min(wanted, len(allowed)) if allowed is not None else min(wanted, self.size)
        scores, ids = self.index.search(query, wanted, params=search_params)
        found = ids[0] >= 0
        ids, scores = ids[0][found].astype(np.int64), scores[0][found]
        if rerank:  # exact scores for the candidates, best k kept, same order rule as brute force
            return _brute_force(self._rows(ids), None, query[0], k, ids=ids)
        return ids[:k], scores[:k]

    def _brute_force_limit(self) -> int:
        if isinstance(self.vectors, VectorFile):
            return min(int(BRUTE_FORCE_SHARE * self.size), BRUTE_FORCE_ROWS_FROM_DISK)
        return int(BRUTE_FORCE_SHARE * self.size)

    def row_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The exact vectors of these rows (from memory or read from disk)."""
        return np.asarray(self._rows(np.asarray(ids, dtype=np.int64)), dtype=np.float32)

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        if isinstance(self.vectors, VectorFile):
            return self.vectors.rows(ids)
        return self.vectors[ids]

    def save(self, folder: Path) -> dict:
        """Write the FAISS index file; return the parameters for the manifest."""
        faiss.write_index(self.index, str(folder / "dense.faiss"))
        return {"dense": self.params}


def _brute_force(vectors: np.ndarray, allowed: np.ndarray | None, query: np.ndarray, k: int,
                 ids: np.ndarray | None = None):
    """Exact top k of `vectors` (restricted to rows `allowed`); `ids` names the rows when they are a subset."""
    rows = vectors if allowed is None else vectors[allowed]
    scores = rows @ query
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    top = np.argpartition(-scores, k - 1)[:k]
    # Stable order: score descending, then row id ascending.
    names = ids if ids is not None else (np.arange(len(vectors)) if allowed is None else allowed)
    chosen = names[top]
    order = np.lexsort((chosen, -scores[top]))
    return chosen[order].astype(np.int64), scores[top][order].astype(np.float32)


def build_dense(vectors: np.ndarray, exact_limit: int = EXACT_LIMIT) -> DenseIndex:
    """Choose and build the FAISS index for these vectors by their number.

    A C-contiguous float32 array is used as it is, a memory-mapped vectors.npy included
    (not copied); the approximate index takes it ADD_BATCH rows at a time, so FAISS never
    needs a second float32 copy of every vector beside its codes.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape if vectors.ndim == 2 else (0, 0)
    if n < exact_limit:
        index = faiss.IndexFlatIP(max(dim, 1))
        params = {"kind": "flat", "metric": "inner_product", "dim": dim}
    else:
        nlist = int(IVF_LISTS_PER_SQRT * np.sqrt(n))
        index = faiss.index_factory(dim, f"IVF{nlist},{IVF_CODES}", faiss.METRIC_INNER_PRODUCT)
        sample = min(n, IVF_TRAIN_PER_LIST * nlist)
        rows = np.sort(np.random.default_rng(IVF_SEED).choice(n, sample, replace=False))
        index.train(vectors[rows])
        faiss.extract_index_ivf(index).nprobe = IVF_NPROBE
        params = {
            "kind": "ivf", "codes": IVF_CODES, "metric": "inner_product", "dim": dim, "nlist": nlist,
            "nprobe": IVF_NPROBE,
            "train_sample": sample, "train_seed": IVF_SEED,
        }
    step = n if params["kind"] == "flat" else ADD_BATCH  # a flat index copies every vector anyway
    for start in range(0, n, max(step, 1)):
        index.add(vectors[start:start + step])
    return DenseIndex(index, params, vectors)


def load_dense(folder: Path, params: dict) -> DenseIndex:
    """Read the FAISS index written by DenseIndex.save, with its exact vectors beside it.

    A flat index is scored from its vectors in memory; an approximate one keeps its codes
    in memory and reads exact vectors from vectors.npy for re-ranking.
    """
    if params.get("kind") == "flat":  # numpy scores the vectors; FAISS's copy is not read
        return DenseIndex(None, params, np.load(folder / "vectors.npy"))
    index = faiss.read_index(str(folder / "dense.faiss"))
    if params.get("kind") == "hnsw":
        index.hnsw.efSearch = params.get("ef_search", HNSW_EF_SEARCH)
    elif params.get("kind") == "ivf":
        faiss.extract_index_ivf(index).nprobe = params.get("nprobe", IVF_NPROBE)
    vectors = VectorFile(folder / "vectors.npy")
    if len(vectors) != index.ntotal:
        raise CorruptIndex(f"The FAISS index in {folder} has {index.ntotal} vectors but vectors.npy has {len(vectors)}.")
    return DenseIndex(index, params, vectors)
