"""One vector per sentence of every chunk, so answers can weigh each sentence by meaning.

A chunk's vector mixes the several things its sentences say; a which-question asks whether
one sentence shows one practice. So the indexer also embeds each sentence alone (the
sentence split the answer layer quotes from), stored float16 in ``sentences.npy`` with
``sentences.offsets.npy`` (row r's sentences are ``offsets[r]:offsets[r+1]``) and
``sentences.hashes.npy`` (content hashes, so a rebuild embeds only new sentences).
The service reads the rows a question looks at with pread (vector_file.py): at a million
chunks the file is gigabytes, and what one question read must not stay resident.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from indexer.chunking import split_sentences
from indexer.errors import CorruptIndex
from indexer.records import Chunk
from indexer.vector_file import VectorFile

VECTORS_FILE = "sentences.npy"
OFFSETS_FILE = "sentences.offsets.npy"
HASHES_FILE = "sentences.hashes.npy"
BATCH = 32
# Up to this many sentences the service holds them in memory as float32 (150 MB per 100k),
# loaded before gunicorn forks so the workers share one copy: a which-answer then scores every
# sentence with one matrix product instead of reading the file. Beyond, rows are read on demand.
IN_MEMORY_SENTENCES = 400_000
# A "sentence" of fewer word characters (「。」, a stray 「、」, a zero-width space) says nothing;
# its vector would sit near every query. It is stored as zeros and never taken as evidence.
MIN_WORD_CHARS = 4
_WORD = re.compile(r"[\w\u4e00-\u9fff]")


def says_something(text: str) -> bool:
    """Whether a sentence has enough word characters to be embedded."""
    return len(_WORD.findall(text)) >= MIN_WORD_CHARS


def chunk_sentences(chunk: Chunk) -> list[str]:
    """The normalised sentences of a chunk, aligned with chunk.sentences (the quotable spans).

    When the split of the normalised text does not line up with the published spans, each
    span gets the whole chunk text: alignment matters more than precision.
    """
    spans = split_sentences(chunk.search_text, 0, len(chunk.search_text))
    texts = [chunk.search_text[a:b] for a, b in spans]
    if len(texts) != len(chunk.sentences):
        return [chunk.search_text] * len(chunk.sentences)
    return texts


def sentence_hash(model: str, text: str) -> bytes:
    """The content hash a sentence's vector is stored and reused under (16 bytes)."""
    return hashlib.sha256(f"{model}\x00s\x00{text}".encode("utf-8")).digest()[:16]


