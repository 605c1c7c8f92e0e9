"""Answers shared by the web workers of one machine: each question is computed once per generation.

Every gunicorn worker keeps its own AnswerCache; without this, two workers each compute the
same popular question, and right after a start or a new generation every cold question costs
twice. Here an answer computed by one worker is written to a folder beside the index (one file
per question, written to a temporary name and renamed, so a reader never sees half of one), and
a lock file per question makes a worker that asks while another computes it wait for that
answer instead of computing it too.

The folder belongs to the service (mode 0700 in a folder only it writes, next to its index), and
only this module writes there; its files are pickles of Answer records. A generation's answers
live as long as the generation does: they are removed once the store has pruned that generation,
never while another worker may still be serving it (workers switch one by one). Any failure to
read or write (a full disk, a read-only index folder) leaves the answer to be computed as if the
folder did not exist.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import pickle
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from service.answer.records import Answer

log = logging.getLogger(__name__)

FOLDER = "answers"  # under the index root: answers/<generation>/


class SharedAnswers:
    """One generation's answers on disk, with a lock per question."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    @classmethod
    def for_generation(cls, root: Path, generation: Path) -> "SharedAnswers | None":
        """The shared answers of a generation; None when the index folder takes no writes."""
        base = root / FOLDER
        try:
            base.mkdir(exist_ok=True, mode=0o700)
            for other in base.iterdir():  # answers of generations the store has pruned
                if other.is_dir() and not (generation.parent / other.name).is_dir():
                    shutil.rmtree(other, ignore_errors=True)
            return cls(base / generation.name)
        except OSError as error:
            log.warning("Answers are not shared between workers: %s cannot be written (%s).", base, error)
            return None

    def _path(self, key: str, suffix: str) -> Path:
        return self.folder / (hashlib.sha256(key.encode("utf-8")).hexdigest()[:40] + suffix)

    def get(self, key: str) -> Answer | None:
        try:
            with self._path(key, ".pickle").open("rb") as handle:
                answer = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
            return None
        return answer if isinstance(answer, Answer) else None

    def put(self, key: str, answer: Answer) -> None:
        try:
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(handle, "wb") as out:
                pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self._path(key, ".pickle"))
        except (OSError, pickle.PicklingError, TypeError) as error:
            log.warning("An answer could not be shared between workers (%s).", error)

    @contextmanager
    def computing(self, key: str):
        """Held while one process computes the answer to `key`; others asking for it wait here."""
        try:
            handle = self._path(key, ".lock").open("ab")
        except OSError:
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
