"""Import many report files into an index: resumable, changed files re-indexed, removed ones out, duplicates merged.

A run looks at every file twice. The scan hashes each file and, against the journal in the
index directory, sorts it into unchanged, new, changed or gone; the second pass reads only
the new and changed files and commits them in batches. Before each batch is committed the
journal records what the batch claims (doc ids, content hashes, reports to remove), so a run
that crashes or is interrupted is resumed by running it again: claims the index does not
hold are simply redone, and what was committed is not embedded again.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.archives import (
    DEFAULT_LIMITS,
    MEMBER_SEPARATOR,
    ArchiveLimits,
    InputFile,
    iter_inputs,
)
from indexer.build import Progress, _no_progress, add_sources, doc_id_for
from indexer.embed import Embedder
from indexer.errors import IndexMismatch, UnreadableSource
from indexer.import_report import ImportRow, count_outcomes
from indexer.import_state import (
    DUPLICATE,
    INDEXED,
    NEAR_DUPLICATE,
    SKIPPED,
    ImportState,
    SourceRecord,
)
from indexer.near_duplicates import (
    NEAR_DUPLICATE_JACCARD,
    SHINGLE_CHARS,
    DuplicateFinder,
    Fingerprint,
    fingerprint,
)
from indexer.sources import SourceText, read_bytes
from indexer.store import current_generation, open_generation, writer_lock

# Files added per new index generation: each generation rewrites the index, so larger batches
# are faster, smaller ones lose less work to a crash.
BATCH_FILES = 20


@dataclass
class ImportSummary:
    """What an import did: a row per file, and the embedding work."""

    rows: list[ImportRow] = field(default_factory=list)
    reports: int = 0  # in the index afterwards
    embedded: int = 0
    reused: int = 0
    generation: str = ""
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        """Files per outcome."""
        return count_outcomes(self.rows)

    def to_dict(self) -> dict:
        return {"action": "import", "counts": self.counts(), "reports": self.reports, "embedded": self.embedded,
                "reused": self.reused, "generation": self.generation, "seconds": self.seconds,
                "rows": [row.to_dict() for row in self.rows]}

    def lines(self) -> list[str]:
        """A human summary: the counts, then each file that was skipped and why."""
        counts = ", ".join(f"{n} {outcome}" for outcome, n in self.counts().items()) or "nothing found"
        head = (f"import: {len(self.rows)} files: {counts}; {self.embedded} chunks embedded, {self.reused} reused; "
                f"the index holds {self.reports} reports ({self.seconds:.1f} s)")
        out = [head]
        out += [f"  skipped {row.path}: {row.reason}" for row in self.rows if row.outcome == "skipped"]
        return out


@dataclass
class _Scanned:
    key: str
    display: str
    member: str
    sha256: str = ""
    refusal: str = ""
    container: bool = False


@dataclass
class _Batch:
    adds: list[tuple[str, SourceText]] = field(default_factory=list)
    records: dict[str, SourceRecord] = field(default_factory=dict)  # key -> what this batch claims
    keys: dict[str, str] = field(default_factory=dict)  # doc_id -> key, for the adds
    prints: dict[str, Fingerprint] = field(default_factory=dict)
    remove: dict[str, str] = field(default_factory=dict)  # doc_id -> content sha


def _under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith((prefix.rstrip("/") + "/", prefix + MEMBER_SEPARATOR))


def _passages(count: int) -> str:
    return f"{count} passage" + ("" if count == 1 else "s")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_paths(
    paths: Sequence[Path], root: Path, embedder: Embedder, progress: Progress = _no_progress,
    batch_files: int = BATCH_FILES, limits: ArchiveLimits = DEFAULT_LIMITS,
) -> ImportSummary:
    """Import every report under `paths` (folders, archives, files) into the index `root`."""
    if batch_files < 1:
        raise ValueError(f"An import batch must hold at least one file, not {batch_files}.")
    root = Path(root)
    with writer_lock(root):  # one import at a time: its journal and the index must move together
        return _ImportRun([Path(p) for p in paths], root, embedder, progress, batch_files, limits).run()


class _ImportRun:
    """One import: scan, plan, read and commit in batches."""

    def __init__(self, paths, root, embedder, progress, batch_files, limits):
        self.paths, self.root, self.embedder = paths, root, embedder
        self.progress, self.batch_files, self.limits = progress, batch_files, limits
        self.started = time.monotonic()
        self.state = ImportState.load(root)
        self.indexed: dict[str, str] = {}  # doc_id -> content sha of every report in the index
        self.finder = DuplicateFinder()
        self.rows: dict[str, ImportRow] = {}
        self.summary = ImportSummary()
        self.batch = _Batch()

    # ------------------------------------------------------------ the index as it is

    def _open_index(self) -> None:
        folder = current_generation(self.root)
        if folder is None:
            return
        generation = open_generation(folder, verify=False)  # the commit verifies what it rewrites
        model = generation.manifest.get("model", {})
        if model.get("name") != self.embedder.name or model.get("dim") != self.embedder.dim:
            raise IndexMismatch(
                f"The index was built with the model {model.get('name')!r} ({model.get('dim')} dimensions), "
                f"not {self.embedder.name!r} ({self.embedder.dim}); import with the same model or rebuild it."
            )
        self.indexed = {doc_id: meta.get("content_sha256", "") for doc_id, meta in generation.reports.metas().items()}
        prints = self.state.fingerprints
        for doc_id in [d for d, (sha, _) in prints.items() if self.indexed.get(d) != sha]:
            del prints[doc_id]
        for doc_id, sha in self.indexed.items():
            if doc_id not in prints:  # a report built or added without import: fingerprint it once
                prints[doc_id] = (sha, fingerprint(generation.reports[doc_id]["original"]))

    def _alive(self, record: SourceRecord | None) -> bool:
        """True if the record's report is in the index with the content it was read from."""
        return bool(record and record.outcome == INDEXED and self.indexed.get(record.doc_id) == record.sha256)

    def _owned(self, record: SourceRecord | None) -> str:
        """The id of the report in the index that came from this record's file (perhaps an older version), or ''."""
        return record.doc_id if record and record.outcome == INDEXED and record.doc_id in self.indexed else ""

    # ------------------------------------------------------------ the run

    def run(self) -> ImportSummary:
        self._open_index()
        scanned = self._scan()
        todo = self._plan(scanned)
        wanted = set(todo)
        for item in self.progress(self._inputs(wanted), "importing", len(wanted)):
            wanted.discard(item.key)
            self._take(item, todo[item.key])
            if len(self.batch.adds) >= self.batch_files:
                self._commit()
        for key in wanted:  # gone between the scan and the reading
            self.rows[key] = ImportRow(todo[key].display, "skipped", reason="disappeared while the import was "
                                       "running; it will be looked at again by the next import.")
        self._commit()
        order = [s.key for s in scanned]
        present = set(order)
        self.summary.rows = [self.rows[k] for k in order if k in self.rows] + [
            row for k, row in self.rows.items() if k not in present]
        self.summary.reports = len(self.indexed)
        self.summary.seconds = time.monotonic() - self.started
        return self.summary

    def _inputs(self, wanted: set[str] | None = None) -> Iterator[InputFile]:
        seen: set[str] = set()
        for path in self.paths:
            for item in iter_inputs(path, (lambda key: key in wanted) if wanted is not None else (lambda _k: True),
                                    self.limits):
                if item.key in seen:
                    continue  # the same file reached twice (a folder and a file in it both given)
                seen.add(item.key)
                if wanted is None or item.key in wanted:
                    yield item

    def _scan(self) -> list[_Scanned]:
        out = []
        for item in self.progress(self._inputs(), "scanning", None):
            sha = _sha256(item.data) if item.data is not None else ""
            out.append(_Scanned(item.key, item.display, item.member, sha, item.refusal, item.container))
        return out

    def _plan(self, scanned: list[_Scanned]) -> dict[str, _Scanned]:
        """Rows for what needs no reading, removals for what is gone; returns the files to read, by key."""
        sources = self.state.sources
        given = [Path(os.path.abspath(p)).as_posix() for p in self.paths]
        protected = [s.key for s in scanned if s.container]
        present = {s.key for s in scanned}
        # Leftovers of an interrupted run, then the files no longer under the paths given.
        remove = {d: sha for d, sha in self.state.removing.items() if self.indexed.get(d) == sha}
        self.state.removing = dict(remove)
        for key in [k for k in sources if k not in present and any(_under(k, g) for g in given)
                    and not any(_under(k, p) for p in protected)]:
            record = sources.pop(key)
            shown = self._shown(key, given)
            if self._owned(record):
                remove[record.doc_id] = self.indexed[record.doc_id]
                reason = f"is no longer among the files given, so its report {record.doc_id} was removed from the index."
                self.rows[key] = ImportRow(shown, "removed", record.doc_id, reason=reason)
            else:
                self.rows[key] = ImportRow(shown, "removed", reason="is no longer among the files given; "
                                           "no report of its own had been indexed from it.")
        self.batch.remove.update(remove)
        # Reports about to be replaced or removed: a file is not a copy of its own earlier version.
        changing = set(remove) | {
            self._owned(sources.get(s.key)) for s in scanned
            if s.sha256 and self._owned(sources.get(s.key)) and not (
                self._alive(sources[s.key]) and sources[s.key].sha256 == s.sha256)}
        for doc_id, (_, print_) in self.state.fingerprints.items():
            if doc_id not in changing:
                self.finder.add(doc_id, print_)
        todo: dict[str, _Scanned] = {}
        for s in scanned:
            record = sources.get(s.key)
            if s.refusal:
                self._refuse(s.key, s.display, s.refusal, record)
            elif record is None or record.sha256 != s.sha256:
                todo[s.key] = s
            elif record.outcome == INDEXED and self._alive(record):
                self.rows[s.key] = ImportRow(s.display, "unchanged", record.doc_id,
                                             reason="is unchanged since the last import.")
            elif record.outcome in (DUPLICATE, NEAR_DUPLICATE) and record.duplicate_of in self.finder:
                self.rows[s.key] = ImportRow(s.display, record.outcome, "", record.duplicate_of,
                                             record.similarity, record.reason)
            elif record.outcome == SKIPPED:
                self.rows[s.key] = ImportRow(s.display, "skipped", reason=record.reason)
            else:
                todo[s.key] = s  # claimed by a run that did not finish, or its original changed
        return todo

    def _shown(self, key: str, given: list[str]) -> str:
        """How a file no longer present is shown: under the path given, as that path was written."""
        for path, absolute in zip(self.paths, given):
            if _under(key, absolute):
                return str(path).rstrip("/") + key[len(absolute.rstrip("/")):]
        return key

    def _refuse(self, key: str, display: str, reason: str, record: SourceRecord | None, sha: str = "") -> None:
        if doc_id := self._owned(record):
            self.rows[key] = ImportRow(display, "skipped", doc_id,
                                       reason=f"{reason} The version indexed earlier is kept as {doc_id}.")
            return
        self.rows[key] = ImportRow(display, "skipped", reason=reason)
        if sha:  # remembered, so that the same file is not read again until it changes
            self.batch.records[key] = SourceRecord(sha, record.doc_id if record else "", SKIPPED, reason=reason)

    # ------------------------------------------------------------ reading one file

    def _take(self, item: InputFile, scanned: _Scanned) -> None:
        record = self.state.sources.get(item.key)
        if item.data is None:
            self._refuse(item.key, item.display, item.refusal or "could not be read a second time.", record)
            return
        sha = _sha256(item.data)
        try:
            source = read_bytes(item.data, item.display, max_bytes=self.limits.max_file_bytes)
        except UnreadableSource as error:
            self._refuse(item.key, item.display, error.reason, record, sha)
            return
        print_ = fingerprint(source.text)
        match = self.finder.find(print_)
        old = self._owned(record)
        if match is not None:
            if old:
                self.batch.remove[old] = self.indexed[old]  # changed into a copy of another report
            outcome = DUPLICATE if match.exact else NEAR_DUPLICATE
            reason = (
                f"has the same text as the report {match.doc_id} (ignoring white space, layout and character "
                "forms), so it was not indexed again." if match.exact else
                f"is nearly the same as the report {match.doc_id} (an estimated {match.similarity:.0%} of its "
                f"{SHINGLE_CHARS}-character sequences shared, {NEAR_DUPLICATE_JACCARD:.0%} needed), so it was "
                "not indexed again.")
            self.batch.records[item.key] = SourceRecord(sha, record.doc_id if record else "", outcome,
                                                        match.doc_id, match.similarity, reason)
            self.rows[item.key] = ImportRow(item.display, outcome, "", match.doc_id, match.similarity, reason)
            return
        doc_id = record.doc_id if record and record.doc_id else self._new_doc_id(item)
        self.finder.add(doc_id, print_)
        self.batch.adds.append((doc_id, source))
        self.batch.keys[doc_id] = item.key
        self.batch.prints[doc_id] = print_
        self.batch.records[item.key] = SourceRecord(sha, doc_id, INDEXED)
        self.rows[item.key] = ImportRow(item.display, "re-indexed" if old else "indexed", doc_id)

    def _new_doc_id(self, item: InputFile) -> str:
        """The file's stem, made safe; with a short hash of its key when another report has that id."""
        taken = set(self.indexed) | {r.doc_id for r in self.state.sources.values()} | {
            r.doc_id for r in self.batch.records.values()}
        base = doc_id_for(Path(item.member or item.display))
        candidate = base
        salt = 0
        while candidate in taken:
            digest = _sha256(f"{item.key}\x00{salt}".encode())[:8]
            candidate = f"{base[:110]}_{digest}"
            salt += 1
        return candidate

    # ------------------------------------------------------------ committing a batch

    def _commit(self) -> None:
        batch, state = self.batch, self.state
        self.batch = _Batch()
        previous = {key: state.sources.get(key) for key in batch.records}
        state.sources.update(batch.records)
        state.removing.update(batch.remove)
        state.save(self.root)  # the claims first: a crash from here on is redone by the next run
        if not batch.adds and not batch.remove:
            return
        # Duplicates were decided here, against the index as it will be; add_sources would also
        # compare with the versions this run is about to replace.
        done = add_sources(self.root, batch.adds, self.embedder, self.progress, remove=list(batch.remove),
                           skip_same_content=False)
        for doc_id in done.removed:
            self.indexed.pop(doc_id, None)
            state.fingerprints.pop(doc_id, None)
        state.removing.clear()
        skipped = {entry["file"]: entry["reason"] for entry in done.skipped}
        chunks = {entry["doc_id"]: entry["chunks"] for entry in done.added}
        for doc_id, source in batch.adds:
            key = batch.keys[doc_id]
            if doc_id in chunks:
                self.indexed[doc_id] = source.sha256
                state.fingerprints[doc_id] = (source.sha256, batch.prints[doc_id])
                row = self.rows[key]
                row.reason = (f"was read ({source.format}{', ' + source.encoding if source.encoding else ''}) "
                              f"and indexed as {_passages(chunks[doc_id])}." if row.outcome == "indexed" else
                              f"changed since the last import and was indexed again as {_passages(chunks[doc_id])}.")
            else:
                reason = skipped.get(source.path, "could not be indexed.")
                self._not_indexed(key, doc_id, source.sha256, reason, previous[key])
        self.summary.embedded += done.embedded
        self.summary.reused += done.reused
        self.summary.generation = done.generation or self.summary.generation
        state.save(self.root)

    def _not_indexed(self, key: str, doc_id: str, sha: str, reason: str, previous: SourceRecord | None) -> None:
        """A file read but refused by the indexer: say so, and so for the files merged into it."""
        self.finder.remove(doc_id)
        display = self.rows[key].path
        if self._owned(previous):
            self.state.sources[key] = previous  # the version indexed earlier stays
            self.rows[key] = ImportRow(display, "skipped", doc_id, reason=f"{reason} The version indexed earlier "
                                       f"is kept as {doc_id}.")
        else:
            self.state.sources[key] = SourceRecord(sha, doc_id, SKIPPED, reason=reason)
            self.rows[key] = ImportRow(display, "skipped", reason=reason)
        for other, row in self.rows.items():
            if row.duplicate_of == doc_id and row.outcome in (DUPLICATE, NEAR_DUPLICATE):
                why = f"is a copy of {display}, which could not be indexed: {reason}"
                self.rows[other] = ImportRow(row.path, "skipped", reason=why)
                if other in self.state.sources:
                    copy = self.state.sources[other]
                    self.state.sources[other] = SourceRecord(copy.sha256, copy.doc_id, SKIPPED, reason=why)
