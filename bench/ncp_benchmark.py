"""External retrieval benchmark: the NCP government-affairs QA set (599 documents, 1,262 questions).

    .venv/bin/python bench/ncp_benchmark.py [--limit-docs N] [--rrf-study]

Each document is written as a .txt file (title line, then text) named by its id and indexed
through the normal indexer; every question then runs through BM25 only, dense only, hybrid
(Searcher.search, k=50) and a generic baseline (fixed 500-character windows with 100 overlap,
dense only, same embedder). Figures are document-level: a document's rank is the rank of its
first chunk in the result list deduplicated by document; hit@5 and MRR@10 over all questions.
The built index and the baseline vectors are cached under .cache/bench/ keyed by a hash of
the corpus and the model (and the index also by the embedder input version), so reruns only search.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.build import build_index  # noqa: E402
from indexer.normalize import normalize  # noqa: E402
from indexer.pipeline import EMBED_INPUT_VERSION  # noqa: E402
from indexer.store import current_generation  # noqa: E402
from service.fusion import reciprocal_rank_fusion  # noqa: E402
from service.search import Searcher  # noqa: E402

NCP = ROOT.parent / "shared" / "ext" / "ncp-govqa"
CACHE = ROOT / ".cache" / "bench"
K = 50
WINDOW, OVERLAP = 500, 100


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_ncp(folder: Path = NCP, limit_docs: int | None = None) -> tuple[list[dict], list[dict], dict[str, set[str]]]:
    """Documents, the questions with a relevant document among them, and qrels (query id -> doc ids)."""
    docs = load_jsonl(folder / "corpus.jsonl")
    if limit_docs:
        docs = docs[:limit_docs]
    doc_ids = {d["_id"] for d in docs}
    qrels: dict[str, set[str]] = {}
    for line in (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, did, score = line.split("\t")
        if float(score) > 0 and did in doc_ids:
            qrels.setdefault(qid, set()).add(did)
    queries = [q for q in load_jsonl(folder / "queries.jsonl") if q["_id"] in qrels]
    return docs, queries, qrels


def doc_text(doc: dict) -> str:
    """What the indexer and the baseline read for a document: its title line, then its text."""
    return f"{doc['title']}\n{doc['text']}\n"


def corpus_key(docs: list[dict], model: str) -> str:
    digest = hashlib.sha256(model.encode("utf-8"))
    for doc in docs:
        digest.update(doc["_id"].encode("utf-8") + b"\x00" + doc_text(doc).encode("utf-8"))
    return digest.hexdigest()[:16]


def _progress(items, label, total):
    step = max(1, total // 10)
    started = time.monotonic()
    for i, item in enumerate(items):
        if i % step == 0 and total > 50:
            print(f"      {label} {i}/{total} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
        yield item


def ensure_index(docs: list[dict], embedder, key: str) -> tuple[Path, float | None]:
    """The cached index of these documents, built with the normal indexer when missing."""
    # What the embedder reads is part of the index's name: a change to it changes every vector,
    # and an index cached before it would otherwise be reused silently.
    root = CACHE / f"ncp-index-{key}-e{EMBED_INPUT_VERSION}"
    if current_generation(root) is not None:
        return current_generation(root), None
    corpus = Path(tempfile.mkdtemp(prefix="ncp-corpus-"))
    try:
        for doc in docs:
            (corpus / f"{doc['_id']}.txt").write_text(doc_text(doc), encoding="utf-8")
        started = time.monotonic()
        summary = build_index(corpus, root, embedder, progress=_progress)
        seconds = time.monotonic() - started
    finally:
        shutil.rmtree(corpus, ignore_errors=True)
    for line in summary.lines()[:1] + [f"  skipped {len(summary.skipped)} files"]:
        print("   " + line)
    return current_generation(root), seconds


def baseline_windows(docs: list[dict]) -> list[tuple[str, str]]:
    """Fixed windows of WINDOW characters, stepping WINDOW - OVERLAP, over each document's raw text."""
    windows = []
    for doc in docs:
        text = doc_text(doc)
        for start in range(0, max(len(text) - OVERLAP, 1), WINDOW - OVERLAP):
            windows.append((doc["_id"], text[start : start + WINDOW]))
    return windows


