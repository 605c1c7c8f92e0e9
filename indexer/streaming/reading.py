"""Stage 1 of a streaming build: read and process the corpus one report at a time, appending to files.

Each report goes through the same code as build_index (build.process_report, report_record,
passage_texts over its own chunks), and leaves memory as soon as it is written: its record to
reports.jsonl, its chunks to the chunk table, its passages and sentences (the texts to embed)
with their hashes to work files. What stays in memory is per report, not per chunk: the
ledger of ids and contents seen (to skip copies as build_index does) and the domain terms.
"""
from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.build import Progress, doc_id_for, passage_hash, process_report, report_record
from indexer.chunk_table import ChunkTableWriter
from indexer.errors import UnreadableSource
from indexer.pipeline import ProcessedReport, passage_texts
from indexer.sentence_vectors import HASHES_FILE, OFFSETS_FILE, chunk_sentences, says_something, sentence_hash
from indexer.sources import read_source
from indexer.store import jsonl_line
from indexer.streaming.workfolder import AppendFiles, Checkpoints, ReadProgress

REPORTS_FILE = "reports.jsonl"  # in the generation
LEDGER_FILE = "reports.ledger.jsonl"  # per report: id, content hash, file, sections, terms
PASSAGES_FILE = "passages.jsonl"  # the embedder input of every chunk, one JSON string a line
PASSAGE_HASHES_FILE = "passages.hashes.bin"  # 32 ASCII bytes a chunk
SENTENCES_FILE = "sentences.jsonl"  # every chunk's sentences, one JSON string a line
SENTENCE_HASHES_FILE = "sentences.hashes.bin"  # 16 bytes a sentence
SENTENCE_SAYS_FILE = "sentences.says.bin"  # 1 byte a sentence: whether it is embedded at all
SENTENCE_COUNTS_FILE = "sentences.counts.bin"  # int64 a chunk: how many sentences it has
PASSAGE_HASH_BYTES = 32
SENTENCE_HASH_BYTES = 16


@dataclass
class Ledger:
    """What the read stage knows of the reports so far: enough to skip copies and to write the manifest."""

    doc_ids: list[str] = field(default_factory=list)
    known_ids: set[str] = field(default_factory=set)
    files_by_content: dict[str, str] = field(default_factory=dict)  # content sha256 -> file name
    sections: int = 0
    terms: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path, reports: int) -> "Ledger":
        """The ledger of the first `reports` reports (the ones a checkpoint covers)."""
        ledger = cls()
        with path.open(encoding="utf-8") as lines:
            for line, _ in zip(lines, range(reports)):
                ledger.add(json.loads(line))
        if len(ledger.doc_ids) != reports:
            raise ValueError(f"{path.name} lists {len(ledger.doc_ids)} reports where the journal says {reports}")
        return ledger

    def add(self, entry: dict) -> None:
        self.doc_ids.append(entry["doc_id"])
        self.known_ids.add(entry["doc_id"])
        self.files_by_content[entry["sha256"]] = entry["file"]
        self.sections += entry["sections"]
        self.terms.update(entry["terms"])

    def why_skip(self, sha256: str, doc_id: str) -> str | None:
        """Why build_index would skip this file as a copy, or None to index it."""
        if sha256 in self.files_by_content:
            return f"it has the same content as {self.files_by_content[sha256]}."
        if doc_id in self.known_ids:
            return f"another file already has the id {doc_id}."
        return None


