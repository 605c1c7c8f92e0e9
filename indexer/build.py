"""Build, add to and remove from an index directory; embeddings are reused by content hash."""
from __future__ import annotations

import functools
import hashlib
import inspect
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from indexer.bm25 import BM25Index
from indexer.dense import build_dense
from indexer.embed import Embedder
from indexer.errors import IndexerError, IndexMismatch, UnreadableSource
from indexer.normalize import NORMALIZER_VERSION
from indexer.pipeline import ProcessedReport, passage_texts, process_source
from indexer.records import Chunk
from indexer.sentence_vectors import embed_sentences, save_sentences
from indexer.sources import SourceText, iter_corpus, read_source
from indexer.store import IndexData, current_generation, read_current, write_generation, writer_lock
from indexer.tokenize import Tokenizer, mine_domain_terms

Progress = Callable[[Iterable, str, int], Iterable]
_DOC_ID_UNSAFE = re.compile(r"[^\w\-.]+", re.UNICODE)


def _no_progress(items: Iterable, _label: str, _total: int) -> Iterable:
    return items


def _one_writer(function):
    """Run an index writer under the directory's writer lock, so concurrent writers never lose a change."""
    @functools.wraps(function)
    def locked(*args, **kwargs):
        bound = inspect.signature(function).bind(*args, **kwargs)
        with writer_lock(Path(bound.arguments["root"])):
            return function(*args, **kwargs)
    return locked


@dataclass
class BuildSummary:
    """What a build, add or remove did, for people and for the API."""

    action: str
    reports: int = 0
    sections: int = 0
    chunks: int = 0
    embedded: int = 0  # chunks embedded now
    reused: int = 0  # chunk vectors taken from the previous index
    added: list[dict] = field(default_factory=list)  # {doc_id, issuer, year, chunks}
    removed: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {file, reason}
    seconds: float = 0.0
    generation: str = ""
    resumed: bool = False  # a streaming build that went on from where an interrupted one stopped

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        """A human summary, one fact a line."""
        out = [
            f"{self.action}: {self.reports} reports, {self.sections} sections, {self.chunks} chunks "
            f"({self.embedded} embedded, {self.reused} reused) in {self.seconds:.1f} s",
        ]
        out += [f"  added {a['doc_id']}: {a['issuer'] or '?'} {a['year'] or ''} ({a['chunks']} chunks)" for a in self.added]
        out += [f"  removed {doc_id}" for doc_id in self.removed]
        out += [f"  skipped {s['file']}: {s['reason']}" for s in self.skipped]
        if self.resumed:
            out.append("  resumed an interrupted build: the work it had done was kept")
        return out


def doc_id_for(path: Path) -> str:
    """The report's id: its file name without extension, made safe for URLs."""
    stem = _DOC_ID_UNSAFE.sub("_", path.stem).strip("._")
    return stem[:120] or "report"


def passage_hash(model: str, text: str) -> str:
    """The content hash a chunk's vector is stored and reused under (its embedder input, with the model)."""
    return hashlib.sha256(f"{model}\x00{text}".encode("utf-8")).hexdigest()[:32]


def report_record(report: ProcessedReport) -> dict:
    """A report's line in reports.jsonl (without its doc_id), with the domain terms it quotes."""
    return {
        "meta": report.meta.to_dict(),
        "original": report.norm.original,
        "sections": report.section_dicts(),
        "problems": [p.to_dict() for p in report.norm.problems],
        "terms": mine_domain_terms([report.norm.text]),
    }


def _check_model(previous: IndexData | None, embedder: Embedder) -> None:
    if previous is None:
        return
    model = previous.manifest.get("model", {})
    if model.get("name") != embedder.name or model.get("dim") != embedder.dim:
        raise IndexMismatch(
            f"The index was built with the model {model.get('name')!r} ({model.get('dim')} dimensions), "
            f"not {embedder.name!r} ({embedder.dim}); rebuild it with `python -m indexer build`."
        )


def nothing_to_index(skipped: list[dict]) -> IndexerError:
    """The error of a build left with no readable report, naming the first files skipped and why."""
    reasons = "; ".join(f"{s['file']}: {s['reason']}" for s in skipped[:5])
    return IndexerError(
        "There is nothing to index: no readable report is left"
        + (f" ({reasons})" if reasons else "")
        + ". The previous index, if any, is unchanged."
    )


