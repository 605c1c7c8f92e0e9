"""stream_build: a full build that never holds every chunk, token and vector, and resumes after a crash.

The stages, each resumable from the journal (workfolder.py):

1. read       every corpus file in turn -> reports.jsonl, the chunk table, texts to embed
2. embed      passages -> vectors.npy (vectors of unchanged chunks copied from the current generation)
3. sentences  each chunk's sentences -> sentences.npy (likewise)
4. tokenise   chunks.jsonl -> tokens.jsonl, with the domain terms of all reports
5. bm25       tokens.jsonl -> bm25/, read as it goes (BM25Index.build_streamed)
6. dense      vectors.npy, memory-mapped -> dense.faiss
7. publish    manifest with checksums, rename, atomic swap of ``current`` (store.publish_generation)

Until step 7 the previous generation stays current and serving. The files are those
build_index writes, with the same contents.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.bm25 import BM25Index
from indexer.build import BuildSummary, Progress, _no_progress, nothing_to_index
from indexer.chunk_table import CHUNKS_FILE
from indexer.dense import build_dense
from indexer.embed import Embedder
from indexer.errors import IndexerError
from indexer.normalize import NORMALIZER_VERSION
from indexer.pipeline import EMBED_INPUT_VERSION
from indexer.sentence_vectors import HASHES_FILE as SENTENCE_HASHES_FILE
from indexer.sentence_vectors import VECTORS_FILE as SENTENCE_VECTORS_FILE
from indexer.sentence_vectors import previous_sentences, sentences_manifest
from indexer.store import current_generation, publish_generation, read_manifest, sha256_file, writer_lock
from indexer.streaming import reading
from indexer.streaming.reading import Ledger, ReportWriter, read_corpus
from indexer.streaming.tokens import TOKENS_FILE, tokenise_chunks
from indexer.streaming.vectors import (
    Encoder, PreviousVectors, RayEmbedding, VectorJob, fill_vectors, local_encoder, ray_encoder,
)
from indexer.streaming.workfolder import (
    CHECKPOINT_SECONDS, GENERATION, JOURNAL_FILE, Checkpoints, EmbedProgress, Journal, ReadProgress,
    corpus_fingerprint, corpus_listing, discard, work_folder,
)
from indexer.vector_file import VectorFile

CHUNK_VECTORS_FILE = "vectors.npy"


@dataclass
class StreamingRun:
    """One run of a streaming build: its work folder, journal, and whether it went on from an earlier run."""

    folder: Path
    journal: Journal
    checkpoints: Checkpoints
    resumed: bool

    @property
    def generation(self) -> Path:
        return self.folder / GENERATION


def stream_build(corpus: Path, root: Path, embedder: Embedder, progress: Progress = _no_progress,
                 ray: RayEmbedding | None = None, checkpoint_seconds: float = CHECKPOINT_SECONDS) -> BuildSummary:
    """Index every readable report of a corpus folder as a new generation of `root`, streaming.

    The same generation as build.build_index; run again after an interruption, it goes on
    where it stopped. With `ray`, texts are embedded on that Ray cluster instead of here.
    """
    started = time.monotonic()
    corpus, root = Path(corpus), Path(root)
    if not corpus.is_dir():
        raise IndexerError(f"The corpus folder {corpus} does not exist.")
    with writer_lock(root):
        paths = corpus_listing(corpus)
        run = _open_run(corpus, root, embedder, paths, checkpoint_seconds)
        encoder = ray_encoder(ray, run.folder / "ray") if ray is not None else local_encoder(embedder)
        summary = _run_stages(run, root, paths, embedder, encoder, progress)
        discard(run.folder)
    summary.seconds = time.monotonic() - started
    return summary


def _open_run(corpus: Path, root: Path, embedder: Embedder, paths: list[Path], checkpoint_seconds: float) -> StreamingRun:
    """The work folder to go on with when an interrupted run of the same work left one; else a new one."""
    key = {
        "corpus": str(corpus.resolve()), "files": corpus_fingerprint(paths, corpus),
        "model": {"name": embedder.name, "dim": embedder.dim},
        "normalizer_version": NORMALIZER_VERSION, "embed_input_version": EMBED_INPUT_VERSION,
    }
    folder = work_folder(root, corpus)
    journal = Journal.load(folder / JOURNAL_FILE) if folder.is_dir() else None
    resumed = journal is not None and journal.key == key and (folder / GENERATION).is_dir()
    if not resumed:
        discard(folder)  # another corpus state or model: nothing of it can be kept
        (folder / GENERATION).mkdir(parents=True)
        journal = Journal(key)
        journal.save(folder / JOURNAL_FILE)
    return StreamingRun(folder, journal, Checkpoints(journal, folder / JOURNAL_FILE, checkpoint_seconds), resumed)


def _run_stages(run: StreamingRun, root: Path, paths: list[Path], embedder: Embedder, encoder: Encoder,
                progress: Progress) -> BuildSummary:
    """Run every stage the journal does not list as done, then publish the generation; what the build did."""
    journal = run.journal
    previous = current_generation(root)  # serving until the publish, and the source of reusable vectors
    if not journal.read.done:
        _read_stage(run, paths, embedder, progress)
    ledger = Ledger.load(run.folder / reading.LEDGER_FILE, journal.read.reports)
    if not journal.chunk_vectors.done:
        _embed_stage(run, _chunk_job(run, embedder, encoder), _previous_chunk_vectors(previous, embedder), encoder,
                     journal.chunk_vectors, progress)
    if not journal.sentence_vectors.done:
        _embed_stage(run, _sentence_job(run, embedder, encoder), _previous_sentence_vectors(previous, embedder),
                     encoder, journal.sentence_vectors, progress)
    domain_terms = sorted(ledger.terms)
    _search_structures(run, domain_terms, progress)
    folder = publish_generation(root, run.generation, _manifest(journal, embedder, ledger, domain_terms))
    return BuildSummary(
        "build", reports=journal.read.reports, sections=ledger.sections, chunks=journal.read.rows,
        embedded=journal.chunk_vectors.embedded, reused=journal.chunk_vectors.reused,
        skipped=journal.read.skipped, generation=folder.name, resumed=run.resumed,
    )


def _chunk_job(run: StreamingRun, embedder: Embedder, encoder: Encoder) -> VectorJob:
    """Stage 2: every chunk's passage text -> vectors.npy (float32)."""
    hashes = np.fromfile(run.folder / reading.PASSAGE_HASHES_FILE, dtype=f"S{reading.PASSAGE_HASH_BYTES}")
    return VectorJob("embedding", run.folder / reading.PASSAGES_FILE, hashes, run.generation / CHUNK_VECTORS_FILE,
                     embedder.dim, "float32", encoder.passage_batch)


