"""The work folder of a streaming build: where it lives, its journal, its append-only files.

A streaming build of corpus C into index directory DIR works in ``DIR/builds/<name>-<hash of
C's path>/``: a stable name, so a rerun after a crash finds it, and outside ``generations/``,
whose ``tmp-*`` folders are pruned once their process is gone. Inside:

    journal.json   what is done: stages finished, rows written, file sizes at the last checkpoint
    generation/    the generation being written (published as it is when complete)
    *.jsonl, *.bin work files: passages and sentences to embed, their hashes, per-report notes

The journal is small (counts and sizes, never rows) and replaced atomically; a checkpoint
flushes the files first, so the journal never claims more than they hold.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.sources import corpus_files

BUILDS = "builds"
JOURNAL_FILE = "journal.json"
GENERATION = "generation"
JOURNAL_VERSION = 1
CHECKPOINT_SECONDS = 5.0  # how often a running stage saves its progress (a crash loses at most this)
_UNSAFE = re.compile(r"[^\w\-.]+", re.UNICODE)


def work_folder(root: Path, corpus: Path) -> Path:
    """The work folder of a streaming build of `corpus` into `root`: the same on every run."""
    resolved = str(corpus.resolve())
    digest = hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:12]
    name = _UNSAFE.sub("_", corpus.resolve().name).strip("._")[:40] or "corpus"
    return root / BUILDS / f"{name}-{digest}"


def corpus_listing(corpus: Path) -> list[Path]:
    """The report files of a corpus folder in the order every build reads them."""
    return corpus_files(corpus, corpus.resolve())


def corpus_fingerprint(paths: list[Path], corpus: Path) -> str:
    """A hash of every file's name, size and modification time: a rerun resumes only an unchanged corpus."""
    digest = hashlib.sha256()
    for path in paths:
        try:
            stat = path.stat()
            facts = f"{stat.st_size}:{stat.st_mtime_ns}"
        except OSError as error:
            facts = f"unreadable:{error.errno}"
        digest.update(f"{path.relative_to(corpus).as_posix()}\0{facts}\n".encode("utf-8"))
    return digest.hexdigest()


@dataclass
class ReadProgress:
    """How far the read stage got: corpus files handled, what they produced, file sizes then."""

    entries: int = 0  # corpus files handled (indexed or skipped), in listing order
    reports: int = 0
    rows: int = 0  # chunks written
    sentences: int = 0
    sizes: dict[str, int] = field(default_factory=dict)  # bytes of each append-only file
    skipped: list[dict] = field(default_factory=list)  # {file, reason}, as build_index reports them
    done: bool = False


@dataclass
class EmbedProgress:
    """How far an embedding stage got: the leading rows whose vectors are in the file."""

    rows: int = 0
    embedded: int = 0
    reused: int = 0
    done: bool = False


@dataclass
class TokenProgress:
    """How far tokenising got: rows done and the bytes of tokens.jsonl they fill."""

    rows: int = 0
    size: int = 0
    done: bool = False


@dataclass
class Journal:
    """Everything a rerun needs to go on where a streaming build stopped."""

    key: dict  # what the work depends on: corpus files, model, normaliser; another key starts over
    read: ReadProgress = field(default_factory=ReadProgress)
    chunk_vectors: EmbedProgress = field(default_factory=EmbedProgress)
    sentence_vectors: EmbedProgress = field(default_factory=EmbedProgress)
    tokens: TokenProgress = field(default_factory=TokenProgress)
    bm25_done: bool = False
    dense: dict | None = None  # FAISS parameters, once dense.faiss is written
    version: int = JOURNAL_VERSION

    @classmethod
    def load(cls, path: Path) -> "Journal | None":
        """The journal saved at `path`, or None when there is none or it cannot be read."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != JOURNAL_VERSION:
                return None
            return cls(
                key=data["key"], read=ReadProgress(**data["read"]),
                chunk_vectors=EmbedProgress(**data["chunk_vectors"]),
                sentence_vectors=EmbedProgress(**data["sentence_vectors"]),
                tokens=TokenProgress(**data["tokens"]), bm25_done=data["bm25_done"], dense=data["dense"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: Path) -> None:
        """Replace the journal file atomically: a crash leaves the old one or the new one."""
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)


class Checkpoints:
    """Saves the journal every CHECKPOINT_SECONDS (or at once), after flushing what it covers."""

    def __init__(self, journal: Journal, path: Path, seconds: float):
        self.journal = journal
        self.path = path
        self.seconds = seconds
        self._last = time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.seconds

    def save(self, flush=lambda: None) -> None:
        """Flush the files the journal describes, then save it."""
        flush()
        self.journal.save(self.path)
        self._last = time.monotonic()

    def save_if_possible(self, flush=lambda: None) -> None:
        """save() on the way out of an interrupted stage; when the disk refuses, the last journal stands.

        Files only grow past what a journal records, so an older journal is still true.
        """
        try:
            self.save(flush)
        except OSError:
            pass


class AppendFiles:
    """Named append-only files whose sizes are counted as they grow, so a checkpoint can record them.

    Sizes are taken only at a row boundary (a report wholly written), so the journal never
    points inside a record; a resume cuts each file back to its recorded size.
    """

    def __init__(self, paths: dict[str, Path], sizes: dict[str, int]):
        self._handles = {}
        self._sizes = dict(sizes)
        try:
            for name, path in paths.items():
                handle = path.open("r+b" if name in sizes else "wb")
                self._handles[name] = handle
                if name in sizes:
                    if os.fstat(handle.fileno()).st_size < sizes[name]:
                        raise ValueError(f"{path.name} is shorter than the journal says")
                    handle.seek(sizes[name])
                    handle.truncate()
                self._sizes.setdefault(name, 0)
        except BaseException:
            self.close()
            raise

    def write(self, name: str, data: bytes) -> None:
        self._handles[name].write(data)
        self._sizes[name] += len(data)

    def sizes(self) -> dict[str, int]:
        """The bytes written to each file so far."""
        return dict(self._sizes)

    def flush(self) -> None:
        for handle in self._handles.values():
            handle.flush()

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()


def discard(folder: Path) -> None:
    """Remove a work folder (finished, or not worth resuming), and builds/ with it when no other is left."""
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.rmdir()
    except OSError:
        pass  # other corpora's interrupted builds are still there (or it is already gone)
