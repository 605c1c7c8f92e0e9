"""Embedding stages of a streaming build: texts from a work file, vectors into a .npy on disk.

The .npy is sized once and filled in place with pwrite, never memory-mapped for writing:
written pages stay in the page cache instead of counting as the build's memory. Rows are
done in order, a window at a time; a window holds one batch of texts to embed (the vectors
the previous generation already has for the same text are copied, not embedded), and once
it is written the journal may say so: a rerun goes on from the first row not written.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from indexer.build import Progress
from indexer.embed import Embedder
from indexer.errors import IndexerError
from indexer.vector_file import VectorFile
from indexer.streaming.workfolder import Checkpoints, EmbedProgress

if TYPE_CHECKING:
    from indexer.distributed_embed import RayTarget

LOCAL_PASSAGE_BATCH = 16  # build._assemble's batch: the same calls, so the same vectors
LOCAL_SENTENCE_BATCH = 32  # sentence_vectors.BATCH
RAY_BATCH = 20_000  # texts per call to distributed_embed.embed_texts (its memory stays bounded)
WINDOW_ROWS = 65_536  # at most this many rows a window, however few of them need embedding
MISSING = -1  # a row the previous generation has no vector for: embed it
LEFT_ZERO = -2  # a row that stays zeros (a sentence that says nothing)


@dataclass(frozen=True)
class Encoder:
    """How texts become vectors: a function over one batch, and the batch sizes it wants."""

    embed: Callable[[Sequence[str]], np.ndarray]
    passage_batch: int
    sentence_batch: int
    where: str  # for messages: "this process" or the Ray cluster


def local_encoder(embedder: Embedder) -> Encoder:
    """The embedder of this process, in the batches build_index uses."""
    return Encoder(lambda texts: embedder.embed_passages(list(texts)), LOCAL_PASSAGE_BATCH, LOCAL_SENTENCE_BATCH,
                   "this process")


@dataclass(frozen=True)
class RayEmbedding:
    """Embed on Ray instead of in this process: the cluster, and the model its workers load.

    The model must be the one of the embedder given to stream_build: the manifest names that one.
    """

    target: RayTarget
    model_name: str | None  # as load_embedder takes it: None is the bundled e5
    cache_dir: Path  # where the workers find (or convert) the model


def ray_encoder(ray: RayEmbedding, workdir: Path) -> Encoder:
    """Batches of RAY_BATCH texts sent to indexer.distributed_embed.embed_texts."""
    from indexer import distributed_embed  # only a distributed build loads it (and Ray, when it runs)

    def embed(texts: Sequence[str]) -> np.ndarray:
        return distributed_embed.embed_texts(list(texts), ray.model_name, ray.cache_dir, ray.target, workdir)

    return Encoder(embed, RAY_BATCH, RAY_BATCH, ray.target.describe())


class NpyRows:
    """A 2-D .npy file of fixed shape, created full of zeros and filled with pwrite, row runs at a time."""

    def __init__(self, path: Path, shape: tuple[int, int], dtype, create: bool):
        self.path = path
        self.dtype = np.dtype(dtype)
        self.row_bytes = shape[1] * self.dtype.itemsize
        if create:
            with path.open("wb") as handle:
                header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape}
                np.lib.format.write_array_header_1_0(handle, header)
                handle.truncate(handle.tell() + shape[0] * self.row_bytes)  # a sparse file of zeros
        existing = np.load(path, mmap_mode="r")  # parses the header only
        if existing.shape != shape or existing.dtype != self.dtype:
            raise ValueError(f"{path.name} holds {existing.shape} {existing.dtype}, not {shape} {self.dtype}")
        self.offset = existing.offset
        del existing
        self._fd = os.open(path, os.O_WRONLY)

    def write(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Write `values[i]` as row `rows[i]` (rows ascending), one pwrite per run of consecutive rows."""
        values = np.ascontiguousarray(values, dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        for run, block in zip(np.split(rows, breaks), np.split(values, breaks)):
            if len(run):
                os.pwrite(self._fd, block.tobytes(), self.offset + int(run[0]) * self.row_bytes)

    def close(self) -> None:
        os.close(self._fd)


@dataclass
class PreviousVectors:
    """Vectors of the previous generation by content hash, read from its file when copied."""

    sorted_keys: np.ndarray
    rows_of_sorted: np.ndarray
    vectors: VectorFile

    @classmethod
    def of(cls, keys: np.ndarray, vectors: VectorFile) -> "PreviousVectors":
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], order.astype(np.int64), vectors)

    def rows_for(self, keys: np.ndarray) -> np.ndarray:
        """The previous row holding each key's vector, or MISSING."""
        if len(self.sorted_keys) == 0:
            return np.full(len(keys), MISSING, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.sorted_keys, keys), len(self.sorted_keys) - 1)
        return np.where(self.sorted_keys[at] == keys, self.rows_of_sorted[at], MISSING)


