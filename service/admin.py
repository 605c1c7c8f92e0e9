"""Adding and removing reports while serving: POST /api/reports and DELETE /api/reports/<doc_id>, behind a token."""
from __future__ import annotations

import dataclasses
import hmac
import logging
import os
import tempfile
import time
import unicodedata
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request

from indexer.build import add_sources, doc_id_for, remove_reports
from indexer.errors import IndexerError, UnreadableSource
from indexer.sources import SUPPORTED_SUFFIXES, SourceText, read_bytes
from indexer.store import IndexBusy, writer_lock
from service.errors import (
    BadParameter, Busy, Conflict, Forbidden, NotFound, NotUpdated, TooLarge, Unauthorized,
    Unprocessable, UnsupportedType,
)

bp = Blueprint("admin", __name__)
log = logging.getLogger(__name__)

REMOVED_DIR = ".removed"
# Bytes of UTF-8 in a doc_id, so that doc_id + extension stays far below NAME_MAX (255 bytes).
MAX_DOC_ID_BYTES = 150
# Fewer characters than this is a note or a fragment, not an annual report; it would only add noise.
MIN_REPORT_CHARS = 200
EXTENSIONS = {"txt": ".txt", "md": ".md", "html": ".html", "docx": ".docx", "pdf": ".pdf"}
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def safe_doc_id(name: str) -> str:
    """A doc_id derived from an untrusted file name that is a plain, short, portable file name stem.

    Separators of any system, NUL and other control or formatting characters become "_",
    compatibility forms are folded (NFKC), the id is cut to MAX_DOC_ID_BYTES of UTF-8, and
    names reserved on Windows get a prefix.
    """
    name = unicodedata.normalize("NFKC", name).replace("\\", "/").replace("\x00", "_")
    base = name.rsplit("/", 1)[-1]
    doc_id = doc_id_for(Path(base)) if base not in ("", ".", "..") else "report"
    encoded = doc_id.encode("utf-8")[:MAX_DOC_ID_BYTES]
    doc_id = encoded.decode("utf-8", "ignore").strip("._") or "report"
    if doc_id.split(".")[0].upper() in _WINDOWS_RESERVED:
        doc_id = "report_" + doc_id
    return doc_id


def _holder():
    return current_app.extensions["fazhi"]


def _require_admin() -> None:
    """Let the request through only with the configured bearer token; nothing is read before this."""
    token = str(current_app.config.get("ADMIN_TOKEN") or "")
    if not token:
        raise Forbidden("Adding and removing reports is switched off; set FAZHI_ADMIN_TOKEN to enable it.")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("This endpoint needs the header 'Authorization: Bearer <token>'.")
    if not hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8")):
        raise Forbidden("The admin token is wrong.")


def _paths() -> tuple[Path, Path, float]:
    config = current_app.config
    # A request waits at most WRITER_WAIT_SECONDS for another writer (an upload, a CLI add) to finish.
    return Path(config["INDEX_DIR"]), Path(config["CORPUS_DIR"]), float(config["WRITER_WAIT_SECONDS"])


def _read_upload() -> tuple[bytes, str]:
    """The uploaded bytes and the client's file name, with the size limit enforced."""
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    upload = request.files.get("file")
    if upload is None:
        raise BadParameter("Send the report as a multipart form field named 'file'.")
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"The upload is larger than the {limit / 1048576:g} MB the service accepts for one report.")
    return data, upload.filename or ""


def _requested_doc_id(filename: str) -> str:
    wanted = request.form.get("doc_id")
    if wanted is None or not wanted.strip():
        return safe_doc_id(filename)
    wanted = wanted.strip()
    if safe_doc_id(wanted) != wanted or "." in wanted:
        raise BadParameter(
            "The doc_id may contain only letters, digits, '_' and '-', "
            f"at most {MAX_DOC_ID_BYTES} bytes, and no name reserved on Windows."
        )
    return wanted


def _sniff(data: bytes, doc_id: str, filename: str) -> SourceText:
    """Read the upload by its content; the client's suffix is only a hint for txt versus md."""
    suffix = Path(filename.replace("\\", "/")).suffix.lower()
    hint = doc_id + (suffix if suffix in SUPPORTED_SUFFIXES else "")
    try:
        source = read_bytes(data, hint, max_bytes=int(current_app.config["MAX_UPLOAD_BYTES"]))
    except UnreadableSource as error:
        raise UnsupportedType(f"The uploaded file {error.reason}") from error
    length = len("".join(source.text.split()))
    if length < MIN_REPORT_CHARS:
        raise Unprocessable(f"The uploaded file holds only {length} characters of text; "
                            f"a report has at least {MIN_REPORT_CHARS}.")
    return dataclasses.replace(source, path=doc_id + EXTENSIONS[source.format])