def _assemble(
    root: Path,
    reports: dict[str, dict],
    chunks: list[Chunk],
    embedder: Embedder,
    previous: IndexData | None,
    summary: BuildSummary,
    progress: Progress,
) -> BuildSummary:
    """Embed what is new, tokenise, build FAISS and BM25, write and swap in a generation."""
    if not chunks:
        raise nothing_to_index(summary.skipped)
    domain_terms = sorted({term for r in reports.values() for term in r.get("terms", [])})
    tokenizer = Tokenizer(domain_terms)
    texts = passage_texts(chunks)  # a chunk's input depends on its neighbours in the same report
    hashes = [passage_hash(embedder.name, text) for text in texts]
    cached: dict[str, np.ndarray] = {}
    if previous is not None and previous.manifest.get("model", {}).get("name") == embedder.name:
        cached = dict(zip(previous.chunk_hashes, previous.vectors))
    todo = [i for i, h in enumerate(hashes) if h not in cached]
    vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h in cached:
            vectors[i] = cached[h]
    batch = 16
    for start in progress(range(0, len(todo), batch), "embedding", (len(todo) + batch - 1) // batch):
        rows = todo[start : start + batch]
        vectors[rows] = embedder.embed_passages([texts[i] for i in rows])
    tokens = [tokenizer.tokens(c.search_text) for c in progress(chunks, "tokenising", len(chunks))]

    dense = build_dense(vectors)
    bm25 = BM25Index.build(tokens)
    sentences = embed_sentences(chunks, embedder, previous.path if previous is not None else None, progress)

    def write_derived(folder: Path) -> dict:
        (folder / "bm25").mkdir()
        bm25.save(folder / "bm25")
        return {**dense.save(folder), **save_sentences(folder, *sentences)}

    manifest = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": {"name": embedder.name, "dim": embedder.dim},
        "normalizer_version": NORMALIZER_VERSION,
        "domain_terms": domain_terms,
        "counts": {
            "reports": len(reports),
            "sections": sum(len(r["sections"]) for r in reports.values()),
            "chunks": len(chunks),
        },
        "skipped": summary.skipped,
    }
    data = IndexData(manifest, reports, chunks, hashes, tokens, vectors)
    folder = write_generation(root, data, write_derived)
    summary.reports = len(reports)
    summary.sections = manifest["counts"]["sections"]
    summary.chunks = len(chunks)
    summary.embedded = len(todo)
    summary.reused = len(chunks) - len(todo)
    summary.generation = folder.name
    return summary


def _load_previous(root: Path) -> IndexData | None:
    if current_generation(root) is None:
        return None
    try:
        return read_current(root)
    except IndexerError:
        return None  # a broken previous index is simply not reused


def process_report(doc_id: str, source: SourceText) -> ProcessedReport:
    """Process one source; UnreadableSource when nothing in it can be indexed."""
    report = process_source(doc_id, source)
    if not report.chunks:
        raise UnreadableSource(source.path, "it contains no text that could be split into passages.")
    return report


@_one_writer
def build_index(
    corpus: Path, root: Path, embedder: Embedder, progress: Progress = _no_progress
) -> BuildSummary:
    """Index every readable report of a corpus folder as a new generation of `root`."""
    started = time.monotonic()
    if not corpus.is_dir():
        raise IndexerError(f"The corpus folder {corpus} does not exist.")
    summary = BuildSummary("build")
    previous = _load_previous(root)
    reports: dict[str, dict] = {}
    chunks: list[Chunk] = []
    seen: dict[str, str] = {}
    entries = list(iter_corpus(corpus))
    for path, source in progress(entries, "reading", len(entries)):
        if isinstance(source, UnreadableSource):
            summary.skipped.append({"file": path.name, "reason": source.reason})
            continue
        doc_id = doc_id_for(path)
        if source.sha256 in seen:
            summary.skipped.append({"file": path.name, "reason": f"it has the same content as {seen[source.sha256]}."})
            continue
        if doc_id in reports:
            summary.skipped.append({"file": path.name, "reason": f"another file already has the id {doc_id}."})
            continue
        try:
            report = process_report(doc_id, source)
        except UnreadableSource as error:
            summary.skipped.append({"file": path.name, "reason": error.reason})
            continue
        seen[source.sha256] = path.name
        reports[doc_id] = report_record(report)
        chunks.extend(report.chunks)
    summary = _assemble(root, reports, chunks, embedder, previous, summary, progress)
    summary.seconds = time.monotonic() - started
    return summary


