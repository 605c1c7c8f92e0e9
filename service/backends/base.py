"""What a search backend does for the Searcher, and how a search's filters reach it."""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from indexer.records import Chunk

BACKENDS = ("embedded", "seekdb")


@dataclass(frozen=True)
class BackendChoice:
    """Which backend serves, and for seekdb where its engine is (no address: the service starts its own)."""

    name: str = "embedded"
    seekdb_address: str = ""  # host:port of a running seekdb or OceanBase (its MySQL port)
    seekdb_data: Path | None = None  # where a seekdb the service starts keeps its data (default INDEX/seekdb)
    seekdb_wait: float = 60.0  # seconds to wait at start for an engine that does not answer yet

    def __post_init__(self):
        if self.name not in BACKENDS:
            raise ValueError(f"{self.name!r} is not a search backend; use one of {', '.join(BACKENDS)}.")


@dataclass(frozen=True)
class Scope:
    """The chunks a search may return.

    `mask` is the exact answer (one bool per chunk row, None for all), which the embedded backend
    applies directly. An engine that cannot take a row mask filters with `doc_ids` (None: every
    report) and `label` in its own query, then drops what the mask forbids (the task-area filter)
    from a deeper candidate list.
    """

    mask: np.ndarray | None = None
    doc_ids: tuple[str, ...] | None = None
    label: str = ""
    exact: bool = True  # False when the mask says more than doc_ids and label (the area filter)

    @property
    def everything(self) -> bool:
        return self.mask is None


class SearchBackend(Protocol):
    """Where a search runs and what it reads: the two rankings a hybrid search fuses (restricted to a
    scope, best first), and the chunk and report records the API shows."""

    name: str

    def lexical(self, tokens: list[str], k: int, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        """Chunk rows and BM25-like scores (positive only) of the k best lexical matches."""

    def dense(self, vector: np.ndarray, k: int, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        """Chunk rows and inner-product scores of the k nearest vectors."""

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        """The chunk records at these table rows, in the order asked (IndexError for a row it does not hold)."""

    def report(self, doc_id: str) -> dict:
        """A report's whole record ({"meta", "original", "sections", "problems", "terms"}); KeyError when unknown."""

    def ping(self) -> bool:
        """Whether it can answer now (the embedded files always can)."""

    def describe(self) -> dict:
        """What /healthz says about it (name, and where it runs)."""


def attach_backend(searcher, folder: Path, choice: BackendChoice) -> None:
    """Give a freshly loaded Searcher the chosen backend: for seekdb, wait for the engine and load the
    generation into it unless it is there already (EngineUnavailable with a sentence when it never answers)."""
    if choice.name == "embedded":
        return
    from indexer.seekdb.generations import engine_config, ensure_loaded, wait_for_engine
    from service.backends.seekdb import SeekdbBackend

    data = choice.seekdb_data or Path(folder).parent.parent / "seekdb"
    config = engine_config(choice.seekdb_address, data)
    wait_for_engine(config, choice.seekdb_wait)
    chunks = ensure_loaded(config, Path(folder))
    searcher.backend = SeekdbBackend(config, Path(folder), chunks)

