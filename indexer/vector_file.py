"""Rows of a vector .npy file read with pread: the vectors a query needs, without holding them all.

The approximate FAISS index keeps compressed codes in memory; the few exact vectors a
query needs (its candidates, or the rows a narrow filter allows) are read from the file,
and so are the float16 sentence vectors a which-answer weighs. Runs of consecutive rows
are read with one call each. Nothing is memory-mapped, so what a query has read leaves
the process's resident memory with the query (the page cache keeps it, shared).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.errors import CorruptIndex
from indexer.pread_file import PreadFile


class VectorFile:
    """A float32 or float16 (n, dim) .npy file whose rows are read on demand (as float32)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            header = np.load(self.path, mmap_mode="r")  # parses the header, maps nothing yet
        except (OSError, ValueError) as error:
            raise CorruptIndex(f"The vector file {self.path} cannot be read ({error}); rebuild the index.") from error
        if header.dtype not in (np.float32, np.float16) or header.ndim != 2 or not header.flags.c_contiguous:
            raise CorruptIndex(f"The vector file {self.path} does not hold a float matrix; rebuild the index.")
        self.shape = header.shape
        self.dtype = header.dtype
        self._offset = header.offset
        self._row_bytes = header.shape[1] * header.dtype.itemsize
        del header
        self._file = PreadFile(self.path)

    def __len__(self) -> int:
        return self.shape[0]

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of these row ids, in the order given."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((len(ids), self.shape[1]), dtype=np.float32)
        if len(ids) == 0:
            return out
        if ids.min() < 0 or ids.max() >= self.shape[0]:
            raise IndexError(f"Vector rows must lie in 0..{self.shape[0] - 1}.")
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        breaks = np.flatnonzero(np.diff(sorted_ids) != 1) + 1
        position = 0
        for run in np.split(sorted_ids, breaks):
            first, count = int(run[0]), len(run)
            data = self._file.read(self._offset + first * self._row_bytes, count * self._row_bytes)
            out[order[position:position + count]] = np.frombuffer(data, dtype=self.dtype).reshape(count, -1)
            position += count
        return out