@_one_writer
def add_sources(
    root: Path, sources: list[tuple[str, SourceText]], embedder: Embedder, progress: Progress = _no_progress,
    remove: Iterable[str] = (), skip_same_content: bool = True,
) -> BuildSummary:
    """Add reports to an existing index (or start one), embedding only their chunks.

    A report whose content is already indexed is skipped, not indexed twice (unless
    `skip_same_content` is false: the caller has decided that itself); a report with an id
    already in the index replaces it. The reports named in `remove` (ids not in the index
    are ignored) leave in the same new generation.
    """
    started = time.monotonic()
    previous = _load_previous(root)
    _check_model(previous, embedder)
    summary = BuildSummary("add")
    reports = dict(previous.reports) if previous else {}
    chunks = list(previous.chunks) if previous else []
    summary.removed = [doc_id for doc_id in dict.fromkeys(remove) if doc_id in reports]
    if summary.removed:
        gone = set(summary.removed)
        reports = {k: v for k, v in reports.items() if k not in gone}
        chunks = [c for c in chunks if c.doc_id not in gone]
    known = {r["meta"].get("content_sha256"): doc_id for doc_id, r in reports.items()}
    for doc_id, source in sources:
        if skip_same_content and source.sha256 in known:
            summary.skipped.append({"file": source.path, "reason": f"it has the same content as the indexed report {known[source.sha256]}."})
            continue
        try:
            report = process_report(doc_id, source)
        except UnreadableSource as error:
            summary.skipped.append({"file": source.path, "reason": error.reason})
            continue
        if doc_id in reports:
            chunks = [c for c in chunks if c.doc_id != doc_id]
        reports[doc_id] = report_record(report)
        chunks.extend(report.chunks)
        known[source.sha256] = doc_id
        summary.added.append(
            {"doc_id": doc_id, "issuer": report.meta.issuer, "year": report.meta.year,
             "title": report.meta.title, "chunks": len(report.chunks)}
        )
    if not summary.added and not summary.removed:
        summary.seconds = time.monotonic() - started
        summary.reports = len(reports)
        summary.chunks = len(chunks)
        return summary
    summary = _assemble(root, reports, chunks, embedder, previous, summary, progress)
    summary.seconds = time.monotonic() - started
    return summary


def add_files(root: Path, paths: list[Path], embedder: Embedder, progress: Progress = _no_progress) -> BuildSummary:
    """Read files and add them to the index; unreadable ones are reported as skipped."""
    sources = []
    skipped = []
    for path in paths:
        try:
            sources.append((doc_id_for(path), read_source(path)))
        except UnreadableSource as error:
            skipped.append({"file": path.name, "reason": error.reason})
    summary = add_sources(root, sources, embedder, progress)
    summary.skipped = skipped + summary.skipped
    return summary


@_one_writer
def remove_reports(root: Path, doc_ids: list[str], embedder: Embedder) -> BuildSummary:
    """Remove reports by id; an unknown id is an error and nothing changes."""
    started = time.monotonic()
    previous = read_current(root)
    _check_model(previous, embedder)
    unknown = [d for d in doc_ids if d not in previous.reports]
    if unknown:
        raise IndexerError(f"The index has no report with the id {', '.join(unknown)}; nothing was removed.")
    reports = {k: v for k, v in previous.reports.items() if k not in doc_ids}
    chunks = [c for c in previous.chunks if c.doc_id not in doc_ids]
    summary = BuildSummary("remove", removed=list(doc_ids))
    summary = _assemble(root, reports, chunks, embedder, previous, summary, _no_progress)
    summary.seconds = time.monotonic() - started
    return summary
