"""Load benchmark: N concurrent clients of mixed requests against the service on loopback, optionally adding a report midway.

    python bench/load.py                      # start gunicorn (gunicorn.conf.py) on a copy of the index, 32 clients, 20 s
    python bench/load.py --index /tmp/idx     # reuse an index built with the bundled model (copied, never changed)
    python bench/load.py --add-during         # run `python -m indexer add` midway and check the report becomes searchable
    python bench/load.py --url http://127.0.0.1:8000   # a service that is already running (loopback only)
    python bench/load.py --variant old:FAZHI_SHARE_ANSWERS=0 --variant new:   # settings side by side, one run each

Prints throughput, p50/p95/p99 latency per kind of request and the error count.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
DEFAULT_ADD = ROOT.parent / "shared" / "ext" / "prov31-gwr" / "2025年吉林省政府工作报告.docx"
MIX = (("search", 0.60), ("ask", 0.25), ("pages", 0.15))
LOOPBACK = ("127.", "localhost", "[::1]")


@dataclass(frozen=True)
class Sample:
    """One request as the client saw it."""

    kind: str
    started: float  # seconds since the load began
    seconds: float
    status: int  # 0 when the connection failed
    error: str = ""


def questions() -> tuple[list[str], list[str]]:
    """Real Chinese search queries and questions from the benchmark data."""
    search = [json.loads(line)["q"] for line in (DATA / "search_cases.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    which = [json.loads(line)["q"] for line in (DATA / "which_seeds.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    search += ["行政复议", "容缺受理", "法治宣传教育", "行政执法监督", "矛盾纠纷多元化解", "合法性审核", "法律顾问"]
    return search, which + search[:5]


class Client(threading.Thread):
    """One client: a keep-alive connection sending requests back to back until told to stop."""

    def __init__(self, host: str, port: int, seed: int, plan: "Plan", stop: threading.Event, t0: float):
        super().__init__(daemon=True)
        self.host, self.port, self.plan, self.stop, self.t0 = host, port, plan, stop, t0
        self.rng = random.Random(seed)
        self.samples: list[Sample] = []
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            raise

    def run(self) -> None:
        while not self.stop.is_set():
            kind, method, path, body = self.plan.pick(self.rng)
            started = time.perf_counter()
            try:
                status, _ = self.request(method, path, body)
                error = "" if status == 200 else f"HTTP {status} {path[:60]}"
            except (OSError, http.client.HTTPException) as exc:
                status, error = 0, f"{type(exc).__name__}: {exc}"
            self.samples.append(Sample(kind, started - self.t0, time.perf_counter() - started, status, error))
        if self.connection is not None:
            self.connection.close()


class Plan:
    """The request mix: search 60 %, ask 25 %, report pages and listings 15 %."""

    def __init__(self, doc_ids: list[str]):
        self.search, self.ask = questions()
        self.doc_ids = doc_ids

    def pick(self, rng: random.Random) -> tuple[str, str, str, bytes | None]:
        roll, kind = rng.random(), MIX[-1][0]
        for name, share in MIX:
            if roll < share:
                kind = name
                break
            roll -= share
        if kind == "search":
            q = urllib.parse.quote(rng.choice(self.search))
            return kind, "GET", f"/api/search?q={q}&k=10", None
        if kind == "ask":
            body = json.dumps({"question": rng.choice(self.ask)}, ensure_ascii=False).encode("utf-8")
            return kind, "POST", "/api/ask", body
        doc_id = urllib.parse.quote(rng.choice(self.doc_ids))
        path = rng.choice(["/api/reports", f"/api/reports/{doc_id}", f"/reports/{doc_id}", "/api/filters", "/reports"])
        return kind, "GET", path, None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def table(samples: list[Sample], seconds: float, title: str) -> list[str]:
    """Throughput and p50/p95/p99 per kind, in milliseconds."""
    lines = [f"{title}: {len(samples)} requests in {seconds:.1f} s = {len(samples) / max(seconds, 1e-9):.1f} req/s, "
             f"errors {sum(1 for s in samples if s.error)}",
             f"  {'kind':<8}{'n':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"]
    for kind in [k for k, _ in MIX] + ["all"]:
        chosen = [s.seconds * 1000 for s in samples if kind in ("all", s.kind)]
        if chosen:
            lines.append(f"  {kind:<8}{len(chosen):>7}{len(chosen) / seconds:>8.1f}{percentile(chosen, .50):>9.1f}"
                         f"{percentile(chosen, .95):>9.1f}{percentile(chosen, .99):>9.1f}{max(chosen):>9.1f}")
    return lines


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(host: str, port: int, path: str, timeout: float = 10.0) -> tuple[int, dict]:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def prepare_index(work: Path, source: Path | None, python: str) -> Path:
    """A private index: a copy of `source`, or a fresh build of corpus/ with the bundled model."""
    index = work / "index"
    if source is not None:
        shutil.copytree(source, index, symlinks=True)
        (index / ".write.lock").unlink(missing_ok=True)
        return index
    print("building the index of corpus/ with the bundled model ...", file=sys.stderr, flush=True)
    subprocess.run([python, "-m", "indexer", "--index", str(index), "build", "--corpus", str(ROOT / "corpus")],
                   cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    return index


def start_server(index: Path, corpus: Path, port: int, log: Path, app: str = "service:create_app()",
                 settings: dict[str, str] | None = None) -> subprocess.Popen:
    """gunicorn with the repository's gunicorn.conf.py, as the Procfile runs it (plus `settings` in its environment)."""
    env = {**os.environ, **(settings or {}), "PORT": str(port), "FAZHI_INDEX_DIR": str(index),
           "FAZHI_CORPUS_DIR": str(corpus), "FAZHI_BIND": f"127.0.0.1:{port}"}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    return subprocess.Popen([gunicorn, "--config", "gunicorn.conf.py", app], cwd=ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(host: str, port: int, process: subprocess.Popen | None, limit: float = 180.0) -> dict:
    deadline = time.monotonic() + limit
    while True:
        try:
            status, body = _get_json(host, port, "/healthz", timeout=3)
            if status == 200:
                return body
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise SystemExit(f"the service exited with status {process.returncode} before answering")
        if time.monotonic() > deadline:
            raise SystemExit(f"the service did not answer /healthz within {limit:.0f} s")
        time.sleep(0.3)


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


class Adder(threading.Thread):
    """Runs `python -m indexer --index DIR add FILE` and then waits for the report to become searchable."""

    def __init__(self, python: str, index: Path, path: Path, host: str, port: int, t0: float):
        super().__init__(daemon=True)
        self.python, self.index, self.path, self.host, self.port, self.t0 = python, index, path, host, port, t0
        self.started = self.finished = self.searchable = None
        self.returncode: int | None = None
        self.output = ""

    def run(self) -> None:
        self.started = time.perf_counter() - self.t0
        result = subprocess.run([self.python, "-m", "indexer", "--index", str(self.index), "--json", "add", str(self.path)],
                                cwd=ROOT, capture_output=True, text=True, timeout=600)
        self.finished = time.perf_counter() - self.t0
        self.returncode, self.output = result.returncode, (result.stdout or result.stderr)[-2000:]
        if result.returncode != 0:
            return
        added = json.loads(result.stdout)["added"]
        if not added:
            return
        issuer = added[0]["issuer"] or ""
        query = urllib.parse.urlencode({"q": issuer or self.path.stem, "issuer": issuer, "k": 3})
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline:
            status, body = _get_json(self.host, self.port, f"/api/search?{query}")
            if status == 200 and any(r["doc_id"] == added[0]["doc_id"] for r in body.get("results", [])):
                self.searchable = time.perf_counter() - self.t0
                return
            time.sleep(0.1)


def run_load(host: str, port: int, clients: int, seconds: float, adder_factory=None) -> tuple[list[Sample], float, "Adder | None"]:
    """Drive the clients for `seconds` (longer while an add is still running, at most 4x) and collect samples."""
    _, listing = _get_json(host, port, "/api/reports")
    plan = Plan([r["doc_id"] for r in listing["reports"]])
    stop = threading.Event()
    # warm-up: every kind once, so first-request costs (lazy imports, caches) are not measured
    warm = Client(host, port, 0, plan, stop, time.perf_counter())
    for _ in range(10):
        warm.request(*plan.pick(warm.rng)[1:])
    t0 = time.perf_counter()
    workers = [Client(host, port, seed, plan, stop, t0) for seed in range(1, clients + 1)]
    for worker in workers:
        worker.start()
    adder = None
    if adder_factory is not None:
        time.sleep(seconds / 3)
        adder = adder_factory(t0)
        adder.start()
    end = t0 + seconds
    while time.perf_counter() < end or (adder is not None and adder.is_alive() and time.perf_counter() < t0 + 4 * seconds):
        time.sleep(0.1)
    stop.set()
    elapsed = time.perf_counter() - t0
    for worker in workers:
        worker.join(60)
    return [s for w in workers for s in w.samples], elapsed, adder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running service on loopback (default: start one)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--index", type=Path, help="an index built with the bundled model, copied before use")
    parser.add_argument("--add-during", action="store_true", help="add a report with the CLI in the middle of the load")
    parser.add_argument("--add-file", type=Path, default=DEFAULT_ADD)
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument("--app", default="service:create_app()", help="the WSGI app gunicorn loads (to compare variants)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:VAR=VALUE,...",
                        help="run the load once per variant, gunicorn started with these environment settings "
                             "(e.g. 'old:FAZHI_SHARE_ANSWERS=0'), one after the other, and print them side by side")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients and --seconds must be positive")
    if args.variant:
        if args.url or args.add_during:
            parser.error("--variant starts its own services; it goes with neither --url nor --add-during")
        return compare_variants(args, [parse_variant(v, parser) for v in args.variant])
    return run_once(args, parser)[0]


def parse_variant(text: str, parser) -> tuple[str, dict[str, str]]:
    name, _, assignments = text.partition(":")
    settings = {}
    for item in filter(None, assignments.split(",")):
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            parser.error(f"--variant {text!r}: each setting must read VAR=VALUE")
        settings[key.strip()] = value.strip()
    return name.strip() or text, settings


def compare_variants(args, variants: list[tuple[str, dict[str, str]]]) -> int:
    """Each variant's run in turn, then one table of them all."""
    rows, ok = [], True
    for name, settings in variants:
        print(f"== {name}: {' '.join(f'{k}={v}' for k, v in settings.items()) or '(defaults)'}", flush=True)
        status, figures = run_once(args, None, settings)
        ok = status == 0 and ok
        rows.append((name, figures))
    print(f"\n{args.clients} clients, {args.seconds:g} s each, one after the other:")
    print(f"  {'variant':<14} {'req/s':>7} {'search p50/p95 ms':>19} {'ask p50/p95 ms':>17} {'errors':>6}")
    for name, f in rows:
        rate = f["requests"] / max(f["seconds"], 1e-9)
        print(f"  {name:<14} {rate:7.1f} {f['search']['p50']:8.1f} / {f['search']['p95']:7.1f} "
              f"{f['ask']['p50']:7.1f} / {f['ask']['p95']:7.1f} {f['errors']:6d}")
    return 0 if ok else 1


def run_once(args, parser, settings: dict[str, str] | None = None) -> tuple[int, dict]:
    """One load run (gunicorn started with `settings` in its environment unless --url): exit status and figures."""
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="fazhi-load-"))
    process = None
    try:
        if args.url:
            url = urllib.parse.urlsplit(args.url)
            if not (url.hostname or "").startswith(LOOPBACK[:2]) and url.hostname != "::1":
                parser.error("--url must point at a loopback address (127.0.0.0/8, localhost or [::1])")
            if args.add_during and not args.index:
                parser.error("--add-during with --url needs --index, the running service's index directory")
            host, port, index = url.hostname, url.port or 80, args.index
        else:
            index = prepare_index(work, args.index, python)
            corpus = Path(shutil.copytree(ROOT / "corpus", work / "corpus"))
            host, port = "127.0.0.1", _free_port()
            started = time.perf_counter()
            process = start_server(index, corpus, port, work / "gunicorn.log", args.app, settings)
            health = wait_ready(host, port, process)
            print(f"gunicorn up in {time.perf_counter() - started:.1f} s on {host}:{port}: "
                  f"{health['reports']} reports, {health['chunks']} chunks, model {health['model']}", flush=True)
        factory = None
        if args.add_during:
            factory = lambda t0: Adder(python, index, args.add_file, host, port, t0)  # noqa: E731
        samples, elapsed, adder = run_load(host, port, args.clients, args.seconds, factory)
        lines = table(samples, elapsed, f"{args.clients} clients")
        figures = {"clients": args.clients, "seconds": round(elapsed, 1), "requests": len(samples),
                   "errors": sum(1 for s in samples if s.error)}
        for kind in [k for k, _ in MIX]:
            chosen = [s.seconds * 1000 for s in samples if s.kind == kind]
            figures[kind] = {"n": len(chosen), "p50": round(percentile(chosen, .5), 1),
                             "p95": round(percentile(chosen, .95), 1), "p99": round(percentile(chosen, .99), 1)}
        if adder is not None:
            adder.join(600)
            end = adder.finished if adder.finished is not None else elapsed
            window = [s for s in samples if adder.started <= s.started <= end]
            lines.append("")
            lines += table(window, max(end - adder.started, 1e-9),
                           f"during `indexer add` ({adder.started:.1f}-{end:.1f} s)")
            lines.append(f"indexer add exit status {adder.returncode}; the new report searchable "
                         + (f"{adder.searchable - adder.finished:.2f} s after the add finished"
                            if adder.searchable is not None else "NOT within 30 s"))
            figures["add"] = {"exit": adder.returncode, "window_errors": sum(1 for s in window if s.error),
                              "window_requests": len(window),
                              "searchable_after_s": None if adder.searchable is None else round(adder.searchable - adder.finished, 2)}
            if adder.returncode != 0:
                lines.append(adder.output)
        errors = [s.error for s in samples if s.error]
        if errors:
            lines.append("first errors: " + "; ".join(sorted(set(errors))[:5]))
        print("\n".join(lines))
        if args.json:
            print(json.dumps(figures, ensure_ascii=False))
        ok = not errors and (adder is None or (adder.returncode == 0 and adder.searchable is not None))
        return (0 if ok else 1), figures
    finally:
        if process is not None:
            stop_server(process)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
