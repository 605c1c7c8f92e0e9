"""Answers computed in a child process of each web worker, at a lower CPU priority.

An answer scans the whole corpus (tens to hundreds of milliseconds of Python and numpy); a
search takes a few. Computed in the worker's own threads, answers hold the interpreter lock
and both cores, and every search waits behind them. Here each worker forks one answer
process right after gunicorn forks the worker (before the worker starts its threads, so no
lock is copied held), at `nice` +ANSWER_NICENESS (the app's setting): the kernel gives the searches of the
worker the cores first, and answers take what is left, one at a time per worker.

The child is a copy of the worker: the same index pages (shared, not copied), the same query
encoder. It follows the worker to a new index generation by the same check the worker makes.
Whatever goes wrong on the way (the child killed, a reply that cannot be read, an error
inside it, a generation it cannot load yet), the worker computes that answer itself, as it
did before this module existed, so the user gets the same answer either way; a worker whose
child has died retires, and gunicorn starts a new worker with a new child.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from service.answer.records import Answer
from service.search import Filters

if TYPE_CHECKING:
    from service.state import IndexHolder

log = logging.getLogger(__name__)

READY_SECONDS = 10.0
# Handlers the worker inherited from gunicorn's master: the child acts on none of them.
_RESET_SIGNALS = ("SIGHUP", "SIGQUIT", "SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCHLD",
                  "SIGTTIN", "SIGTTOU")


class AnswerProcess:
    """The worker's end: sends one question at a time to the child and reads its answer."""

    def __init__(self, holder: "IndexHolder", niceness: int, close_in_child: Iterable = (),
                 on_lost: Callable[[], None] | None = None):
        """`on_lost` is called once if the child dies: the web worker then retires (gunicorn starts a
        fresh worker, with a fresh child), answering what it has in hand by itself."""
        self._on_lost = on_lost
        context = multiprocessing.get_context("fork")
        self._conn, child_end = context.Pipe()
        self.process = context.Process(target=_serve, args=(holder, child_end, self._conn, niceness, tuple(close_in_child)),
                                       name="fazhi-answers", daemon=True)
        self.process.start()
        child_end.close()
        self._lock = threading.Lock()
        self._stopped = False
        # The child says when it has set itself up; until then (or if it never does) nothing is sent.
        try:
            ready = self._conn.poll(READY_SECONDS) and self._conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:  # answered in the worker; not retired for it, or a worker would be started again and again
            self._stopped = True
            log.warning("The answer process %s did not start; this worker answers by itself.", self.pid)
            self.process.kill()
            self.process.join(timeout=5)

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def alive(self) -> bool:
        """Whether answers still go to the child (checking reaps it when it has died)."""
        return not self._stopped and self.process.is_alive()

    def _give_up(self, why: str) -> None:
        self._stopped = True
        log.warning("The answer process %s stopped (%s); this worker answers by itself until it is replaced.",
                    self.pid, why)
        self.process.join(timeout=0)  # reap it if it is gone
        if self._on_lost is not None:
            self._on_lost()

    def compute(self, folder: Path, question: str, filters: Filters, resolved: str,
                exclude: tuple[str, ...]) -> Answer | None:
        """The child's answer for this generation, or None when the caller must compute it."""
        with self._lock:
            if self._stopped:
                return None
            if not self.process.is_alive():
                self._give_up(f"exit code {self.process.exitcode}")
                return None
            try:
                self._conn.send((str(folder), question, filters, resolved, exclude))
                status, payload = self._conn.recv()
            except (EOFError, OSError, ValueError, TypeError, AttributeError) as error:
                # Killed while answering, or a reply that would not unpickle.
                self._give_up(type(error).__name__)
                return None
        if status == "ok":
            return payload
        if status == "error":
            log.warning("The answer process failed on %r (%s); the worker answers it.", resolved, payload)
        return None  # "stale": the child has not got this generation

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


def _serve(holder: "IndexHolder", conn, parent_end, niceness: int, close_in_child: tuple) -> None:
    """The child's loop: one question in, one answer out, until the worker's end closes."""
    parent_end.close()
    for sock in close_in_child:  # the listening sockets: only the worker accepts connections
        try:
            sock.close()
        except OSError:
            pass
    for name in _RESET_SIGNALS:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    holder.answer_process = None  # the child computes; it never forwards
    holder.shares_answers = False  # nor shares: its worker does that with what it sends back
    if niceness:
        os.nice(niceness)
    conn.send("ready")
    while True:
        try:
            folder, question, filters, resolved, exclude = conn.recv()
        except (EOFError, OSError):
            break  # the worker is gone
        reply = _answer(holder, Path(folder), question, filters, resolved, exclude)
        try:
            try:
                conn.send(reply)
            except (pickle.PicklingError, TypeError, AttributeError) as error:  # an answer that cannot travel
                conn.send(("error", f"{type(error).__name__}: {error}"))
        except (EOFError, OSError):
            break
    conn.close()


def _answer(holder: "IndexHolder", folder: Path, question: str, filters: Filters, resolved: str,
            exclude: tuple[str, ...]) -> tuple[str, object]:
    try:
        holder.maybe_reload()
        _, answerer = holder.pair()
        if holder.loaded_from != folder:
            return "stale", None
        return "ok", answerer.compute(question, filters, resolved, exclude)
    except Exception as error:  # the worker computes it and shows the error as it always has
        return "error", f"{type(error).__name__}: {error}"
