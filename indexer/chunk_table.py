"""The chunk table of an index generation, read on demand instead of held as objects.

At a million chunks, Chunk objects with their texts take gigabytes; the service needs
only a few per query. So a generation carries, beside ``chunks.jsonl`` (one record per
line), small columns in ``chunks.columns.npz`` (where each line starts, which report
each chunk belongs to, its section label) plus ``chunks.columns.json`` (chunk ids,
report ids, label names) and ``chunks.search.bin`` (the lower-cased search texts, for
substring scans). A Chunk is parsed from its line when asked for; the file is read with
``os.pread``, so nothing is mapped into the process and the page cache does the caching.

Generations written before these files existed are read by scanning ``chunks.jsonl``
once at load.
"""
from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer.errors import CorruptIndex
from indexer.pread_file import PreadFile
from indexer.records import Chunk

CHUNKS_FILE = "chunks.jsonl"
COLUMNS_FILE = "chunks.columns.npz"
NAMES_FILE = "chunks.columns.json"
SEARCH_FILE = "chunks.search.bin"
SEPARATOR = b"\n"  # between search texts in SEARCH_FILE; a needle never contains it
SCAN_BLOCK = 8 << 20  # bytes read at a time by a substring scan
RECORD_CACHE = 4096


def _search_bytes(search_text: str) -> bytes:
    """A chunk's entry in SEARCH_FILE: its lower-cased search text, then the separator."""
    return search_text.lower().encode("utf-8").replace(SEPARATOR, b" ") + SEPARATOR