def baseline_vectors(windows: list[tuple[str, str]], embedder, key: str) -> tuple[np.ndarray, float | None]:
    path = CACHE / f"ncp-baseline-{key}.npy"
    if path.exists():
        vectors = np.load(path)
        if len(vectors) == len(windows):
            return vectors, None
    started = time.monotonic()
    vectors = embedder.embed_passages([w for _, w in windows], batch_size=16)
    seconds = time.monotonic() - started
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors, seconds


class QueryCache:
    """The embedder with its query vectors computed once, in batches, and kept on disk.

    Searcher.search embeds the query itself; three retrievers and the RRF study would embed
    each of 1,262 questions four times, so the vectors are computed once up front. Batched
    vectors differ from one-at-a-time ones only by float rounding from padding.
    """

    def __init__(self, embedder, texts: list[str], key: str):
        self._embedder = embedder
        self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
        path = CACHE / f"ncp-queries-{key}.npy"
        vectors = np.load(path) if path.exists() else None
        if vectors is None or len(vectors) != len(texts):
            started = time.monotonic()
            vectors = embedder.embed_queries(texts)
            self.seconds = time.monotonic() - started
            CACHE.mkdir(parents=True, exist_ok=True)
            np.save(path, vectors)
        else:
            self.seconds = None
        self._vectors = dict(zip(texts, vectors))

    def embed_queries(self, texts):
        missing = [t for t in texts if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed_queries(missing)))
        return np.stack([self._vectors[t] for t in texts])

    def embed_passages(self, texts, batch_size: int = 32, show_progress: bool = False):
        return self._embedder.embed_passages(texts, batch_size=batch_size, show_progress=show_progress)

    def count_tokens(self, text: str) -> int:
        return self._embedder.count_tokens(text)


def duplicate_twins(skipped: list[dict]) -> dict[str, set[str]]:
    """Document ids the indexer skipped as duplicates, each mapped to its indexed twin and back."""
    twins: dict[str, set[str]] = {}
    for entry in skipped:
        match = re.search(r"same content as (\S+)\.txt", entry["reason"])
        if match:
            a, b = Path(entry["file"]).stem, match.group(1)
            twins.setdefault(a, set()).add(b)
            twins.setdefault(b, set()).add(a)
    return twins


def doc_ranking(doc_ids_in_order) -> list[str]:
    """Documents in order of their first chunk in a result list."""
    seen: dict[str, None] = {}
    for doc_id in doc_ids_in_order:
        seen.setdefault(doc_id, None)
    return list(seen)


def score(rankings: list[list[str]], relevant: list[set[str]]) -> dict:
    """Document-level hit@1, hit@5 and MRR@10."""
    n = len(rankings) or 1
    hit1 = hit5 = mrr = 0.0
    for docs, wanted in zip(rankings, relevant):
        first = next((i for i, d in enumerate(docs[:10]) if d in wanted), None)
        if first is not None:
            mrr += 1 / (first + 1)
            hit5 += first < 5
            hit1 += first == 0
    return {"hit@1": round(hit1 / n, 4), "hit@5": round(hit5 / n, 4), "MRR@10": round(mrr / n, 4)}


