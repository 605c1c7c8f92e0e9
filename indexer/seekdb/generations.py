"""Generations in seekdb: one database per index generation, loaded once, servable only when finished.

Why one database per generation: a generation is loaded into the engine while the previous one
serves, and becomes servable only when its load finished (a `load_done` row written last), so a
build or load killed mid-way leaves the previous generation answering, as the embedded files do.
Used by the indexer (`--backend seekdb` loads what it built) and by the service (it loads a
generation it finds missing).
"""
from __future__ import annotations

import atexit
import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from indexer.seekdb.engine import EngineSettingError, EngineUnavailable, LocalEngine, start_local_engine
from indexer.seekdb.store import HNSW_EF_SEARCH, SeekdbConfig, SeekdbStore

log = logging.getLogger(__name__)

START_RETRY_SECONDS = 2.0
# A batch write may take long on a busy engine: with the engine's 10 s, one batch of 1,000 rows timed out
# beside a test suite (error 4012) and ended a 1M-chunk load at 384k chunks.
LOAD_STATEMENT_TIMEOUT = 600.0
# The layout of a generation's tables (indexer/seekdb/schema.py); a database loaded with another is loaded again.
SCHEMA_VERSION = 4
_NAME_SAFE = re.compile(r"[^A-Za-z0-9_]")


def index_prefix(folder: Path) -> str:
    """The prefix of the databases of one index directory's generations: 'fazhi_' and a hash of its path, so
    that several index directories can share one engine and clearing one's old generations spares the others'."""
    root = Path(os.path.abspath(folder)).parent.parent  # a generation's own path, a link not followed
    return "fazhi_" + hashlib.blake2b(str(root).encode("utf-8"), digest_size=4).hexdigest() + "_"


def database_for(folder: Path) -> str:
    """The engine database that holds one generation (seekdb names: letters, digits, '_', at most 64)."""
    return (index_prefix(folder) + _NAME_SAFE.sub("_", Path(folder).name))[:64]


class LocalEngines:
    """The seekdb this process started, one per data folder, stopped when the process that started it exits."""

    def __init__(self):
        self._lock = threading.Lock()
        self._engines: dict[Path, LocalEngine] = {}
        self._owner = os.getpid()

    def address(self, data_dir: Path) -> str:
        """The address of the seekdb on `data_dir`, started (again) here if this process started none or
        its own ended. A gunicorn worker inherits the master's engine and uses it as it is: only the
        master, its parent, can see whether it still runs (and a second seekdb would refuse the folder)."""
        data_dir = Path(data_dir).resolve()
        with self._lock:
            engine = self._engines.get(data_dir)
            if engine is not None and os.getpid() != self._owner:
                return engine.address
            if engine is None or engine.process.poll() is not None:
                log.warning("Starting seekdb with its data in %s.", data_dir)
                engine = self._engines[data_dir] = start_local_engine(data_dir)
                owner = os.getpid()
                atexit.register(lambda: os.getpid() == owner and engine.stop())
            return engine.address

    def stop_all(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.stop()
            self._engines.clear()


LOCAL_ENGINES = LocalEngines()


def engine_config(address: str, data_dir: Path) -> SeekdbConfig:
    """The engine to use: the one at `address`, or one this process starts on `data_dir` when none is given.

    FAZHI_SEEKDB_USER / _PASSWORD log in; FAZHI_SEEKDB_PARTITIONS partitions the chunks tables it creates
    by report; FAZHI_SEEKDB_EF_SEARCH sets the HNSW candidates per vector query.
    """
    partitions = _whole_number("FAZHI_SEEKDB_PARTITIONS", 0, 0)  # read before an engine is started for nothing
    ef_search = _whole_number("FAZHI_SEEKDB_EF_SEARCH", HNSW_EF_SEARCH, 1)
    return SeekdbConfig(address=address or LOCAL_ENGINES.address(data_dir), data_dir=Path(data_dir),
                        user=os.environ.get("FAZHI_SEEKDB_USER") or "root",
                        password=os.environ.get("FAZHI_SEEKDB_PASSWORD", ""),
                        partitions=partitions, hnsw_ef_search=ef_search)


def _whole_number(variable: str, default: int, least: int) -> int:
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < least:
        raise EngineSettingError(f"{variable} must be a whole number of at least {least} (such as {default or 8}), "
                                 f"not {value!r}.")
    return int(value)


def wait_for_engine(config: SeekdbConfig, patience: float) -> None:
    """Block until the engine answers, saying so every few seconds; EngineUnavailable after `patience` s."""
    deadline = time.monotonic() + patience
    store = SeekdbStore(config)
    try:
        while not store.ping():
            if time.monotonic() > deadline:
                raise EngineUnavailable(
                    f"The seekdb engine at {config.address} did not answer within {patience:g} s; start it, or give "
                    "no address (FAZHI_SEEKDB_ADDRESS empty) to let the service start its own.")
            log.warning("The seekdb engine at %s does not answer yet; retrying in %g s.", config.address,
                        START_RETRY_SECONDS)
            time.sleep(START_RETRY_SECONDS)
    finally:
        store.close()


def ensure_loaded(config: SeekdbConfig, folder: Path, batch: int = 500) -> int:
    """Load a generation into its database unless a finished load is there already; its chunk count."""
    store = SeekdbStore(replace(config, database=database_for(folder), statement_timeout=LOAD_STATEMENT_TIMEOUT))
    try:
        mark = store.load_mark()
        if mark is not None and mark[1:] == (SCHEMA_VERSION, config.partitions):
            warm_up(store, folder)
            return mark[0]
        started = time.monotonic()
        dim = np.load(folder / "vectors.npy", mmap_mode="r").shape[1]
        store.clear_load_mark()
        store.create_schema(dim)
        loaded = store.load_generation(folder, batch=batch)
        store.mark_loaded(loaded, SCHEMA_VERSION)
        log.warning("Loaded %s into seekdb at %s: %d chunks in %.1f s.", folder.name, config.address, loaded,
                    time.monotonic() - started)
        warm_up(store, folder)
        drop_stale(store, index_prefix(folder), {database_for(p) for p in folder.parent.iterdir() if p.is_dir()})
        return loaded
    finally:
        store.close()


def warm_up(store: SeekdbStore, folder: Path) -> float:
    """One vector search under the load's statement timeout, before any request is served; its seconds.

    The first search after a 1M-chunk load (the engine bringing its HNSW graph into memory) ran
    past the 10 s statement timeout that requests have, so it would have been a 503.
    """
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    if not len(vectors):
        return 0.0
    started = time.monotonic()
    store.dense_top_k(np.asarray(vectors[0], dtype=np.float32), 10)
    seconds = time.monotonic() - started
    if seconds > 1:
        log.warning("The first vector search in seekdb took %.1f s (its index warming up).", seconds)
    return seconds


def drop_stale(store: SeekdbStore, prefix: str, keep: set[str]) -> list[str]:
    """Drop this index's databases whose generations are no longer on disk (it keeps its last few); their names."""
    stale = [name for name in store.databases() if name.startswith(prefix) and name not in keep]
    for name in stale:
        store.drop_database(name)
    return stale