def previous_sentences(folder: Path | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(hashes, memory-mapped float16 vectors) of a previous generation's sentences, or None when it has none."""
    if folder is None or not (folder / HASHES_FILE).is_file():
        return None
    try:
        hashes = np.load(folder / HASHES_FILE)
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r")
    except (OSError, ValueError):
        return None
    return (hashes, vectors) if len(hashes) == len(vectors) else None


def _previous(folder: Path | None) -> dict[bytes, np.ndarray]:
    """Hash -> vector of a previous generation's sentences (empty when it has none)."""
    previous = previous_sentences(folder)
    if previous is None:
        return {}
    hashes, vectors = previous
    return {bytes(h): vectors[i] for i, h in enumerate(hashes)}


def embed_sentences(
    chunks: Sequence[Chunk], embedder, previous_folder: Path | None,
    progress: Callable[[Iterable, str, int], Iterable],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors float16, offsets, hashes) for every chunk's sentences; only new ones are embedded."""
    texts: list[str] = []
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    for row, chunk in enumerate(chunks):
        sentences = chunk_sentences(chunk)
        texts.extend(sentences)
        offsets[row + 1] = offsets[row] + len(sentences)
    hashes = [sentence_hash(embedder.name, t) for t in texts]
    cached = _previous(previous_folder)
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float16)
    todo = []
    for i, h in enumerate(hashes):
        if not says_something(texts[i]):
            continue  # stays zero
        if h in cached and cached[h].shape == (embedder.dim,):
            vectors[i] = cached[h]
        else:
            todo.append(i)
    for start in progress(range(0, len(todo), BATCH), "embedding sentences", (len(todo) + BATCH - 1) // BATCH):
        rows = todo[start:start + BATCH]
        vectors[rows] = embedder.embed_passages([texts[i] for i in rows]).astype(np.float16)
    return vectors, offsets, np.array(hashes, dtype="S16")


def save_sentences(folder: Path, vectors: np.ndarray, offsets: np.ndarray, hashes: np.ndarray) -> dict:
    """Write the three files; returns the manifest entry."""
    np.save(folder / VECTORS_FILE, np.ascontiguousarray(vectors, dtype=np.float16))
    np.save(folder / OFFSETS_FILE, offsets)
    np.save(folder / HASHES_FILE, hashes)
    return sentences_manifest(len(vectors))


def sentences_manifest(count: int) -> dict:
    """The manifest entry of a generation's sentence vectors."""
    return {"sentences": {"count": int(count), "dtype": "float16"}}


class SentenceVectors:
    """The sentence vectors of a generation, read on demand; rows of a chunk found by offset."""

    def __init__(self, vectors: VectorFile, offsets: np.ndarray, in_memory: int = IN_MEMORY_SENTENCES):
        self.vectors = vectors
        self.offsets = offsets
        self.matrix: np.ndarray | None = None  # float32, when held in memory
        self._zero: np.ndarray | None = None
        if len(vectors) <= in_memory:
            self.matrix = vectors.rows(np.arange(len(vectors)))
            self._zero = ~self.matrix.any(axis=1)

    @classmethod
    def open(cls, folder: Path, n_chunks: int) -> "SentenceVectors | None":
        """The generation's sentence vectors; None for a generation built before they existed."""
        if not (folder / VECTORS_FILE).is_file():
            return None
        try:
            vectors = VectorFile(folder / VECTORS_FILE)
            offsets = np.load(folder / OFFSETS_FILE)
        except (OSError, ValueError) as error:
            raise CorruptIndex(f"The sentence vectors in {folder} cannot be read ({error}); rebuild the index.") from error
        if len(offsets) != n_chunks + 1 or offsets[-1] != len(vectors):
            raise CorruptIndex(f"The sentence vectors in {folder} do not match its chunks; rebuild the index.")
        return cls(vectors, offsets)

    def __len__(self) -> int:
        return len(self.vectors)

    def rows_of(self, chunk_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sentence ids, their chunk rows) of the given chunk rows, in order."""
        chunk_rows = np.asarray(chunk_rows, dtype=np.int64)
        starts, ends = self.offsets[chunk_rows], self.offsets[chunk_rows + 1]
        counts = ends - starts
        ids = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(counts.sum())
        return ids, np.repeat(chunk_rows, counts)

    def ids_of(self, refs) -> np.ndarray:
        """The sentence ids of sentences named by their chunk row and index within it (.row, .index)."""
        return np.array([self.offsets[ref.row] + ref.index for ref in refs], dtype=np.int64)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of these sentence ids, as float32, in the order given."""
        if self.matrix is not None:
            return self.matrix[np.asarray(ids, dtype=np.int64)]
        return self.vectors.rows(ids)

    def similarities(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Cosine of the query with the given sentences; -inf for one that says nothing (zeros).

        Only the rows asked for are read from the memory-mapped file.
        """
        query = np.asarray(query, dtype=np.float32)
        if self.matrix is not None:
            whole = len(ids) == len(self.matrix) and bool(np.all(np.diff(ids) == 1)) and (len(ids) == 0 or ids[0] == 0)
            sims = self.matrix @ query if whole else self.matrix[ids] @ query
            sims[self._zero if whole else self._zero[ids]] = -np.inf
            return sims
        block = self.vectors.rows(ids)
        sims = block @ query
        sims[~block.any(axis=1)] = -np.inf
        return sims
