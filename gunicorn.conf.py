"""Gunicorn settings for a 2-core machine: 2 preloaded gthread workers of 4 threads, loopback by default."""
import os
import sys

# Where to listen: $FAZHI_BIND (host:port) wins; else 127.0.0.1 (or $FAZHI_HOST) on $PORT, default 8000.
bind = os.environ.get("FAZHI_BIND") or f"{os.environ.get('FAZHI_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# One worker per core; threads overlap the I/O-ish parts (JSON, sockets) of requests in one process.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("FAZHI_THREADS", "4"))

# Load the index and the embedding model once in the master, then fork: workers share the pages.
preload_app = True

# An upload embeds its passages inside the request; 60 s covers a large report on one core.
timeout = 60
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then so slow leaks cannot grow without bound; jitter avoids both at once.
max_requests = 5000
max_requests_jitter = 500

worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("FAZHI_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("FAZHI_LOG_LEVEL", "info")


def post_fork(server, worker):
    """Keep torch to one intra-op thread per worker: two workers on two cores must not oversubscribe."""
    torch = sys.modules.get("torch")  # only when the app loaded it; the fake embedder does not
    if torch is not None:
        torch.set_num_threads(1)