def _line(chunk: Chunk, chunk_hash: str) -> bytes:
    row = {**chunk.to_dict(), "hash": chunk_hash}
    return (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def write_chunk_table(folder: Path, chunks: Sequence[Chunk], hashes: Sequence[str], doc_ids: Sequence[str]) -> None:
    """Write chunks.jsonl and its columns; `doc_ids` gives the order of the reports."""
    if len(chunks) != len(hashes):
        raise ValueError(f"There are {len(chunks)} chunks but {len(hashes)} hashes.")
    with ChunkTableWriter.create(folder, doc_ids) as writer:
        for chunk, chunk_hash in zip(chunks, hashes):
            writer.append(chunk, chunk_hash)


class ChunkTableWriter:
    """Writes a chunk table one chunk at a time, so a build need not hold every chunk.

    The records and search texts go to disk as they come; only the small columns stay in
    memory (compact arrays) until close() writes them. A writer can be reopened on files a
    killed build left behind (resume): the columns of the rows kept are recomputed from them.
    """

    def __init__(self, folder: Path, doc_ids: Sequence[str], mode: str):
        self.folder = Path(folder)
        self.doc_ids = list(doc_ids)
        self._doc_index = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        self._line_offsets = array("q", [0])
        self._search_offsets = array("q", [0])
        self._docs = array("i")
        self._label_codes = array("h")
        self._labels: dict[str, int] = {}
        self._chunk_ids: list[str] = []
        self._lines = (self.folder / CHUNKS_FILE).open(mode)
        self._search = (self.folder / SEARCH_FILE).open(mode)

    @classmethod
    def create(cls, folder: Path, doc_ids: Sequence[str] = ()) -> "ChunkTableWriter":
        """A writer of a new, empty table in `folder`."""
        return cls(folder, doc_ids, "wb")

    @classmethod
    def reopen(cls, folder: Path, doc_ids: Sequence[str], rows: int) -> "ChunkTableWriter":
        """A writer that keeps the first `rows` chunks already in `folder` and appends after them.

        Whatever was written after those rows (by a build killed mid-way) is cut off.
        ValueError when the files hold fewer rows.
        """
        writer = cls(folder, doc_ids, "r+b")
        for _ in range(rows):
            line = writer._lines.readline()
            if not line.endswith(b"\n"):
                writer.close_files()
                raise ValueError(f"{CHUNKS_FILE} in {folder} holds fewer than {rows} complete rows")
            writer._add_columns(Chunk.from_dict(json.loads(line)), len(line))
        if (writer.folder / SEARCH_FILE).stat().st_size < writer._search_offsets[-1]:
            writer.close_files()
            raise ValueError(f"{SEARCH_FILE} in {folder} is shorter than its first {rows} rows")
        for handle, offsets in ((writer._lines, writer._line_offsets), (writer._search, writer._search_offsets)):
            handle.seek(offsets[-1])
            handle.truncate()
        return writer

    def __len__(self) -> int:
        return len(self._chunk_ids)

    def __enter__(self) -> "ChunkTableWriter":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.close_files()

    def add_report(self, doc_id: str) -> None:
        """Name the next report (in report order) before appending its chunks."""
        if doc_id not in self._doc_index:
            self._doc_index[doc_id] = len(self.doc_ids)
            self.doc_ids.append(doc_id)

    def append(self, chunk: Chunk, chunk_hash: str) -> None:
        """Write one chunk as the next row."""
        if chunk.doc_id not in self._doc_index:
            raise ValueError(f"The chunk {chunk.chunk_id} belongs to {chunk.doc_id}, which is not among the reports.")
        line = _line(chunk, chunk_hash)
        self._lines.write(line)
        self._search.write(_search_bytes(chunk.search_text))
        self._add_columns(chunk, len(line))

    def _add_columns(self, chunk: Chunk, line_bytes: int) -> None:
        self._line_offsets.append(self._line_offsets[-1] + line_bytes)
        self._search_offsets.append(self._search_offsets[-1] + len(_search_bytes(chunk.search_text)))
        self._docs.append(self._doc_index[chunk.doc_id])
        self._label_codes.append(self._labels.setdefault(chunk.label, len(self._labels)))
        self._chunk_ids.append(chunk.chunk_id)

    def flush(self) -> None:
        """Hand what was appended to the operating system (a checkpoint then covers it)."""
        self._lines.flush()
        self._search.flush()

    def close_files(self) -> None:
        """Close the record files without writing the columns (the table stays unfinished)."""
        self._lines.close()
        self._search.close()

    def close(self) -> None:
        """Finish the table: close the files and write the columns."""
        self.close_files()
        np.savez(self.folder / COLUMNS_FILE,
                 line_offsets=np.frombuffer(self._line_offsets, dtype=np.int64),
                 search_offsets=np.frombuffer(self._search_offsets, dtype=np.int64),
                 doc=np.frombuffer(self._docs, dtype=np.int32), label=np.frombuffer(self._label_codes, dtype=np.int16))
        names = {"chunk_ids": self._chunk_ids, "doc_ids": self.doc_ids, "labels": list(self._labels)}
        (self.folder / NAMES_FILE).write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")


class ChunkTable(Sequence):
    """The chunks of one generation, in row order; rows are parsed from disk when read."""

    def __init__(self, path: Path, line_offsets: np.ndarray, doc: np.ndarray, label: np.ndarray,
                 chunk_ids: list[str], doc_ids: list[str], labels: list[str], search: "SearchTexts"):
        self.path = path
        self._line_offsets = line_offsets
        self.doc_rows = doc  # report index (into doc_ids) of every chunk
        self.label_codes = label
        self.labels = labels  # label name of each code
        self.doc_ids = doc_ids
        self._chunk_ids = chunk_ids
        self._row_of = {chunk_id: row for row, chunk_id in enumerate(chunk_ids)}
        self._doc_position = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        # Chunks of a report are stored together; then a report's rows are one range.
        self._doc_starts = np.searchsorted(doc, np.arange(len(doc_ids) + 1)) if _is_sorted(doc) else None
        self._search = search
        self._file = PreadFile(path)
        self._record = lru_cache(maxsize=RECORD_CACHE)(self._read_record)

    @classmethod
    def open(cls, folder: Path) -> "ChunkTable":
        """The chunk table of a generation folder (columns read, records left on disk)."""
        folder = Path(folder)
        try:
            if (folder / COLUMNS_FILE).is_file():
                with np.load(folder / COLUMNS_FILE) as arrays:
                    line_offsets, search_offsets = arrays["line_offsets"], arrays["search_offsets"]
                    doc, label = arrays["doc"], arrays["label"]
                names = json.loads((folder / NAMES_FILE).read_text(encoding="utf-8"))
                search = SearchTexts.on_disk(folder / SEARCH_FILE, search_offsets)
                table = cls(folder / CHUNKS_FILE, line_offsets, doc, label, names["chunk_ids"], names["doc_ids"],
                            names["labels"], search)
            else:
                table = cls._scanned(folder)
        except (OSError, ValueError, KeyError) as error:
            raise CorruptIndex(f"The chunk table in {folder} cannot be read ({error}); rebuild the index.") from error
        if not (len(table._line_offsets) == len(table.doc_rows) + 1 == len(table._chunk_ids) + 1):
            raise CorruptIndex(f"The chunk table in {folder} has columns of different lengths; rebuild the index.")
        return table

    @classmethod
    def _scanned(cls, folder: Path) -> "ChunkTable":
        """Columns computed from chunks.jsonl alone (generations written before the column files)."""
        with (folder / "reports.jsonl").open(encoding="utf-8") as reports:
            doc_ids = [json.loads(line)["doc_id"] for line in reports if line.strip()]
        doc_index = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        offsets, docs, codes, chunk_ids, texts = [0], [], [], [], []
        labels: dict[str, int] = {}
        with (folder / CHUNKS_FILE).open("rb") as handle:
            for line in handle:
                offsets.append(offsets[-1] + len(line))
                row = json.loads(line)
                docs.append(doc_index[row["doc_id"]])
                codes.append(labels.setdefault(row["label"], len(labels)))
                chunk_ids.append(row["chunk_id"])
                texts.append(_search_bytes(row["search_text"]))
        search_offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts], dtype=np.int64)])
        search = SearchTexts(b"".join(texts), search_offsets.astype(np.int64))
        return cls(folder / CHUNKS_FILE, np.asarray(offsets, dtype=np.int64), np.asarray(docs, dtype=np.int32),
                   np.asarray(codes, dtype=np.int16), chunk_ids, doc_ids, list(labels), search)


    # -- rows ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._chunk_ids)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"There is no chunk row {row}; the table has {len(self)}.")
        return self._record(row)

    def __iter__(self) -> Iterator[Chunk]:
        """Every chunk in row order, read sequentially (not through the record cache)."""
        with self.path.open("rb") as handle:
            for line in handle:
                yield Chunk.from_dict(json.loads(line))

    def _read_record(self, row: int) -> Chunk:
        start, end = int(self._line_offsets[row]), int(self._line_offsets[row + 1])
        return Chunk.from_dict(json.loads(self._file.read(start, end - start)))

    # -- lookups ---------------------------------------------------------------------------

    def chunk_id(self, row: int) -> str:
        return self._chunk_ids[row]

    def row_of(self, chunk_id: str) -> int | None:
        """The row of a chunk id, or None when the table has no such chunk."""
        return self._row_of.get(chunk_id)

    def doc_id(self, row: int) -> str:
        return self.doc_ids[self.doc_rows[row]]

    def label(self, row: int) -> str:
        return self.labels[self.label_codes[row]]

    def rows_of_doc(self, doc_id: str) -> np.ndarray:
        """The rows of one report's chunks, in order (none for an unknown report)."""
        index = self._doc_position.get(doc_id)
        if index is None:
            return np.zeros(0, dtype=np.int64)
        if self._doc_starts is None:
            return np.flatnonzero(self.doc_rows == index)
        return np.arange(self._doc_starts[index], self._doc_starts[index + 1], dtype=np.int64)

    def label_mask(self, label: str) -> np.ndarray:
        """Rows whose section label is `label`."""
        if label not in self.labels:
            return np.zeros(len(self), dtype=bool)
        return self.label_codes == self.labels.index(label)

    def rows_containing(self, needle: str) -> np.ndarray:
        """Rows whose search text contains `needle`, ignoring case."""
        return self._search.rows_containing(needle)


