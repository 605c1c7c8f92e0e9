"""The import journal kept in an index directory: each source file's content hash, doc id and outcome."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.errors import IndexerError
from indexer.near_duplicates import Fingerprint

STATE_FILE = "import-state.json"
STATE_VERSION = 1

# Outcomes kept in the journal (a row's "unchanged" or "re-indexed" is kept as "indexed").
INDEXED = "indexed"
DUPLICATE = "duplicate"
NEAR_DUPLICATE = "near-duplicate"
SKIPPED = "skipped"


class CorruptImportState(IndexerError):
    """The import journal cannot be read."""


@dataclass
class SourceRecord:
    """What the last import did with one source file (key: absolute path, `!/` before an archive member)."""

    sha256: str  # of the raw bytes, as the index's content_sha256
    doc_id: str  # the report's id; kept for duplicates too, so the id stays stable if it is indexed later
    outcome: str
    duplicate_of: str = ""
    similarity: float | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ImportState:
    """Every source file imported into an index, and the fingerprints of the indexed reports."""

    sources: dict[str, SourceRecord] = field(default_factory=dict)
    fingerprints: dict[str, tuple[str, Fingerprint]] = field(default_factory=dict)  # doc_id -> (content sha, print)
    # Reports to take out of the index (doc_id -> content sha), written before the generation
    # that removes them: a crash in between leaves them listed here, and the next run removes them.
    removing: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> ImportState:
        """The journal of the index directory `root`; an empty one if there is none yet."""
        path = Path(root) / STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as error:
            raise CorruptImportState(
                f"The import journal {path} cannot be read ({error}); delete it to import from scratch "
                "(the index itself is not affected)."
            ) from error
        try:
            if raw.get("version") != STATE_VERSION:
                raise ValueError(f"version {raw.get('version')!r}, expected {STATE_VERSION}")
            sources = {key: SourceRecord(**record) for key, record in raw["sources"].items()}
            prints = {doc_id: (entry["sha256"], Fingerprint.from_dict(entry))
                      for doc_id, entry in raw["fingerprints"].items()}
            removing = {str(doc_id): str(sha) for doc_id, sha in raw["removing"].items()}
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise CorruptImportState(
                f"The import journal {path} is not in the expected form ({error}); delete it to import "
                "from scratch (the index itself is not affected)."
            ) from error
        return cls(sources, prints, removing)

    def save(self, root: Path) -> None:
        """Write the journal atomically: a crash leaves the previous or the new one, never half of one."""
        path = Path(root) / STATE_FILE
        data = {
            "version": STATE_VERSION,
            "sources": {key: record.to_dict() for key, record in sorted(self.sources.items())},
            "fingerprints": {doc_id: {"sha256": sha, **print_.to_dict()}
                             for doc_id, (sha, print_) in sorted(self.fingerprints.items())},
            "removing": dict(sorted(self.removing.items())),
        }
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, indent=0)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError as error:
            temporary.unlink(missing_ok=True)
            raise IndexerError(f"Could not write the import journal {path}: {error.strerror or error}.") from error
