"""Okapi BM25 as a precomputed sparse doc-by-term weight matrix, scoring exactly like rank-bm25."""
from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from indexer.errors import CorruptIndex

FORMAT = "bm25-okapi-csc"
FORMAT_VERSION = 2  # 2: the three CSC arrays as .npy files, memory-mapped on load; 1: one .npz
PARAMS_FILE = "bm25.params.json"
ARRAY_FILES = {"data": "bm25.data.npy", "indices": "bm25.indices.npy", "indptr": "bm25.indptr.npy"}
MATRIX_FILE = "bm25.matrix.npz"  # version 1
VOCAB_FILE = "bm25.vocab.json"
STREAM_BLOCK_DOCS = 8192  # documents turned into numpy triples at a time by build_streamed
WEIGHT_BLOCK = 1 << 22  # matrix entries weighted at a time (five float64 temporaries of 32 MB)


class BM25Index:
    """Per-(document, term) BM25 weights in a CSC matrix; a query score is a sum of columns.

    Scores equal rank_bm25.BM25Okapi's: idf = log((N - n + 0.5) / (n + 0.5)), terms with
    a negative idf get epsilon * (mean idf over the vocabulary), and a token repeated in
    the query counts once per occurrence.
    """

    def __init__(self, matrix: sp.csc_matrix | tuple, vocab: list[str], k1: float, b: float, epsilon: float,
                 avgdl: float):
        """`matrix` is a CSC matrix or its (data, indices, indptr, shape), which may be memory-mapped."""
        if isinstance(matrix, tuple):
            self.data, self.indices, self.indptr, self.shape = matrix
        else:
            self.data, self.indices, self.indptr, self.shape = matrix.data, matrix.indices, matrix.indptr, matrix.shape
        if self.shape[1] != len(vocab):
            raise ValueError(f"The matrix has {self.shape[1]} columns but the vocabulary has {len(vocab)} terms.")
        self.vocab = vocab
        self.term_ids = {term: i for i, term in enumerate(vocab)}
        self.k1 = k1
        self.b = b
        self.epsilon = epsilon
        self.avgdl = avgdl

    @property
    def n_docs(self) -> int:
        """Number of documents indexed."""
        return int(self.shape[0])

    @property
    def nnz(self) -> int:
        """Number of stored (document, term) weights."""
        return len(self.data)

    @property
    def matrix(self) -> sp.csc_matrix:
        """The weights as a scipy CSC matrix (built on each call; for inspection, not the query path)."""
        return sp.csc_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def doc_freq(self) -> np.ndarray:
        """Number of documents holding each term, in vocabulary order."""
        return np.diff(self.indptr)

    @classmethod
    def build(cls, token_lists: list[list[str]], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25) -> "BM25Index":
        """Index one token list per document (the row order is the document order)."""
        if not token_lists:
            raise ValueError("BM25 needs at least one document; the token list is empty.")
        _check_params(k1, b)
        n_docs = len(token_lists)
        lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=n_docs)
        # map() over a defaultdict keeps the per-token loop in C: ids in order of first sight.
        term_ids: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        flat_ids = np.fromiter(
            map(term_ids.__getitem__, itertools.chain.from_iterable(token_lists)),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        vocab, rank = _sorted_vocabulary(term_ids)
        rows = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        counts = sp.coo_matrix(
            (np.ones(len(flat_ids), dtype=np.float64), (rows, rank[flat_ids])), shape=(n_docs, len(vocab))
        ).tocsc()  # duplicates summed: term frequencies
        counts.sum_duplicates()
        return cls._from_counts(counts, lengths, vocab, k1, b, epsilon)

    @classmethod
    def build_streamed(cls, token_lists: Iterable[list[str]], k1: float = 1.5, b: float = 0.75,
                       epsilon: float = 0.25, block_docs: int = STREAM_BLOCK_DOCS) -> "BM25Index":
        """The same index as build() (bit for bit), from token lists taken a block at a time.

        At a million chunks the Python token lists build() holds take gigabytes; here only one
        block of them lives at once, turned into numpy (term, document, count) triples.
        """
        _check_params(k1, b)
        term_ids: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        lengths, terms, docs, frequencies = [], [], [], []
        n_docs = 0
        for block in _blocks(token_lists, block_docs):
            block_lengths = np.fromiter(map(len, block), dtype=np.int64, count=len(block))
            ids = np.fromiter(map(term_ids.__getitem__, itertools.chain.from_iterable(block)), dtype=np.int64,
                              count=int(block_lengths.sum()))
            local_rows = np.repeat(np.arange(len(block), dtype=np.int64), block_lengths)
            # One entry per (term, document), sorted by term then document: the CSC order within a block.
            keys, tf = np.unique(ids * len(block) + local_rows, return_counts=True)
            terms.append((keys // len(block)).astype(np.int32))
            docs.append((keys % len(block) + n_docs).astype(np.int32))
            frequencies.append(tf.astype(np.int32))
            lengths.append(block_lengths)
            n_docs += len(block)
        if n_docs == 0:
            raise ValueError("BM25 needs at least one document; the token list is empty.")
        vocab, rank = _sorted_vocabulary(term_ids)
        columns = rank.astype(np.int32)[_concatenate(terms, np.int32)]
        del terms
        # Rows reach each column in ascending order and are unique there, so the result is canonical.
        counts = sp.coo_matrix((_concatenate(frequencies, np.int32), (_concatenate(docs, np.int32), columns)),
                               shape=(n_docs, len(vocab))).tocsc()
        return cls._from_counts(counts, np.concatenate(lengths), vocab, k1, b, epsilon)

    @classmethod
    def build_from_jsonl(cls, path: Path, **params) -> "BM25Index":
        """build_streamed() over a tokens.jsonl file (one JSON list of tokens a line), read as it goes."""
        with Path(path).open(encoding="utf-8") as lines:
            return cls.build_streamed((json.loads(line) for line in lines if line.strip()), **params)

    @classmethod
    def _from_counts(cls, counts: sp.csc_matrix, lengths: np.ndarray, vocab: list[str], k1: float, b: float,
                     epsilon: float) -> "BM25Index":
        """The Okapi weights of a canonical CSC matrix of term frequencies.

        Computed a block of entries at a time (float64, then float32): element-wise, so the
        blocks give the same bits as one pass, without several float64 copies of every entry.
        """
        n_docs = len(lengths)
        doc_freq = np.diff(counts.indptr)
        idf = _okapi_idf(doc_freq, n_docs, epsilon)
        avgdl = float(lengths.sum()) / n_docs
        weights = np.empty(counts.nnz, dtype=np.float32)
        for start in range(0, counts.nnz, WEIGHT_BLOCK):
            stop = min(start + WEIGHT_BLOCK, counts.nnz)
            tf = counts.data[start:stop].astype(np.float64)
            column = np.searchsorted(counts.indptr, np.arange(start, stop), side="right") - 1
            # rank-bm25 divides by avgdl even when it is 0 (all documents empty); no entries then.
            norm = k1 * (1 - b + b * lengths[counts.indices[start:stop]] / avgdl)
            weights[start:stop] = idf[column] * (tf * (k1 + 1) / (tf + norm))
        return cls((weights, counts.indices, counts.indptr, (n_docs, len(vocab))), vocab, k1, b, epsilon, avgdl)

    def rows_with(self, token: str) -> np.ndarray:
        """The documents holding this token (its postings), ascending; empty when unknown."""
        col = self.term_ids.get(token)
        if col is None:
            return np.zeros(0, dtype=np.int64)
        return np.sort(self.indices[self.indptr[col]:self.indptr[col + 1]].astype(np.int64))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query (float32, length n_docs)."""
        out = np.zeros(self.n_docs, dtype=np.float64)
        indptr, indices, data = self.indptr, self.indices, self.data
        for token, count in Counter(query_tokens).items():
            col = self.term_ids.get(token)
            if col is None:
                continue  # unknown tokens contribute 0, as in rank-bm25
            lo, hi = indptr[col], indptr[col + 1]
            # Rows within one column are unique, so fancy-index += is safe.
            out[indices[lo:hi]] += count * data[lo:hi].astype(np.float64)
        return out.astype(np.float32)

    def top_k(self, query_tokens: list[str], k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k best documents with a positive score, highest first, ties to the lower index.

        `mask` (bool, length n_docs) says which documents may be returned; it is applied
        before the cut, so k allowed documents come back whenever that many match.
        """
        if k < 0:
            raise ValueError(f"k must be zero or more; got {k}.")
        scores = self.scores(query_tokens)
        allowed = scores > 0
        if mask is not None:
            mask = np.asarray(mask)
            if mask.dtype != np.bool_ or mask.shape != (self.n_docs,):
                raise ValueError(
                    f"The mask must be a boolean array of length {self.n_docs}; got {mask.dtype} of shape {mask.shape}."
                )
            allowed &= mask
        candidates = np.flatnonzero(allowed)
        if k == 0 or len(candidates) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        cand_scores = scores[candidates]
        if len(candidates) > k:
            # Keep everything tied with the k-th best so the tie-break below sees all of them.
            kth = np.partition(cand_scores, len(cand_scores) - k)[len(cand_scores) - k]
            keep = cand_scores >= kth
            candidates, cand_scores = candidates[keep], cand_scores[keep]
        order = np.lexsort((candidates, -cand_scores))[:k]
        return candidates[order].astype(np.int64), cand_scores[order]

    def save(self, directory: Path) -> None:
        """Write the index into `directory` (params json, matrix npz, vocabulary json)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        params = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "k1": self.k1,
            "b": self.b,
            "epsilon": self.epsilon,
            "avgdl": self.avgdl,
            "n_docs": self.n_docs,
            "n_terms": len(self.vocab),
            "n_entries": self.nnz,
            "dtype": "float32",
            "files": {**ARRAY_FILES, "vocab": VOCAB_FILE},
        }
        for name, file in ARRAY_FILES.items():
            np.save(directory / file, np.ascontiguousarray(getattr(self, name)))
        (directory / VOCAB_FILE).write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        (directory / PARAMS_FILE).write_text(json.dumps(params, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "BM25Index":
        """Read an index written by save(); raises CorruptIndex if it is missing or inconsistent.

        The weight arrays are memory-mapped: a query reads the columns of its terms only,
        so a large index costs the page cache, not the process, for the terms never asked.
        """
        directory = Path(directory)
        try:
            params = json.loads((directory / PARAMS_FILE).read_text(encoding="utf-8"))
            version = params.get("format_version")
            if params.get("format") != FORMAT or version not in (1, FORMAT_VERSION):
                raise CorruptIndex(
                    f"The BM25 index in {directory} has format {params.get('format')!r} version "
                    f"{version!r}; this code reads {FORMAT!r} versions 1 and {FORMAT_VERSION}."
                )
            vocab = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
            if version == 1:
                with np.load(directory / MATRIX_FILE) as arrays:
                    data, indices, indptr = arrays["data"], arrays["indices"], arrays["indptr"]
            else:
                data, indices, indptr = (np.load(directory / ARRAY_FILES[name], mmap_mode="r")
                                         for name in ("data", "indices", "indptr"))
        except (OSError, ValueError, KeyError) as exc:
            raise CorruptIndex(f"The BM25 index in {directory} cannot be read: {exc}") from exc
        shape = (params["n_docs"], params["n_terms"])
        if (len(vocab) != shape[1] or len(indptr) != shape[1] + 1 or len(data) != params["n_entries"]
                or len(indices) != len(data) or (len(indptr) and int(indptr[-1]) != len(data))):
            raise CorruptIndex(f"The BM25 index files in {directory} do not agree with {PARAMS_FILE}.")
        return cls((data, indices, indptr, shape), vocab, params["k1"], params["b"], params["epsilon"], params["avgdl"])


def _check_params(k1: float, b: float) -> None:
    if k1 < 0 or not 0 <= b <= 1:
        raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1; got k1={k1}, b={b}.")


def _sorted_vocabulary(term_ids: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """The vocabulary in sorted order (so the same corpus always gives the same files) and each id's column."""
    vocab = sorted(term_ids)
    rank = np.empty(len(vocab), dtype=np.int64)
    rank[np.fromiter((term_ids[t] for t in vocab), dtype=np.int64, count=len(vocab))] = np.arange(len(vocab))
    return vocab, rank


def _blocks(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of `size` items (the last may be shorter)."""
    iterator = iter(items)
    while block := list(itertools.islice(iterator, size)):
        yield block


def _concatenate(parts: list[np.ndarray], dtype) -> np.ndarray:
    """The parts end to end, emptied from the list as they are copied so two copies never coexist whole."""
    out = np.empty(sum(len(part) for part in parts), dtype=dtype)
    position = 0
    while parts:
        part = parts.pop(0)
        out[position:position + len(part)] = part
        position += len(part)
    return out


def _okapi_idf(doc_freq: np.ndarray, n_docs: int, epsilon: float) -> np.ndarray:
    """rank-bm25's idf: log((N-n+0.5)/(n+0.5)), negatives raised to epsilon * mean idf."""
    idf = np.log(n_docs - doc_freq + 0.5) - np.log(doc_freq + 0.5)
    if len(idf):
        idf[idf < 0] = epsilon * float(idf.mean())
    return idf
