"""The index directory: generations written whole, checked by checksums, swapped in atomically.

Layout of an index directory ``DIR``::

    DIR/current          -> generations/g-...   (a symlink, replaced with one rename)
    DIR/generations/g-*/ manifest.json, reports.jsonl, chunks.jsonl (+ chunks.columns.*,
                         chunks.search.bin), tokens.jsonl, vectors.npy, dense.faiss, bm25/...

A generation is written under a temporary name and renamed when complete, and only then
does ``current`` move to it: a crash at any point leaves the previous index in service.
A streaming build (indexer/streaming/) writes its generation in ``DIR/builds/<corpus>/``
instead, where it survives a crash to be resumed, and publishes it the same way.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.chunk_table import ChunkTable, write_chunk_table
from indexer.errors import CorruptIndex, IndexerError
from indexer.records import Chunk
from indexer.report_table import ReportTable

FORMAT_VERSION = 1
CURRENT = "current"
GENERATIONS = "generations"
KEEP_GENERATIONS = 3
WRITE_LOCK = ".write.lock"


@dataclass
class IndexData:
    """The contents of one index generation, in memory (what the indexer writes and rewrites)."""

    manifest: dict
    reports: dict[str, dict]  # doc_id -> {"meta", "original", "sections", "problems"}
    chunks: list[Chunk]
    chunk_hashes: list[str]  # content hash of each chunk's embedder input
    tokens: list[list[str]]
    vectors: np.ndarray
    path: Path | None = None
    extras: dict = field(default_factory=dict)


@dataclass
class Generation:
    """One index generation opened for serving: metadata in memory, texts and vectors on disk."""

    manifest: dict
    reports: ReportTable
    chunks: ChunkTable
    path: Path


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_generation(root: Path) -> Path | None:
    """The generation ``current`` points at, or None when the directory holds no index."""
    link = root / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    target = (root / os.readlink(link)) if link.is_symlink() else link
    return target if target.is_dir() else None


def jsonl_line(row) -> str:
    """One line of a generation's .jsonl tables (compact, UTF-8 kept), shared by every writer so files match."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(jsonl_line(row))


