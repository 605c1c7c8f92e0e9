"""The same searches through both backends, side by side in one run: embedded files and seekdb.

    .venv/bin/python bench/backends.py                  # seeds (dev_search, our paraphrases) and NCP
    .venv/bin/python bench/backends.py --skip-ncp

For each corpus: hit@1 / hit@5 / MRR@10 per retriever (BM25, dense, hybrid) through each backend,
search p50 / p95 (query vectors precomputed, so the engine is what is timed), dense recall@10 of
each backend's vector search against exact search, and for the seeds whether the which-answers of
the dev which cases name the same places. The seekdb is started by the script in a temp folder and
the generation loaded into it as the service does (indexer/seekdb/generations.py).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from corpora import ensure_index  # noqa: E402
from quality import SHARED, load_jsonl, metrics, passage_hits  # noqa: E402

from indexer.embed import load_embedder  # noqa: E402
from indexer.normalize import normalize  # noqa: E402
from indexer.seekdb.generations import LOCAL_ENGINES, engine_config, ensure_loaded  # noqa: E402
from indexer.store import current_generation  # noqa: E402
from service.backends import Scope  # noqa: E402
from service.backends.seekdb import SeekdbBackend  # noqa: E402
from service.search import Searcher  # noqa: E402

MODES = ("bm25", "dense", "hybrid")


def attach_seekdb(searcher: Searcher, folder: Path, data: Path) -> SeekdbBackend:
    config = engine_config("", data)
    started = time.monotonic()
    chunks = ensure_loaded(config, folder)
    print(f"   seekdb: {chunks} chunks loaded in {time.monotonic() - started:.1f} s at {config.address}")
    searcher.backend = SeekdbBackend(config, folder, chunks)
    return searcher.backend


def timed_searches(searcher: Searcher, queries: list[str], mode: str, k: int):
    times, results = [], []
    for q in queries:
        started = time.perf_counter()
        results.append(searcher.search(q, k=k, mode=mode))
        times.append((time.perf_counter() - started) * 1000)
    return results, times


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share * 100)) if values else 0.0


def dense_recall(searcher: Searcher, queries: list[str], k: int = 10) -> float:
    """Share of the exact top-k (numpy over every vector) that the backend's vector search returns."""
    vectors = searcher.dense.row_vectors(np.arange(len(searcher.chunks)))
    found = 0
    for q in queries:
        qv = searcher.query_vector(normalize(q).text)
        exact = set(np.argsort(-(vectors @ qv), kind="stable")[:k].tolist())
        got, _ = searcher.backend.dense(qv, k, Scope())
        found += len(exact & set(got.tolist()))
    return found / (k * len(queries)) if queries else 0.0


def passage_table(label: str, searchers: dict[str, Searcher], cases: list[dict]) -> None:
    print(f"-- {label} ({len(cases)} queries): hit@1 / hit@5 / MRR@10, search p50 / p95 ms")
    for mode in MODES:
        cells = []
        for name, searcher in searchers.items():
            results, times = timed_searches(searcher, [c["q"] for c in cases], mode, 10)
            flags = [passage_hits([{"doc_id": h.chunk.doc_id, "norm": h.chunk.search_text} for h in hits], c)
                     for hits, c in zip(results, cases)]
            m = metrics(flags)
            cells.append(f"{name} {m['hit@1']:.3f} {m['hit@5']:.3f} {m['MRR@10']:.3f} "
                         f"({statistics.median(times):.1f} / {percentile(times, 0.95):.1f} ms)")
        print(f"   {mode:<7} " + "   |   ".join(cells))


def seeds(embedder, work: Path) -> None:
    folder = current_generation(ensure_index("seeds", embedder))
    print(f"== Seeds ({folder.name})")
    embedded = Searcher.load(folder, embedder)
    seek = Searcher.load(folder, embedder)
    attach_seekdb(seek, folder, work / "seeds")
    sets = [("our paraphrase cases", load_jsonl(BENCH / "data" / "search_cases.jsonl"))]
    if (SHARED / "eval" / "dev_search.jsonl").is_file():
        sets.insert(0, ("dev_search", load_jsonl(SHARED / "eval" / "dev_search.jsonl")))
    for label, cases in sets:
        passage_table(label, {"embedded": embedded, "seekdb": seek}, cases)
    queries = [c["q"] for _, cases in sets for c in cases]
    print(f"   dense recall@10 vs exact: embedded {dense_recall(embedded, queries):.3f}, "
          f"seekdb {dense_recall(seek, queries):.3f}")
    which_same(embedded, seek)


def which_same(embedded: Searcher, seek: Searcher) -> None:
    from service.answer import Answerer

    path = SHARED / "eval" / "dev_which.jsonl"
    cases = load_jsonl(path) if path.is_file() else []
    cases += load_jsonl(BENCH / "data" / "which_seeds.jsonl")
    same = 0
    for case in cases:
        question = case["q"]
        places = [sorted(g.issuer for g in Answerer(s, 0).answer(question).groups) for s in (embedded, seek)]
        same += places[0] == places[1]
    print(f"   which-answers naming the same places on both backends: {same} of {len(cases)}")


def ncp(embedder, work: Path) -> None:
    from ncp_benchmark import K, QueryCache, corpus_key, doc_ranking, duplicate_twins, load_ncp, score
    from ncp_benchmark import ensure_index as ncp_index

    docs, queries, qrels = load_ncp()
    key = corpus_key(docs, embedder.name)
    folder, _ = ncp_index(docs, embedder, key)
    texts = [normalize(q["text"]).text for q in queries]
    cached = QueryCache(embedder, texts, key)
    print(f"== NCP ({len(docs)} documents, {len(queries)} questions; {folder.name})")
    embedded = Searcher.load(folder, cached, verify=False)
    seek = Searcher.load(folder, cached, verify=False)
    attach_seekdb(seek, folder, work / "ncp")
    twins = duplicate_twins(embedded.data.manifest.get("skipped", []))
    relevant = [qrels[q["_id"]] | {t for d in qrels[q["_id"]] for t in twins.get(d, ())} for q in queries]
    print("   document hit@1 / hit@5 / MRR@10, search p50 / p95 ms")
    for mode in MODES:
        cells = []
        for name, searcher in (("embedded", embedded), ("seekdb", seek)):
            results, times = timed_searches(searcher, [q["text"] for q in queries], mode, K)
            m = score([doc_ranking(h.chunk.doc_id for h in hits) for hits in results], relevant)
            cells.append(f"{name} {m['hit@1']:.4f} {m['hit@5']:.4f} {m['MRR@10']:.4f} "
                         f"({statistics.median(times):.1f} / {percentile(times, 0.95):.1f} ms)")
        print(f"   {mode:<7} " + "   |   ".join(cells))
    sample = [q["text"] for q in queries[:200]]
    print(f"   dense recall@10 vs exact (200 questions): embedded {dense_recall(embedded, sample):.3f}, "
          f"seekdb {dense_recall(seek, sample):.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-ncp", action="store_true")
    args = parser.parse_args()
    embedder = load_embedder(None, ROOT / ".cache" / "models")
    work = Path(tempfile.mkdtemp(prefix="backends-"))
    try:
        seeds(embedder, work)
        if not args.skip_ncp and (SHARED / "ext" / "ncp-govqa").is_dir():
            ncp(embedder, work)
    finally:
        LOCAL_ENGINES.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