def run_ncp(embedder, limit_docs: int | None = None, rrf_study: bool = False) -> dict:
    """Run the benchmark and print hit@5 and MRR@10 of each retriever side by side; return the figures."""
    docs, queries, qrels = load_ncp(limit_docs=limit_docs)
    key = corpus_key(docs, embedder.name)
    print(f"== External benchmark: NCP government-affairs QA ({len(docs)} documents, {len(queries)} questions)")
    folder, build_s = ensure_index(docs, embedder, key)
    texts = [normalize(q["text"]).text for q in queries]
    cached = QueryCache(embedder, texts, key)
    if cached.seconds is not None:
        print(f"   {len(texts)} questions embedded in {cached.seconds:.1f} s (batches of 32), kept for all retrievers")
    searcher = Searcher.load(folder, cached, verify=False)
    n_chunks = len(searcher.chunks)
    print(f"   index: {n_chunks} chunks from {len(searcher.reports)} documents"
          + (f", built in {build_s:.1f} s" if build_s is not None else " (cached)"))
    twins = duplicate_twins(searcher.data.manifest.get("skipped", []))
    relevant = [qrels[q["_id"]] | {t for d in qrels[q["_id"]] for t in twins.get(d, ())} for q in queries]
    if twins:
        print(f"   {len(searcher.data.manifest['skipped'])} documents were skipped by the indexer as duplicates of indexed ones; "
              "either id of such a pair counts as the relevant document")

    results: dict[str, dict] = {}
    rows_by_mode: dict[str, list[list[int]]] = {}
    timings: dict[str, float] = {}
    for mode in ("bm25", "dense", "hybrid"):
        started = time.monotonic()
        rankings, rows = [], []
        for q in queries:
            hits = searcher.search(q["text"], k=K, mode=mode)
            rankings.append(doc_ranking(h.chunk.doc_id for h in hits))
        timings[mode] = (time.monotonic() - started) / max(len(queries), 1) * 1000
        results[mode] = score(rankings, relevant)

    windows = baseline_windows(docs)
    vectors, embed_s = baseline_vectors(windows, embedder, key)
    started = time.monotonic()
    rankings = []
    for q in queries:
        qv = cached.embed_queries([normalize(q["text"]).text])[0]
        order = np.argsort(-(vectors @ qv), kind="stable")[:K]
        rankings.append(doc_ranking(windows[i][0] for i in order))
    timings["generic"] = (time.monotonic() - started) / max(len(queries), 1) * 1000
    results["generic"] = score(rankings, relevant)
    print(f"   generic baseline: {len(windows)} windows of {WINDOW} chars (overlap {OVERLAP})"
          + (f", embedded in {embed_s:.1f} s" if embed_s is not None else " (vectors cached)"))

    print(f"   {'retriever':<10} {'hit@1':>7} {'hit@5':>7} {'MRR@10':>7} {'ms/query':>9}  (search time; query vectors precomputed)")
    for name in ("bm25", "dense", "hybrid", "generic"):
        m = results[name]
        print(f"   {name:<10} {m['hit@1']:>7.4f} {m['hit@5']:>7.4f} {m['MRR@10']:>7.4f} {timings[name]:>9.1f}")
    if rrf_study:
        results["rrf_study"] = rrf_sweep(searcher, queries, relevant)
    return {"docs": len(docs), "queries": len(queries), "chunks": n_chunks, "windows": len(windows),
            "build_s": build_s, "baseline_embed_s": embed_s, "results": results, "ms_per_query": timings}


def rrf_sweep(searcher: Searcher, queries: list[dict], relevant: list[set[str]]) -> dict:
    """Hybrid figures for other RRF k, list weights and depths k0, from the same two ranked lists."""
    lists = []
    for q in queries:
        tokens = searcher.query_tokens(q["text"])
        ids, scores = searcher.bm25.top_k(tokens, 200) if tokens else (np.zeros(0, dtype=np.int64), None)
        bm25_ids = [int(i) for i in ids] if scores is None else [int(i) for i in ids[scores > 0]]
        vector = searcher.embedder.embed_queries([normalize(q["text"]).text])[0]
        dense_ids = [int(i) for i in searcher.dense.search(vector, 200)[0]]
        lists.append((bm25_ids, dense_ids))
    out = {}
    print("   RRF study (hybrid, same lists): k_rrf, weight bm25:dense, k0 -> hit@5 MRR@10")
    for k0 in (50, 100, 200):
        for k_rrf in (1, 5, 10, 30, 60):
            for w in ((1.0, 1.0), (0.7, 1.0), (0.5, 1.0), (1.0, 0.7)):
                rankings = []
                for bm25_ids, dense_ids in lists:
                    fused = reciprocal_rank_fusion([bm25_ids[:k0], dense_ids[:k0]], k=k_rrf, weights=list(w))
                    rankings.append(doc_ranking(searcher.chunks[row].doc_id for row, _ in fused[:K]))
                m = score(rankings, relevant)
                out[f"k0={k0} k={k_rrf} w={w[0]}:{w[1]}"] = m
                print(f"     k0={k0:<4} k={k_rrf:<3} w={w[0]}:{w[1]}  hit@5 {m['hit@5']:.4f}  MRR@10 {m['MRR@10']:.4f}")
    return out


def main() -> int:
    from indexer.embed import load_embedder

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit-docs", type=int, default=None, help="only the first N documents (and their questions)")
    parser.add_argument("--rrf-study", action="store_true", help="also sweep RRF k, weights and k0")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args()
    embedder = load_embedder(None, ROOT / ".cache" / "models")
    figures = run_ncp(embedder, limit_docs=args.limit_docs, rrf_study=args.rrf_study)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    started = time.time()
    code = main()
    print(f"(total {time.time() - started:.0f} s)")
    sys.exit(code)
