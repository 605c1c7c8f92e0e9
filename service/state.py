"""The service's view of the index: one Searcher at a time, swapped when a new generation appears."""
from __future__ import annotations

import threading
from pathlib import Path

from indexer.embed import Embedder
from indexer.store import current_generation
from service.answer import Answerer
from service.answer.answer_cache import DEFAULT_SIZE
from service.answer.shared_answers import SharedAnswers
from service.answer_process import AnswerProcess
from service.areas import area_tags
from service.backends import BackendChoice, attach_backend
from service.checkup import checkups
from service.indicators import figures_of
from service.search import Searcher


# The workbench's corpus-wide tables (task-area tags, check-ups, figures) take about 6 s per 10k chunks
# together: computed before serving up to this size, on first use beyond it. (Not in a thread: the app
# loads before gunicorn forks, and a lock held across the fork would stay held in the workers.)
WARM_WORKBENCH_CHUNKS = 50_000


def _warm_up(answerer: Answerer) -> None:
    """Answer one question before serving, so lazy loading does not land on the first user."""
    if len(answerer.searcher.chunks):
        answerer.answer("哪些地方推行法治宣传？")
    if len(answerer.searcher.chunks) <= WARM_WORKBENCH_CHUNKS:
        area_tags(answerer.searcher)
        checkups(answerer.searcher)
        figures_of(answerer.searcher)


class IndexHolder:
    """Holds the current Searcher; reloads it when the index directory's `current` moves.

    Requests take a reference to the Searcher once and use it to the end, so a swap in the
    middle of a request never mixes two generations.
    """

    def __init__(self, root: Path, embedder: Embedder, verify: bool = True, answer_cache: int = DEFAULT_SIZE,
                 backend: BackendChoice = BackendChoice(), answers_at_once: int = 0):
        self.root = root
        # One gate for every generation: a swap must not let a second batch of answers in.
        self.answer_gate = threading.BoundedSemaphore(answers_at_once) if answers_at_once > 0 else None
        self.embedder = embedder
        self.backend = backend
        self.verify = verify
        self.answer_cache = answer_cache
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._answerer: Answerer | None = None
        self._loaded_from: Path | None = None
        self._failed: Path | None = None  # a generation that could not be loaded; not retried
        # Set in each web worker by service.workers.post_fork: answers are computed there.
        self.answer_process: AnswerProcess | None = None
        self.shares_answers = False  # set by share_answers(), in each web worker
        self.reload()

    def reload(self) -> bool:
        """Load the current generation if it differs from the one in service; True if swapped."""
        folder = current_generation(self.root)
        if folder is None:
            from indexer.errors import IndexerError

            raise IndexerError(f"There is no index in {self.root}; build one with `python -m indexer build`.")
        folder = folder.resolve()
        if folder == self._loaded_from:
            return False
        with self._lock:
            if folder == self._loaded_from:
                return False
            searcher = Searcher.load(folder, self.embedder, verify=self.verify)
            attach_backend(searcher, folder, self.backend)
            answerer = Answerer(searcher, self.answer_cache, self.answer_gate, remote=self._remote(folder))
            if self.shares_answers:
                answerer.shared = SharedAnswers.for_generation(self.root, folder)
            _warm_up(answerer)
            self._searcher, self._answerer, self._loaded_from = searcher, answerer, folder
        return True

    def share_answers(self) -> None:
        """From now on, answers are shared with the other workers through a folder beside the index."""
        with self._lock:
            self.shares_answers = True
            if self._answerer is not None and self._loaded_from is not None:
                self._answerer.shared = SharedAnswers.for_generation(self.root, self._loaded_from)

    def _remote(self, folder: Path):
        """Answers of this generation computed in the answer process, when this worker has one."""
        def compute(question, filters, resolved, exclude):
            process = self.answer_process
            return process.compute(folder, question, filters, resolved, exclude) if process is not None else None
        return compute

    @property
    def loaded_from(self) -> Path | None:
        """The generation folder in service."""
        return self._loaded_from

    def maybe_reload(self) -> None:
        """Cheap check (one readlink) for a newer generation; load it if there is one.

        A generation that failed to load (corrupt, other model) is remembered and not
        re-checked on every request; the one in service keeps answering.
        """
        folder = current_generation(self.root)
        if folder is None:
            return
        folder = folder.resolve()
        if folder == self._loaded_from or folder == self._failed:
            return
        try:
            self.reload()
        except Exception:
            self._failed = folder
            raise

    @property
    def searcher(self) -> Searcher:
        assert self._searcher is not None
        return self._searcher

    @property
    def answerer(self) -> Answerer:
        assert self._answerer is not None
        return self._answerer

    def pair(self) -> tuple[Searcher, Answerer]:
        """The Searcher and Answerer of one generation, taken together."""
        with self._lock:
            return self._searcher, self._answerer  # type: ignore[return-value]