def _existing(doc_id: str, sha256: str) -> None:
    """409 when the content is already indexed or the id is taken, in the index or in the corpus folder."""
    searcher = _holder().searcher
    for other, meta in searcher.metas().items():
        if meta.get("content_sha256") == sha256:
            raise Conflict(f"This file is already indexed as the report {other}; it was not indexed twice.")
    if doc_id in searcher.reports:
        raise Conflict(f"A report with the id {doc_id} is already indexed; remove it first or send another doc_id.")
    corpus = Path(current_app.config["CORPUS_DIR"])
    if corpus.is_dir() and any(doc_id_for(p) == doc_id for p in corpus.iterdir()
                               if p.is_file() and not p.name.startswith(".")):
        raise Conflict(f"The corpus folder already has a file named {doc_id}; send another doc_id.")


def _save_atomically(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` to folder/name through a hidden temporary file and one rename."""
    final = folder / name
    if final.resolve().parent != folder.resolve():
        raise BadParameter("The file name would leave the corpus folder.")  # safe_doc_id makes this unreachable
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return final


@bp.post("/api/reports")
def add_report():
    """Save an uploaded report into the corpus folder and merge it into the index."""
    _require_admin()
    data, filename = _read_upload()
    doc_id = _requested_doc_id(filename)
    source = _sniff(data, doc_id, filename)
    index_dir, corpus, timeout = _paths()
    holder = _holder()
    try:
        with writer_lock(index_dir, timeout=timeout):
            holder.reload()  # another process may have written since this worker last looked
            _existing(doc_id, source.sha256)
            try:
                saved = _save_atomically(corpus, source.path, data)
            except OSError as error:
                raise NotUpdated(f"The report could not be saved into the corpus folder ({error.strerror or error}); "
                                 "nothing was changed.") from error
            try:
                summary = add_sources(index_dir, [(doc_id, source)], holder.embedder)
            except BaseException:
                saved.unlink(missing_ok=True)
                raise
            if not summary.added:
                saved.unlink(missing_ok=True)
                reason = summary.skipped[0]["reason"] if summary.skipped else "it holds no report text."
                if "same content" in reason:
                    raise Conflict(f"This file was not indexed: {reason}")
                raise Unprocessable(f"The uploaded file was read but not indexed: {reason}")
            holder.reload()
    except IndexBusy as error:
        raise Busy(str(error)) from error
    except IndexerError as error:
        raise NotUpdated(f"{error} The index in service is unchanged.") from error
    added = summary.added[0]
    log.warning("Added report %s (%s chunks) as %s", doc_id, added["chunks"], summary.generation)
    response = jsonify(
        doc_id=doc_id, issuer=added["issuer"], year=added["year"], title=added["title"], chunks=added["chunks"],
        format=source.format, file=saved.name, generation=summary.generation, seconds=round(summary.seconds, 3),
        url=f"/reports/{doc_id}",
    )
    response.status_code = 201
    response.headers["Location"] = f"/api/reports/{doc_id}"
    return response


def _corpus_files_of(corpus: Path, doc_id: str) -> list[Path]:
    """Files of the corpus folder (not hidden ones) whose doc_id is `doc_id`."""
    found = []
    for dirpath, dirnames, filenames in os.walk(corpus):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found += [Path(dirpath) / f for f in filenames if not f.startswith(".") and doc_id_for(Path(f)) == doc_id]
    return found


def _set_aside(corpus: Path, files: list[Path]) -> list[str]:
    """Move files into corpus/.removed/ with a time stamp, so a rebuild leaves them out but nothing is lost."""
    removed = corpus / REMOVED_DIR
    moved = []
    for path in files:
        removed.mkdir(exist_ok=True)
        target = removed / f"{time.strftime('%Y%m%d-%H%M%S')}-{path.name}"
        os.replace(path, target)
        moved.append(str(target.relative_to(corpus)))
    return moved


@bp.delete("/api/reports/<doc_id>")
def delete_report(doc_id: str):
    """Remove a report from the index and move its corpus file aside."""
    _require_admin()
    index_dir, corpus, timeout = _paths()
    holder = _holder()
    try:
        with writer_lock(index_dir, timeout=timeout):
            holder.reload()
            if doc_id not in holder.searcher.reports:
                raise NotFound(f"There is no report with the id {doc_id!r}.")
            summary = remove_reports(index_dir, [doc_id], holder.embedder)
            holder.reload()
            try:
                moved = _set_aside(corpus, _corpus_files_of(corpus, doc_id)) if corpus.is_dir() else []
            except OSError as error:
                log.error("Removed %s from the index but could not move its corpus file: %s", doc_id, error)
                moved = []
    except IndexBusy as error:
        raise Busy(str(error)) from error
    except IndexerError as error:
        raise NotUpdated(f"{error} The index in service is unchanged.") from error
    log.warning("Removed report %s as %s", doc_id, summary.generation)
    return jsonify(removed=doc_id, moved=moved, generation=summary.generation, reports=summary.reports)
