"""Gunicorn worker hooks shared by gunicorn.conf.py (Procfile) and `python -m service` (make run)."""
from __future__ import annotations

import logging
import os
import sys


def post_fork(server, worker) -> None:
    """Keep torch to one intra-op thread per worker: two workers on two cores must not oversubscribe."""
    torch = sys.modules.get("torch")  # only when the app loaded it; the fake embedder does not
    if torch is not None:
        torch.set_num_threads(1)


def worker_exit(server, worker) -> None:
    """Leave at once with the worker's exit status, skipping C++ destructors.

    ONNX Runtime is initialised in the master before the fork; at exit its static destructors
    wait on condition variables of threads that only the master has, so a worker that exits
    normally hangs for ever (or aborts). Nothing is left to clean up here: gunicorn has closed
    the worker's files, and the log lines are flushed below.
    """
    error = sys.exc_info()[1]  # gunicorn calls this hook while the worker's SystemExit unwinds
    code = error.code if isinstance(error, SystemExit) and isinstance(error.code, int) else 0
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