@dataclass(frozen=True)
class VectorJob:
    """One embedding stage: which texts, under which hashes, into which file."""

    label: str  # the progress bar's
    texts: Path  # one JSON string a line, a line a row
    keys: np.ndarray  # each row's content hash
    out: Path
    dim: int
    dtype: str
    batch: int
    left_zero: np.ndarray | None = None  # rows never embedded (stay zeros)


def fill_vectors(job: VectorJob, previous: PreviousVectors | None, encoder: Encoder, state: EmbedProgress,
                 checkpoints: Checkpoints, progress: Progress) -> None:
    """Write every row of `job.out` from `state.rows` on: copied from `previous` or embedded, window by window."""
    n = len(job.keys)
    sources = previous.rows_for(job.keys) if previous is not None else np.full(n, MISSING, dtype=np.int64)
    if job.left_zero is not None:
        sources[job.left_zero] = LEFT_ZERO
    try:
        out = NpyRows(job.out, (n, job.dim), job.dtype, create=state.rows == 0)
    except (OSError, ValueError):  # the file is not what the journal says: do the stage again
        state.rows = state.embedded = state.reused = 0
        out = NpyRows(job.out, (n, job.dim), job.dtype, create=True)
    windows = _windows(state.rows, n, np.flatnonzero(sources[state.rows:] == MISSING) + state.rows, job.batch)
    try:
        with job.texts.open("rb") as texts:
            for _ in range(state.rows):
                texts.readline()
            for start, stop in progress(windows, job.label, len(windows)):
                _fill_window(out, texts, sources[start:stop], start, previous, encoder, job)
                state.embedded += int((sources[start:stop] == MISSING).sum())
                state.reused += int((sources[start:stop] >= 0).sum())
                state.rows = stop
                if checkpoints.due():
                    checkpoints.save()
    except BaseException:
        checkpoints.save_if_possible()  # the rows of every window wholly written
        raise
    finally:
        out.close()


def _windows(start: int, n: int, todo: np.ndarray, batch: int) -> list[tuple[int, int]]:
    """Row ranges from `start` to `n`, each ending after its batch of rows to embed, none over WINDOW_ROWS long."""
    ends = set((todo[batch - 1::batch] + 1).tolist())
    ends.update(range(start + max(WINDOW_ROWS, batch), n, max(WINDOW_ROWS, batch)))
    ends = sorted(end for end in ends if start < end < n) + ([n] if n > start else [])
    return list(zip([start] + ends[:-1], ends))


def _fill_window(out: NpyRows, texts, sources: np.ndarray, start: int, previous: PreviousVectors | None,
                 encoder: Encoder, job: VectorJob) -> None:
    """Copy the window's known vectors, embed the others (one call), write both."""
    wanted = sources == MISSING
    lines = [line for line, embed in zip((texts.readline() for _ in range(len(sources))), wanted) if embed]
    known = np.flatnonzero(sources >= 0)
    if len(known):
        out.write(start + known, previous.vectors.rows(sources[known]))
    if lines:
        vectors = encoder.embed([json.loads(line) for line in lines])
        if vectors.shape != (len(lines), job.dim):
            raise IndexerError(
                f"Embedding in {encoder.where} returned vectors of shape {vectors.shape} for {len(lines)} texts "
                f"where {job.dim} dimensions were expected; the build stopped and can be run again.")
        out.write(start + np.flatnonzero(wanted), vectors)
