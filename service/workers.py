"""Gunicorn worker hooks and worker class shared by gunicorn.conf.py (Procfile) and `python -m service` (make run)."""
from __future__ import annotations

import json
import logging
import os
import sys

from gunicorn import util
from gunicorn.http.errors import InvalidRequestLine, LimitRequestHeaders, LimitRequestLine, ParseException
from gunicorn.workers.gthread import ThreadWorker

# Gunicorn's own ceiling (its default is 4094). A query of the 500 characters the API allows
# is up to 4.5 kB once its Chinese is percent-encoded, which the default refused as HTML.
LIMIT_REQUEST_LINE = 8190


# How long a thread may hold the interpreter lock while another waits for it, in seconds
# (Python's default is 0.005): a search waiting behind an answer's pure-Python loops gets in sooner.
SWITCH_INTERVAL = float(os.environ.get("FAZHI_SWITCH_INTERVAL", "0.001"))


def post_fork(server, worker) -> None:
    """One compute thread per request thread: torch, FAISS's OpenMP and numpy's BLAS each default
    to a pool per core, and with 2 workers x 4 request threads on 2 cores those pools spin against
    each other (a 2 ms search took 130 ms at the median under 32 clients)."""
    limit_compute_threads()
    sys.setswitchinterval(SWITCH_INTERVAL)
    set_up_answers(worker)


def set_up_answers(worker) -> None:
    """Share answers with the other workers (SHARE_ANSWERS, service/answer/shared_answers.py) and
    fork the worker's answer process (ANSWER_PROCESS, service/answer_process.py).

    Here, in post_fork, the worker has no threads yet: the fork copies no lock held. No answer
    process with the seekdb backend: its connection to the engine would be shared by two processes."""
    app = worker.app.wsgi()  # the app loaded in the master (preload), else loaded now, as the worker would
    holder = app.extensions.get("fazhi")
    if holder is None:
        return
    if app.config["SHARE_ANSWERS"]:
        holder.share_answers()
    if not app.config["ANSWER_PROCESS"] or holder.backend.name != "embedded":
        return
    from service.answer_process import AnswerProcess

    holder.answer_process = AnswerProcess(holder, int(app.config["ANSWER_NICENESS"]),
                                          close_in_child=getattr(worker, "sockets", ()),
                                          on_lost=lambda: setattr(worker, "alive", False))


def limit_compute_threads() -> None:
    torch = sys.modules.get("torch")  # only when the app loaded it; the fake embedder does not
    if torch is not None:
        torch.set_num_threads(1)
    faiss = sys.modules.get("faiss")
    if faiss is not None:
        faiss.omp_set_num_threads(1)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


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


def oversize_refusal(error: Exception) -> tuple[int, str, str, str] | None:
    """Status, reason, code and sentence for a request gunicorn refuses before the app sees it
    (too long, or not valid HTTP); else None."""
    if isinstance(error, LimitRequestLine):
        return 414, "URI Too Long", "uri_too_long", (
            f"The request's address is longer than the {LIMIT_REQUEST_LINE} bytes the service reads; "
            "a query or question is at most 500 characters, and /api/ask and /api/ask.csv also take it "
            "by POST as a JSON body.")
    if isinstance(error, LimitRequestHeaders):
        return 431, "Request Header Fields Too Large", "headers_too_large", (
            "The request's headers are larger than the service reads; send fewer or shorter headers.")
    if isinstance(error, InvalidRequestLine):
        return 400, "Bad Request", "bad_request_line", (
            "The request line is not valid HTTP; an address must be ASCII, so percent-encode Chinese "
            "in it (a browser does; with curl use -G --data-urlencode 'q=商圈微法庭').")
    if isinstance(error, ParseException):
        return 400, "Bad Request", "bad_request", f"The request is not valid HTTP ({type(error).__name__}); it was not read."
    return None


class JsonErrorWorker(ThreadWorker):
    """The gthread worker, answering a request gunicorn cannot read (too long, not valid HTTP,
    Chinese not percent-encoded) with the API's JSON error instead of HTML.

    Gunicorn refuses such a request before the app sees it; every other error is gunicorn's own.
    """

    def handle_error(self, req, client, addr, exc):
        refusal = oversize_refusal(exc)
        if refusal is None:
            return super().handle_error(req, client, addr, exc)
        status, reason, code, message = refusal
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        body = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")
        head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
        try:
            util.write_nonblock(client, head + body)
        except OSError:
            self.log.debug("Failed to send the error response.")
        return None
