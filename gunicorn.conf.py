"""Gunicorn settings for a 2-core machine: 2 preloaded gthread workers of 4 threads, loopback by default."""
import os

from service.workers import LIMIT_REQUEST_LINE, post_fork, worker_exit  # noqa: F401  (gunicorn reads them by name)

# Where to listen: $FAZHI_BIND (host:port) wins; else 127.0.0.1 (or $FAZHI_HOST) on $PORT, default 8000.
bind = os.environ.get("FAZHI_BIND") or f"{os.environ.get('FAZHI_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# One worker per core; threads overlap the I/O-ish parts (JSON, sockets) of requests in one process.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gthread, but a request line or headers too long to read get the API's JSON error, not gunicorn's HTML.
worker_class = "service.workers.JsonErrorWorker"
threads = int(os.environ.get("FAZHI_THREADS", "4"))

# Load the index and the query encoder once in the master, then fork: workers share the pages.
# The full passage model (torch) is loaded there too when uploads are enabled (FAZHI_ADMIN_TOKEN).
preload_app = True

# An upload embeds its passages inside the request; 60 s covers a large report on one core.
timeout = 60
graceful_timeout = 30
keepalive = 5

# Long enough for any query the app accepts (500 Chinese characters percent-encoded are 4.5 kB);
# the app refuses longer ones with a sentence, and the worker answers past this limit in JSON too.
limit_request_line = LIMIT_REQUEST_LINE

# Recycle workers now and then so slow leaks cannot grow without bound; jitter avoids both at once.
max_requests = 5000
max_requests_jitter = 500

worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("FAZHI_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("FAZHI_LOG_LEVEL", "info")