def _read_jsonl(path: Path) -> list:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class IndexBusy(IndexerError):
    """Another writer holds the index directory's writer lock."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stamp() -> str:
    """A sortable, unique-enough name part: time to the second, then nanoseconds."""
    return time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"


def _write_failed(root: Path, error: OSError) -> IndexerError:
    return IndexerError(
        f"Could not write the index under {root}: {error.strerror or error}. "
        "The previous index is unchanged."
    )


def write_generation(root: Path, data: IndexData, write_derived) -> Path:
    """Write `data` as a new generation of `root` and make it current.

    `write_derived(folder)` writes the derived search structures (FAISS, BM25) into the
    new generation and returns a dict merged into the manifest.
    """
    root.mkdir(parents=True, exist_ok=True)
    generations = root / GENERATIONS
    generations.mkdir(exist_ok=True)
    temporary = generations / f"tmp-{_stamp()}-{os.getpid()}"
    try:
        temporary.mkdir()
        _write_jsonl(temporary / "reports.jsonl", ({"doc_id": k, **v} for k, v in data.reports.items()))
        write_chunk_table(temporary, data.chunks, data.chunk_hashes, list(data.reports))
        _write_jsonl(temporary / "tokens.jsonl", data.tokens)
        np.save(temporary / "vectors.npy", np.ascontiguousarray(data.vectors, dtype=np.float32))
        manifest = dict(data.manifest)
        manifest.update(write_derived(temporary) or {})
        final = _commit(root, temporary, manifest)
    except OSError as error:
        shutil.rmtree(temporary, ignore_errors=True)
        raise _write_failed(root, error) from error
    _prune(root)
    return final


def publish_generation(root: Path, folder: Path, manifest: dict) -> Path:
    """Make a complete generation written elsewhere (by a streaming build) the current one of `root`.

    The same final steps as write_generation: checksums into the manifest, fsync, rename into
    generations/, atomic swap of ``current``, prune. `folder` must be on the same file system
    as `root`; when a step fails it is left where it is and the previous index stays current.
    """
    try:
        final = _commit(root, folder, manifest)
    except OSError as error:
        raise _write_failed(root, error) from error
    _prune(root)
    return final


def _commit(root: Path, folder: Path, manifest: dict) -> Path:
    """Seal `folder` (manifest with every file's checksum, all fsynced), rename it into place, swap it in."""
    generations = root / GENERATIONS
    generations.mkdir(parents=True, exist_ok=True)
    manifest = dict(manifest)
    manifest["format_version"] = FORMAT_VERSION
    manifest["files"] = {
        str(p.relative_to(folder)): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    final = generations / f"g-{_stamp()}"
    os.rename(folder, final)
    _fsync_dir(generations)
    link_tmp = root / f".current-{os.getpid()}-{time.time_ns()}"
    os.symlink(Path(GENERATIONS) / final.name, link_tmp)
    os.replace(link_tmp, root / CURRENT)
    _fsync_dir(root)
    return final


def _prune(root: Path) -> None:
    """Remove old generations and leftovers of interrupted writes, keeping the newest few."""
    generations = root / GENERATIONS
    current = current_generation(root)
    done = sorted(p for p in generations.glob("g-*") if p.is_dir())
    for old in done[:-KEEP_GENERATIONS]:
        if current is None or old.resolve() != current.resolve():
            shutil.rmtree(old, ignore_errors=True)
    for leftover in generations.glob("tmp-*"):
        pid = leftover.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not _pid_alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)
    for link in root.glob(".current-*"):
        link.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_held_locks = threading.local()


@contextmanager
def writer_lock(root: Path, timeout: float | None = None):
    """Hold the index directory's writer lock: one writer at a time, across threads and processes.

    The lock is an flock on DIR/.write.lock, so the kernel drops it when a writer dies; it is
    re-entrant within one thread. With a timeout, IndexBusy is raised when it cannot be had in time.
    """
    root = Path(root)
    key = str(root.resolve())
    held = getattr(_held_locks, "roots", None)
    if held is None:
        held = _held_locks.roots = set()
    if key in held:
        yield
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = open(root / WRITE_LOCK, "a")
    except OSError as error:
        raise IndexerError(f"Could not open the index directory {root} for writing: {error.strerror or error}.") from error
    with handle:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(
                        f"Another writer has been updating the index under {root} for over {timeout:g} s; "
                        "try again later."
                    ) from None
                time.sleep(0.05)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(folder: Path) -> dict:
    """A generation's manifest; CorruptIndex when it is missing or unreadable."""
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CorruptIndex(f"The index manifest in {folder} cannot be read ({error}).") from error


def verify_generation(folder: Path, manifest: dict) -> None:
    """Check every file of a generation against the checksums in its manifest."""
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CorruptIndex(
            f"The index in {folder} has format version {manifest.get('format_version')}, "
            f"this program reads version {FORMAT_VERSION}; rebuild it."
        )
    for name, expected in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise CorruptIndex(f"The index file {path} is missing; rebuild the index.")
        if sha256_file(path) != expected:
            raise CorruptIndex(
                f"The index file {path} does not match its checksum (truncated or corrupted); "
                "rebuild the index."
            )


def read_generation(folder: Path, verify: bool = True) -> IndexData:
    """Load a generation written by write_generation, checking its checksums first."""
    manifest = read_manifest(folder)
    if verify:
        verify_generation(folder, manifest)
    try:
        reports = {row.pop("doc_id"): row for row in _read_jsonl(folder / "reports.jsonl")}
        rows = _read_jsonl(folder / "chunks.jsonl")
        tokens = _read_jsonl(folder / "tokens.jsonl")
        # Memory-mapped: read only for embedding reuse, so the page cache can hold it.
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    except (OSError, ValueError, KeyError) as error:
        raise CorruptIndex(f"The index in {folder} cannot be read ({error}); rebuild it.") from error
    chunks = [Chunk.from_dict(row) for row in rows]
    hashes = [row["hash"] for row in rows]
    if not (len(chunks) == len(tokens) == len(vectors)):
        raise CorruptIndex(f"The index in {folder} has tables of different lengths; rebuild it.")
    return IndexData(manifest, reports, chunks, hashes, tokens, vectors, path=folder)


def open_generation(folder: Path, verify: bool = True) -> Generation:
    """Open a generation for serving, checking its checksums first; texts stay on disk."""
    manifest = read_manifest(folder)
    if verify:
        verify_generation(folder, manifest)
    reports = ReportTable.open(folder)
    chunks = ChunkTable.open(folder)
    if chunks.doc_ids != list(reports):
        raise CorruptIndex(f"The chunk and report tables in {folder} list different reports; rebuild the index.")
    counts = manifest.get("counts", {})
    if counts.get("chunks", len(chunks)) != len(chunks):
        raise CorruptIndex(f"The index in {folder} has {len(chunks)} chunks where its manifest says "
                           f"{counts['chunks']}; rebuild it.")
    return Generation(manifest, reports, chunks, folder)


def read_current(root: Path, verify: bool = True) -> IndexData:
    """Load the current generation of an index directory."""
    folder = current_generation(root)
    if folder is None:
        raise IndexerError(f"There is no index in {root}; build one with `python -m indexer build`.")
    return read_generation(folder, verify=verify)
