"""The seekdb tables and how an index generation's rows are written into them."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from indexer.bm25 import BM25Index
from indexer.errors import CorruptIndex
from indexer.records import Chunk, Span
from indexer.store import Generation

MAX_WORD = 84  # the longest word the `space` parser indexes (its max_token_size is at most 84)
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_KEPT_WORD = re.compile(f"[0-9a-z_{_CJK}]*[{_CJK}][0-9a-z_{_CJK}]*")

# Filter columns are copied onto every chunk so that a filter runs inside the index scan,
# without a join. The default ORGANIZATION INDEX makes a row searchable as soon as it is
# written (with HEAP the vector index lags behind the insert).
SCHEMA = (
    "DROP TABLE IF EXISTS chunks",
    "DROP TABLE IF EXISTS reports",
    "DROP TABLE IF EXISTS terms",
    # Each full-text word's document frequency, so that a query can leave its commonest words out of the
    # candidate scan (they still count in the score): see SeekdbStore.bm25_top_k.
    "CREATE TABLE terms (word VARCHAR(128) PRIMARY KEY, chunks BIGINT)",
    # record_json: the report's whole record (metadata, published text, outline, problem spans, terms).
    """CREATE TABLE reports (doc_id VARCHAR(128) PRIMARY KEY, issuer VARCHAR(255), level VARCHAR(16),
        region VARCHAR(255), year INT NULL, title VARCHAR(1024), meta_json LONGTEXT, record_json LONGTEXT)""",
    """CREATE TABLE chunks (row_id BIGINT, doc_id VARCHAR(128) NOT NULL, chunk_id VARCHAR(255) NOT NULL,
        section_id VARCHAR(255), section_label VARCHAR(64), section_path TEXT, start_offset INT, end_offset INT,
        sentences LONGTEXT, search_text LONGTEXT,
        issuer VARCHAR(255), level VARCHAR(16), province VARCHAR(64), city VARCHAR(64), district VARCHAR(64),
        year INT NULL, text LONGTEXT, tokens LONGTEXT, bm25_weights JSON, embedding VECTOR({dim}),
        FULLTEXT INDEX chunks_tokens (tokens) WITH PARSER space PARSER_PROPERTIES=(min_token_size=1, max_token_size=84),
        VECTOR INDEX chunks_embedding (embedding) WITH (DISTANCE=inner_product, TYPE=hnsw, LIB=vsag),
        {primary_key}){partitioning}""",
)


def schema_statements(dim: int, partitions: int = 0) -> list[str]:
    """The statements that replace a generation's tables with empty ones for vectors of `dim` floats.

    With `partitions` > 0 the chunks table is hash-partitioned by report (a report's chunks stay in one
    partition, so a filtered query touches few), as an OceanBase cluster spreads it over its observers;
    the partitioning key must then be part of the primary key.
    """
    if partitions < 0:
        raise ValueError(f"The number of partitions {partitions} must be 0 (none) or more.")
    primary_key = "PRIMARY KEY (row_id, doc_id)" if partitions else "PRIMARY KEY (row_id)"
    partitioning = f" PARTITION BY KEY(doc_id) PARTITIONS {int(partitions)}" if partitions else ""
    return [statement.format(dim=int(dim), primary_key=primary_key, partitioning=partitioning) for statement in SCHEMA]


# REPLACE rather than INSERT: a load cut short, or a batch retried after a lost connection, can run again.
PUT_REPORT = "REPLACE INTO reports VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
PUT_TERM = "REPLACE INTO terms VALUES (%s, %s)"
PUT_CHUNK = "REPLACE INTO chunks VALUES (" + ", ".join(["%s"] * 20) + ")"
# What a Chunk record is read back from (chunk_from_columns), row_id first.
CHUNK_COLUMNS = ("row_id", "chunk_id", "doc_id", "section_id", "section_path", "section_label", "start_offset",
                 "end_offset", "text", "search_text", "sentences")


def fulltext_word(token: str) -> str:
    """The form of a jieba token that seekdb's `space` parser indexes whole and never drops.

    The parser splits at anything but letters, digits and '_', drops English stop words
    and words over 84 characters. A token of such characters holding a CJK letter is kept
    as it is; any other ('2024', '12.5%', Latin words) becomes 'x' + its UTF-8 in hex, which
    holds a digit and so is never a stop word. Kept words hold a CJK letter and written
    ones never do, so two tokens never share a form.
    """
    if len(token) <= MAX_WORD and _KEPT_WORD.fullmatch(token):
        return token
    written = "x" + token.encode("utf-8").hex()
    if len(written) <= MAX_WORD:
        return written
    return "x" + hashlib.blake2b(token.encode("utf-8"), digest_size=20).hexdigest()


def vector_bytes(vector: np.ndarray) -> bytes:
    """A vector as seekdb takes it in a parameter: little-endian float32s (as exact as the text form, smaller)."""
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def report_row(doc_id: str, record: dict) -> tuple:
    """The reports row of one report's whole record ({"meta", "original", "sections", ...})."""
    meta = record["meta"]
    return (doc_id, meta.get("issuer"), meta.get("level"), meta.get("region"), meta.get("year"),
            meta.get("title"), json.dumps(meta, ensure_ascii=False), json.dumps(record, ensure_ascii=False))