class SearchTexts:
    """Lower-cased search texts joined by newlines, in memory or in a file scanned block by block."""

    def __init__(self, blob: bytes | None, offsets: np.ndarray, path: Path | None = None):
        self._blob = blob
        self._offsets = offsets
        self._path = path
        # Held open, so a scan still works after the generation's folder is pruned.
        self._file = PreadFile(path) if path is not None else None

    @classmethod
    def on_disk(cls, path: Path, offsets: np.ndarray) -> "SearchTexts":
        if path.stat().st_size != int(offsets[-1]):
            raise ValueError(f"{path.name} has {path.stat().st_size} bytes where the columns say {int(offsets[-1])}")
        return cls(None, offsets, path)


    def _blocks(self, overlap: int) -> Iterator[tuple[int, bytes]]:
        """(offset, bytes) blocks covering the texts; consecutive blocks share `overlap` bytes."""
        if self._blob is not None:
            yield 0, self._blob
            return
        size, start = int(self._offsets[-1]), 0
        while start < size:
            base = max(0, start - overlap)
            block = self._file.read(base, start + SCAN_BLOCK - base, exact=False)
            if not block:
                return
            yield base, block
            start = base + len(block)

    def rows_containing(self, needle: str) -> np.ndarray:
        pattern = needle.lower().encode("utf-8")
        if not pattern or SEPARATOR in pattern:
            return np.zeros(0, dtype=np.int64)
        hits: set[int] = set()
        for base, block in self._blocks(len(pattern) - 1):
            at = block.find(pattern)
            while at >= 0:
                hits.add(base + at)
                at = block.find(pattern, at + 1)
        if not hits:
            return np.zeros(0, dtype=np.int64)
        rows = np.searchsorted(self._offsets, np.fromiter(hits, dtype=np.int64), side="right") - 1
        return np.unique(rows)


def _is_sorted(values: np.ndarray) -> bool:
    return bool(len(values) < 2 or (np.diff(values) >= 0).all())


