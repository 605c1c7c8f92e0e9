"""Search through seekdb: one connection that survives engine restarts, BM25 and vector top-k."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

import numpy as np
import pymysql

from indexer.records import Chunk
from indexer.seekdb.engine import EngineUnavailable, LocalEngine, start_local_engine
from indexer.seekdb.schema import (
    CHUNK_COLUMNS,
    PUT_CHUNK,
    PUT_REPORT,
    PUT_TERM,
    chunk_from_columns,
    fulltext_word,
    generation_chunk_rows,
    generation_report_rows,
    generation_term_rows,
    schema_statements,
    vector_bytes,
)
from indexer.store import open_generation

COMMON_SHARE = 0.05  # a word in more of the chunks than this is left out of the candidate scan ...
PRUNE_FROM_CHUNKS = 50_000  # ... in generations this large (on small ones it cost our paraphrases 0.06 MRR)
REPORT_BATCH = 20  # reports written per statement (a record holds the whole published text)
CANDIDATES = 3  # full-text candidates read per result, rescored with our BM25 (see bm25_top_k)
# HNSW candidates per vector query. Dense recall@10 against exact search at 500k chunks (bench/speed.py
# --seekdb-ef, one loaded table): ef 200 0.937, 400 0.967, 800 0.987, 1600 0.988, dense top-10 p50 17-19 ms at
# each; ef 200 gave 0.903 at 1M. The engine's default of 64 gives 0.933 at 10k already.
HNSW_EF_SEARCH = 800
CONNECTION_LOST = frozenset({0, 2003, 2006, 2013, 2055})  # closed, refused, gone away, lost
_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True)
class SeekdbConfig:
    """Where the store lives: a running seekdb at `address`, or one we start in `data_dir`."""

    address: str = ""  # "host:port" of a running seekdb; "" starts one on a free loopback port
    data_dir: Path = Path(".cache/seekdb")  # used only when this program starts seekdb itself
    database: str = "fazhi"
    user: str = "root"
    password: str = ""
    hnsw_ef_search: int = HNSW_EF_SEARCH  # candidates the HNSW index visits per vector query
    partitions: int = 0  # hash partitions by report of a chunks table this program creates (0: one table)
    statement_timeout: float = 10.0  # seconds one statement (and its transaction) may run: the engine's default

    def __post_init__(self):
        if self.partitions < 0:
            raise ValueError(f"The number of seekdb partitions {self.partitions} must be 0 (none) or more.")
        if self.hnsw_ef_search < 1:
            raise ValueError(f"The HNSW ef_search {self.hnsw_ef_search} must be a positive number of candidates.")
        if not _DATABASE_NAME.fullmatch(self.database):
            raise ValueError(f"The seekdb database name {self.database!r} must be letters, digits and '_'.")

    def host_port(self) -> tuple[str, int]:
        host, _, port = self.address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"The seekdb address {self.address!r} must look like host:port, e.g. 127.0.0.1:2881.")
        return host, int(port)


@dataclass(frozen=True)
class Where:
    """Metadata filters, all of which must hold; None leaves a field free.

    `region` matches a report's province, city or district. Values always travel as
    query parameters, never inside the SQL text.
    """

    issuer: str | None = None
    level: str | None = None
    region: str | None = None
    year: int | None = None
    doc_ids: tuple[str, ...] | None = None  # only these reports (the service's own reading of its filters)
    label: str | None = None  # only chunks of sections with this label

    def conditions(self) -> tuple[list[str], list]:
        sql, args = [], []
        if self.doc_ids is not None:
            if not self.doc_ids:
                return ["FALSE"], []
            sql.append("doc_id IN %s")
            args.append(tuple(self.doc_ids))
        if self.label is not None:
            sql.append("section_label = %s")
            args.append(self.label)
        for column in ("issuer", "level", "year"):
            if (value := getattr(self, column)) is not None:
                sql.append(f"{column} = %s")
                args.append(value)
        if self.region is not None:
            sql.append("(province = %s OR city = %s OR district = %s)")
            args += [self.region] * 3
        return sql, args


class SeekdbStore:
    """The chunks of one index generation in seekdb, searched by BM25 and by vector.

    Row ids are the generation's chunk rows, so results line up with its other indexes.
    One connection, opened on first use: a lost one becomes EngineUnavailable and the next
    call opens a new one, so an engine that comes back is used without a new store.
    Not for sharing between threads: give each thread its own store.
    """

    def __init__(self, config: SeekdbConfig, engine: LocalEngine | None = None):
        self.config = config
        self.engine = engine  # the seekdb this store started, stopped by close()
        self._connection: pymysql.Connection | None = None
        # Set by a backend that read terms (term_chunks): words then go to the scan by their frequency.
        self.term_frequencies: dict[str, int] | None = None
        self.chunk_count = 0

    @classmethod
    def connect(cls, config: SeekdbConfig) -> SeekdbStore:
        """A store on the seekdb at config.address, or on one started in config.data_dir when there is none."""
        engine = None
        if not config.address:
            engine = start_local_engine(config.data_dir)
            config = replace(config, address=engine.address)
        store = cls(config, engine)
        try:
            store._run("SELECT 1")
        except EngineUnavailable:
            store.close()  # so a seekdb started here is not left running
            raise
        return store

    def close(self) -> None:
        self._drop_connection()
        if self.engine is not None:
            self.engine.stop()

    def ping(self) -> bool:
        try:
            self._run("SELECT 1")
        except EngineUnavailable:
            return False
        return True

    def create_schema(self, dim: int) -> None:
        """Replace the tables with empty ones for vectors of `dim` floats (partitioned as configured)."""
        for statement in schema_statements(dim, self.config.partitions):
            self._run(statement)

    def load_generation(self, folder: Path, batch: int = 500) -> int:
        """Copy a generation's reports and chunks into the tables, `batch` chunks at a time; the chunk count.

        Only one batch of rows is in memory at a time (see generation_chunk_rows).
        """
        generation = open_generation(Path(folder))
        reports = generation_report_rows(generation)
        while group := list(islice(reports, REPORT_BATCH)):
            self._run(PUT_REPORT, group, many=True)
        terms = generation_term_rows(generation)
        while group := list(islice(terms, batch * 10)):
            self._run(PUT_TERM, group, many=True)
        rows, loaded = generation_chunk_rows(generation), 0
        while group := list(islice(rows, batch)):
            self._run(PUT_CHUNK, group, many=True)
            loaded += len(group)
        return loaded

    def _scan_words(self, words: list[str]) -> list[str]:
        """The words the full-text scan looks for. In a large generation, those in at most COMMON_SHARE of
        the chunks (words in most chunks make the scan read most of the table and barely move the ranking),
        or the rarest two; all of them in a small one."""
        if self.term_frequencies is None or self.chunk_count < PRUNE_FROM_CHUNKS:
            return words
        known = [w for w in words if w in self.term_frequencies]
        rare = [w for w in known if self.term_frequencies[w] <= COMMON_SHARE * self.chunk_count]
        if rare:
            return rare
        return sorted(known, key=lambda w: self.term_frequencies[w])[:2] or words

    def load_mark(self) -> tuple[int, int, int] | None:
        """(chunks, schema version, partitions) of the finished load of this database, or None when there is
        none (never loaded, a load cut short, or a layout without the mark's columns)."""
        try:
            rows = self._run("SELECT chunks, schema_version, partitions FROM load_done")
        except pymysql.Error:  # no such table or column
            return None
        return (int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else None

    def clear_load_mark(self) -> None:
        """Forget a finished load: done first, so a load cut short from here on is never taken as done."""
        self._run("DROP TABLE IF EXISTS load_done")

    def mark_loaded(self, chunks: int, schema_version: int) -> None:
        """Record the load as finished: done last, after every row is in."""
        self._run("CREATE TABLE load_done (chunks BIGINT, schema_version INT, partitions INT)")
        self._run("INSERT INTO load_done VALUES (%s, %s, %s)", [int(chunks), int(schema_version), self.config.partitions])

    def variable(self, name: str) -> str | None:
        """The value of one of this session's system variables as the engine reports it (None if unknown)."""
        rows = self._run("SHOW VARIABLES LIKE %s", [name])
        return rows[0][1] if rows else None

    def partitions_of(self, table: str) -> int:
        """How many partitions a table of this database has (0: not partitioned)."""
        rows = self._run("SELECT COUNT(PARTITION_NAME) FROM information_schema.PARTITIONS "
                         "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s", [self.config.database, table])
        return int(rows[0][0]) if rows else 0

    def databases(self) -> list[str]:
        return [row[0] for row in self._run("SHOW DATABASES")]

    def drop_database(self, name: str) -> None:
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a database name this program writes.")
        self._run(f"DROP DATABASE IF EXISTS `{name}`")

    def term_chunks(self) -> dict[str, int]:
        """Every full-text word's document frequency (read once by a backend, to choose scan words)."""
        return {word: int(n) for word, n in self._run("SELECT word, chunks FROM terms")}

    def bm25_top_k(self, tokens: list[str], k: int, where: Where | None = None) -> list[tuple[int, float]]:
        """(row_id, score) of the k chunks best matching the tokens by our BM25, best first.

        seekdb's full-text index proposes CANDIDATES x k chunks by its own BM25 (its k1, b and
        length statistics differ from ours, and drift as it compacts); each candidate is then
        scored with the generation's own BM25 weights stored beside it, a query token counting
        once per occurrence, so the ranking is the embedded backend's wherever the candidates
        hold its top k.
        """
        counts = Counter(fulltext_word(token) for token in tokens)  # distinct tokens have distinct words
        if not counts or k <= 0:
            return []
        words = " ".join(self._scan_words(list(counts)))
        conditions, args = (where or Where()).conditions()
        # Only the query words' weights leave the engine, not each candidate's whole weight map.
        extracts = ", ".join(["JSON_EXTRACT(bm25_weights, %s)"] * len(counts))
        paths = [f'$."{word}"' for word in counts]
        rows = self._run(
            f"SELECT row_id, {extracts}, MATCH(tokens) AGAINST(%s) AS score FROM chunks WHERE MATCH(tokens) AGAINST(%s)"
            + "".join(f" AND {condition}" for condition in conditions)
            + " ORDER BY score DESC, row_id LIMIT %s", [*paths, words, words, *args, int(k) * CANDIDATES])
        multiplicity = list(counts.values())
        scored = []
        for row in rows:
            weights = row[1:1 + len(counts)]
            score = float(np.float32(sum(m * float(w) for m, w in zip(multiplicity, weights) if w is not None)))
            if score > 0:
                scored.append((int(row[0]), score))
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        return scored[:k]

    def dense_top_k(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[tuple[int, float]]:
        """(row_id, inner product) of the k chunks nearest the vector by the HNSW index, best first.

        Only an ascending ORDER BY negative_inner_product(...) APPROXIMATE uses the index;
        `inner_product(...) DESC` scans the whole table.
        """
        if k <= 0:
            return []
        conditions, args = (where or Where()).conditions()
        rows = self._run(
            "SELECT row_id, negative_inner_product(embedding, %s) AS distance FROM chunks"
            + (" WHERE " + " AND ".join(conditions) if conditions else "")
            + " ORDER BY distance APPROXIMATE LIMIT %s", [vector_bytes(vector), *args, int(k)])
        return [(int(row_id), -float(distance)) for row_id, distance in rows]

    def chunks(self, row_ids: list[int]) -> dict[int, Chunk]:
        """The stored Chunk records of these row_ids, by row_id (unknown ids are left out)."""
        if not row_ids:
            return {}
        rows = self._run(f"SELECT {', '.join(CHUNK_COLUMNS)} FROM chunks WHERE row_id IN %s",
                         [tuple(int(row_id) for row_id in row_ids)])
        return {int(row[0]): chunk_from_columns(row) for row in rows}

    def report_metas(self) -> dict[str, dict]:
        rows = self._run("SELECT doc_id, meta_json FROM reports ORDER BY doc_id")
        return {doc_id: json.loads(meta) for doc_id, meta in rows}

    def report_record(self, doc_id: str) -> dict | None:
        """A report's whole stored record ({"meta", "original", "sections", ...}), or None when there is none."""
        rows = self._run("SELECT record_json FROM reports WHERE doc_id = %s", [doc_id])
        return json.loads(rows[0][0]) if rows else None

    def _run(self, sql: str, args=None, many: bool = False) -> tuple:
        """Run one statement; a connection that died since the last call gets one retry on a new one."""
        reused = self._connection is not None
        try:
            return self._run_once(sql, args, many)
        except EngineUnavailable:
            if not reused:
                raise
            return self._run_once(sql, args, many)

    def _run_once(self, sql: str, args, many: bool) -> tuple:
        try:
            if self._connection is None:
                self._connection = self._open_connection()
            with self._connection.cursor() as cursor:
                if many:
                    cursor.executemany(sql, args)
                else:
                    cursor.execute(sql, args)
                return cursor.fetchall()
        except (pymysql.OperationalError, pymysql.InterfaceError) as error:
            if (error.args[0] if error.args else 0) not in CONNECTION_LOST:
                raise
            self._drop_connection()
            data = f" (its data is in {self.engine.data_dir})" if self.engine else ""
            raise EngineUnavailable(
                f"The seekdb engine at {self.config.address} does not answer ({error.args[-1] if error.args else error}); "
                f"start seekdb again{data} or fix the configured address, then retry.") from error

    def _open_connection(self) -> pymysql.Connection:
        host, port = self.config.host_port()
        wait = max(60, int(self.config.statement_timeout) + 30)  # the client outwaits the engine's own timeout
        connection = pymysql.connect(host=host, port=port, user=self.config.user, password=self.config.password,
                                     charset="utf8mb4", autocommit=True, connect_timeout=5, read_timeout=wait,
                                     write_timeout=wait)
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{self.config.database}`")
                cursor.execute("SET ob_hnsw_ef_search = %s", [self.config.hnsw_ef_search])
                timeout_us = int(self.config.statement_timeout * 1_000_000)
                cursor.execute("SET ob_query_timeout = %s, ob_trx_timeout = %s", [timeout_us, timeout_us])
            connection.select_db(self.config.database)
        except pymysql.Error:
            connection.close()
            raise
        return connection

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except pymysql.Error:
                pass  # already broken: closing it only frees the socket