def _sentence_job(run: StreamingRun, embedder: Embedder, encoder: Encoder) -> VectorJob:
    """Stage 3: every sentence -> sentences.npy (float16); those that say nothing stay zeros."""
    hashes = np.fromfile(run.folder / reading.SENTENCE_HASHES_FILE, dtype=f"S{reading.SENTENCE_HASH_BYTES}")
    says = np.fromfile(run.folder / reading.SENTENCE_SAYS_FILE, dtype=np.uint8).astype(bool)
    return VectorJob("embedding sentences", run.folder / reading.SENTENCES_FILE, hashes,
                     run.generation / SENTENCE_VECTORS_FILE, embedder.dim, "float16", encoder.sentence_batch,
                     left_zero=~says)


def _search_structures(run: StreamingRun, domain_terms: list[str], progress: Progress) -> None:
    """Stages 4-6: tokens (resumable row by row), then BM25 and FAISS (each redone whole if interrupted)."""
    journal, generation = run.journal, run.generation
    if not journal.tokens.done:
        tokenise_chunks(generation, journal.read.rows, domain_terms, journal.tokens, run.checkpoints, progress)
        journal.tokens.done = True
        run.checkpoints.save()
    if not journal.bm25_done:
        BM25Index.build_from_jsonl(generation / TOKENS_FILE).save(generation / "bm25")
        journal.bm25_done = True
        run.checkpoints.save()
    if journal.dense is None:
        dense = build_dense(np.load(generation / CHUNK_VECTORS_FILE, mmap_mode="r"))
        journal.dense = dense.save(generation)["dense"]
        run.checkpoints.save()


