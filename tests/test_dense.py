"""Dense search: exact while small; IVF with 8-bit codes, re-ranked by exact vectors, when large."""
import numpy as np
import pytest

from indexer.dense import build_dense, load_dense
from indexer.vector_file import VectorFile


def clustered(n: int, dim: int = 32, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    vectors = centres[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def exact(vectors, query, k, allowed=None):
    rows = np.arange(len(vectors)) if allowed is None else allowed
    scores = vectors[rows] @ query
    order = np.lexsort((rows, -scores))[:k]
    return rows[order], scores[order]


@pytest.fixture(scope="module")
def ivf(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ivf")
    vectors = clustered(3000)
    built = build_dense(vectors, exact_limit=1000)
    assert built.params["kind"] == "ivf" and built.params["codes"] == "SQ8"
    np.save(folder / "vectors.npy", vectors)
    built.save(folder)
    return load_dense(folder, built.params), vectors


def test_ivf_results_carry_exact_scores_and_high_recall(ivf):
    dense, vectors = ivf
    assert isinstance(dense.vectors, VectorFile)  # exact rows come from disk, not memory
    queries = clustered(40, seed=9)
    recall = []
    for q in queries:
        ids, scores = dense.search(q, 10)
        np.testing.assert_allclose(scores, vectors[ids] @ q, rtol=1e-6)  # re-ranked: exact inner products
        assert (np.diff(scores) <= 0).all()
        recall.append(len(set(ids) & set(exact(vectors, q, 10)[0])) / 10)
    assert np.mean(recall) >= 0.95


def test_narrow_filters_are_exact_and_wide_ones_respected(ivf):
    dense, vectors = ivf
    q = clustered(1, seed=11)[0]
    narrow = np.zeros(len(vectors), dtype=bool)
    narrow[[5, 17, 900, 2999]] = True  # few rows: scored exactly from disk
    ids, scores = dense.search(q, 10, mask=narrow)
    expected_ids, expected_scores = exact(vectors, q, 10, np.flatnonzero(narrow))
    assert ids.tolist() == expected_ids.tolist()
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)
    wide = np.zeros(len(vectors), dtype=bool)
    wide[::2] = True  # many rows: the IVF search with a selector
    ids, _ = dense.search(q, 10, mask=wide)
    assert len(ids) == 10 and wide[ids].all()
    assert len(set(ids) & set(exact(vectors, q, 10, np.flatnonzero(wide))[0])) >= 9
    assert len(dense.search(q, 10, mask=np.zeros(len(vectors), dtype=bool))[0]) == 0


def test_flat_index_is_exact_and_loaded_without_faiss_copy(tmp_path):
    vectors = clustered(200)
    built = build_dense(vectors)
    assert built.params["kind"] == "flat"
    np.save(tmp_path / "vectors.npy", vectors)
    built.save(tmp_path)
    dense = load_dense(tmp_path, built.params)
    assert dense.index is None and dense.size == 200
    q = vectors[17]
    ids, scores = dense.search(q, 5)
    assert ids.tolist() == exact(vectors, q, 5)[0].tolist() and ids[0] == 17
    assert dense.search(q, 0)[0].size == 0