def chunk_row(row_id: int, chunk: Chunk, tokens: list[str], vector: np.ndarray, meta: dict,
              weights: dict[str, float]) -> tuple:
    """The chunks row of generation row `row_id`, with its report's filter fields and its BM25 weights.

    `weights` are the chunk's own BM25 term weights from the generation's index (idf and length
    normalisation included), keyed by each token's full-text word (so a key is always a plain JSON
    path member), so that seekdb's full-text scan proposes candidates and the service scores them
    exactly as the embedded backend does.
    """
    return (row_id, chunk.doc_id, chunk.chunk_id, chunk.section_id, chunk.label,
            json.dumps(list(chunk.section_path), ensure_ascii=False), chunk.start, chunk.end,
            json.dumps([[span.start, span.end] for span in chunk.sentences]), chunk.search_text, meta.get("issuer"), meta.get("level"), meta.get("province"), meta.get("city"),
            meta.get("district"), meta.get("year"), chunk.text, " ".join(fulltext_word(t) for t in tokens),
            json.dumps(weights, ensure_ascii=False), vector_bytes(vector))


def generation_term_rows(generation: Generation) -> Iterator[tuple]:
    """(full-text word, chunks holding it) for every token of the generation's BM25 vocabulary."""
    bm25 = BM25Index.load(generation.path / "bm25")
    for token, df in zip(bm25.vocab, bm25.doc_freq()):
        yield fulltext_word(token), int(df)


def generation_report_rows(generation: Generation) -> Iterator[tuple]:
    """The reports rows of a generation, one report's record read at a time."""
    for doc_id in generation.reports:
        yield report_row(doc_id, generation.reports[doc_id])


def chunk_from_columns(columns: tuple) -> Chunk:
    """The Chunk record stored in a chunks row, from its CHUNK_COLUMNS (row_id first, not part of it)."""
    _, chunk_id, doc_id, section_id, section_path, label, start, end, text, search_text, sentences = columns
    return Chunk(chunk_id=chunk_id, doc_id=doc_id, section_id=section_id or "", section_path=tuple(json.loads(section_path)),
                 label=label or "", start=int(start), end=int(end), text=text, search_text=search_text,
                 sentences=tuple(Span(int(a), int(b)) for a, b in json.loads(sentences)))


def generation_chunk_rows(generation: Generation) -> Iterator[tuple]:
    """The chunks rows of a generation, one at a time: vectors memory-mapped, tokens read line by line."""
    folder, chunks, metas = generation.path, generation.chunks, generation.reports.metas()
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    if len(vectors) != len(chunks):
        raise CorruptIndex(f"{folder} has {len(vectors)} vectors for {len(chunks)} chunks; rebuild the index.")
    bm25 = BM25Index.load(folder / "bm25")
    by_row = sp.csc_matrix((bm25.data, bm25.indices, bm25.indptr), shape=bm25.shape).tocsr()
    rows = 0
    with (folder / "tokens.jsonl").open(encoding="utf-8") as token_lines:
        for row_id, line in zip(range(len(chunks)), token_lines):
            chunk = chunks[row_id]
            lo, hi = by_row.indptr[row_id], by_row.indptr[row_id + 1]
            weights = {fulltext_word(bm25.vocab[c]): float(w) for c, w in zip(by_row.indices[lo:hi], by_row.data[lo:hi])}
            yield chunk_row(row_id, chunk, json.loads(line), vectors[row_id], metas[chunk.doc_id], weights)
            rows += 1
    if rows != len(chunks):
        raise CorruptIndex(f"{folder} has {rows} token lines for {len(chunks)} chunks; rebuild the index.")
