"""A file held open for positional reads: thread-safe, maps nothing, survives its path's removal."""
from __future__ import annotations

import os
from pathlib import Path

from indexer.errors import CorruptIndex


class PreadFile:
    """Reads byte ranges of one file with os.pread; closed when collected."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd = -1
        self._fd = os.open(self.path, os.O_RDONLY)

    def read(self, offset: int, length: int, exact: bool = True) -> bytes:
        """`length` bytes from `offset`; fewer only at the end of the file and when not `exact`."""
        data = os.pread(self._fd, length, offset)
        if exact and len(data) != length:
            raise CorruptIndex(f"The index file {self.path} is shorter than the index says; rebuild the index.")
        return data

    def close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self):
        try:
            self.close()
        except OSError:
            pass