class ReportWriter:
    """Appends one processed report to the generation and the work files."""

    def __init__(self, work: Path, generation: Path, state: ReadProgress, model: str):
        self.model = model
        self.ledger = Ledger.load(work / LEDGER_FILE, state.reports) if state.reports else Ledger()
        paths = {
            REPORTS_FILE: generation / REPORTS_FILE,
            **{name: work / name for name in (LEDGER_FILE, PASSAGES_FILE, PASSAGE_HASHES_FILE, SENTENCES_FILE,
                                               SENTENCE_HASHES_FILE, SENTENCE_SAYS_FILE, SENTENCE_COUNTS_FILE)},
        }
        self.files = AppendFiles(paths, state.sizes if state.entries else {})
        try:
            self.chunks = (ChunkTableWriter.reopen(generation, self.ledger.doc_ids, state.rows) if state.entries
                           else ChunkTableWriter.create(generation))
        except BaseException:
            self.files.close()
            raise

    def write(self, doc_id: str, file_name: str, report: ProcessedReport) -> None:
        """Append a report: its record, its chunks, the texts to embed; then note it in the ledger."""
        record = report_record(report)
        self.files.write(REPORTS_FILE, jsonl_line({"doc_id": doc_id, **record}).encode("utf-8"))
        entry = {"doc_id": doc_id, "sha256": report.meta.content_sha256, "file": file_name,
                 "sections": len(record["sections"]), "terms": record["terms"]}
        self.files.write(LEDGER_FILE, jsonl_line(entry).encode("utf-8"))
        self.chunks.add_report(doc_id)
        for chunk, text in zip(report.chunks, passage_texts(report.chunks)):
            chunk_hash = passage_hash(self.model, text)
            self.chunks.append(chunk, chunk_hash)
            self.files.write(PASSAGES_FILE, jsonl_line(text).encode("utf-8"))
            self.files.write(PASSAGE_HASHES_FILE, chunk_hash.encode("ascii"))
            sentences = chunk_sentences(chunk)
            self.files.write(SENTENCE_COUNTS_FILE, struct.pack("<q", len(sentences)))
            for sentence in sentences:
                self.files.write(SENTENCES_FILE, jsonl_line(sentence).encode("utf-8"))
                self.files.write(SENTENCE_HASHES_FILE, sentence_hash(self.model, sentence))
                self.files.write(SENTENCE_SAYS_FILE, b"\1" if says_something(sentence) else b"\0")
        self.ledger.add(entry)

    def flush(self) -> None:
        self.files.flush()
        self.chunks.flush()

    def finish(self, generation: Path, work: Path) -> None:
        """Close everything; write the chunk columns and the sentence offsets and hashes into the generation."""
        self.files.close()
        self.chunks.close()
        counts = np.fromfile(work / SENTENCE_COUNTS_FILE, dtype="<i8")
        np.save(generation / OFFSETS_FILE, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
        np.save(generation / HASHES_FILE, np.fromfile(work / SENTENCE_HASHES_FILE, dtype=f"S{SENTENCE_HASH_BYTES}"))

    def abandon(self) -> None:
        """Close the files without finishing (an interrupted stage: the journal says what to keep)."""
        self.files.close()
        self.chunks.close_files()


def read_corpus(paths: list[Path], writer: ReportWriter, state: ReadProgress, checkpoints: Checkpoints,
                progress: Progress) -> None:
    """Process every corpus file not yet handled, checkpointing as it goes and when interrupted."""
    remaining: Iterable[Path] = paths[state.entries:]
    try:
        for path in progress(remaining, "reading", len(paths) - state.entries):
            skipped = _read_one(path, writer)
            if skipped:
                state.skipped.append({"file": path.name, "reason": skipped})
            state.entries += 1
            state.reports = len(writer.ledger.doc_ids)
            state.rows = len(writer.chunks)
            state.sizes = writer.files.sizes()
            state.sentences = state.sizes[SENTENCE_SAYS_FILE]  # one byte a sentence
            if checkpoints.due():
                checkpoints.save(writer.flush)
    except BaseException:
        checkpoints.save_if_possible(writer.flush)  # the state of the last report wholly written
        writer.abandon()
        raise


def _read_one(path: Path, writer: ReportWriter) -> str | None:
    """Index one corpus file; the reason when it is skipped, as build_index gives it."""
    try:
        source = read_source(path)
    except UnreadableSource as error:
        return error.reason
    doc_id = doc_id_for(path)
    reason = writer.ledger.why_skip(source.sha256, doc_id)
    if reason:
        return reason
    try:
        report = process_report(doc_id, source)
    except UnreadableSource as error:
        return error.reason
    writer.write(doc_id, path.name, report)
    return None