def _read_stage(run: StreamingRun, paths: list[Path], embedder: Embedder, progress: Progress) -> None:
    """Stage 1; a corpus with nothing readable ends the build (and its work folder) with the reasons."""
    journal = run.journal
    try:
        writer = ReportWriter(run.folder, run.generation, journal.read, embedder.name)
    except (OSError, ValueError):
        if not journal.read.entries:
            raise
        # The files do not hold what the journal says (a crash of the machine, not of the build): start afresh.
        journal.read = ReadProgress()
        run.resumed = False
        writer = ReportWriter(run.folder, run.generation, journal.read, embedder.name)
    read_corpus(paths, writer, journal.read, run.checkpoints, progress)
    if journal.read.rows == 0:
        writer.abandon()
        discard(run.folder)
        raise nothing_to_index(journal.read.skipped)
    writer.finish(run.generation, run.folder)
    journal.read.done = True
    run.checkpoints.save()


def _embed_stage(run: StreamingRun, job: VectorJob, previous: PreviousVectors | None, encoder: Encoder,
                 state: EmbedProgress, progress: Progress) -> None:
    fill_vectors(job, previous, encoder, state, run.checkpoints, progress)
    state.done = True
    run.checkpoints.save()


def _manifest(journal: Journal, embedder: Embedder, ledger: Ledger, domain_terms: list[str]) -> dict:
    """The manifest build_index writes (publish_generation adds the format version and checksums)."""
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": {"name": embedder.name, "dim": embedder.dim},
        "normalizer_version": NORMALIZER_VERSION,
        "domain_terms": domain_terms,
        "counts": {"reports": journal.read.reports, "sections": ledger.sections, "chunks": journal.read.rows},
        "skipped": journal.read.skipped,
        "dense": journal.dense,
        **sentences_manifest(journal.read.sentences),
    }


# -- what the current generation can give -------------------------------------------------------


def _reusable(folder: Path | None, embedder: Embedder, files: tuple[str, ...]) -> bool:
    """Whether `folder` was built with this model and its `files` match their checksums.

    build_index reuses nothing from a broken or foreign generation either.
    """
    if folder is None:
        return False
    try:
        manifest = read_manifest(folder)
        if manifest.get("model") != {"name": embedder.name, "dim": embedder.dim}:
            return False
        expected = manifest.get("files", {})
        return all(name in expected and sha256_file(folder / name) == expected[name] for name in files)
    except (IndexerError, OSError):
        return False


def _previous_chunk_vectors(folder: Path | None, embedder: Embedder) -> PreviousVectors | None:
    """The current generation's chunk vectors by passage hash (hashes read from chunks.jsonl lines)."""
    if not _reusable(folder, embedder, (CHUNKS_FILE, CHUNK_VECTORS_FILE)):
        return None
    vectors = VectorFile(folder / CHUNK_VECTORS_FILE)
    keys = np.empty(len(vectors), dtype=f"S{reading.PASSAGE_HASH_BYTES}")
    rows = 0
    with (folder / CHUNKS_FILE).open("rb") as lines:
        for line in lines:
            if rows == len(keys):
                return None  # more chunks than vectors: not a generation to trust
            keys[rows] = _hash_of_line(line)
            rows += 1
    return PreviousVectors.of(keys, vectors) if rows == len(keys) else None


def _hash_of_line(line: bytes) -> bytes:
    """The "hash" of a chunks.jsonl line, without parsing it: the table writes it as the last field."""
    at = line.rfind(b'"hash":"')
    return line[at + 8:at + 8 + reading.PASSAGE_HASH_BYTES] if at >= 0 else b""


def _previous_sentence_vectors(folder: Path | None, embedder: Embedder) -> PreviousVectors | None:
    """The current generation's sentence vectors by sentence hash."""
    if not _reusable(folder, embedder, (SENTENCE_HASHES_FILE, SENTENCE_VECTORS_FILE)):
        return None
    found = previous_sentences(folder)
    if found is None:
        return None
    hashes, _ = found
    return PreviousVectors.of(hashes, VectorFile(folder / SENTENCE_VECTORS_FILE))
