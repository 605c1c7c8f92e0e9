"""Build and query speed of BM25Index against rank-bm25 on synthetic corpora of real sentences."""
from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.bm25 import BM25Index  # noqa: E402
from indexer.tokenize import Tokenizer  # noqa: E402

SHARED = ROOT.parent / "shared"
SENTENCE_END = re.compile(r"(?<=[。；！？\n])")


def load_sentences(corpus: Path, national: Path) -> list[str]:
    """Sentences of the project's reports and the State Council work reports."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(corpus.glob("*.txt"))]
    if national.exists():
        texts += [json.loads(line)["content"] for line in national.read_text(encoding="utf-8").splitlines() if line]
    sentences = []
    for text in texts:
        sentences += [s.strip() for s in SENTENCE_END.split(text) if len(s.strip()) >= 8]
    return sentences


def make_chunks(sentence_tokens: list[list[str]], n: int, rng: random.Random) -> list[list[str]]:
    """n chunks of 3-8 random sentences each (token lists share the sentences' strings)."""
    chunks = []
    for _ in range(n):
        tokens: list[str] = []
        for tokens_of_sentence in rng.choices(sentence_tokens, k=rng.randint(3, 8)):
            tokens += tokens_of_sentence
        chunks.append(tokens)
    return chunks


def make_queries(sentence_tokens: list[list[str]], n: int, rng: random.Random) -> list[list[str]]:
    """Queries of 2-8 consecutive tokens from random sentences, like short search phrases."""
    queries = []
    while len(queries) < n:
        tokens = rng.choice(sentence_tokens)
        if len(tokens) < 2:
            continue
        size = min(len(tokens), rng.randint(2, 8))
        start = rng.randint(0, len(tokens) - size)
        queries.append(tokens[start : start + size])
    return queries


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def per_query_ms(fn, queries) -> tuple[float, float]:
    times = []
    for query in queries:
        _, seconds = timed(fn, query)
        times.append(seconds * 1000)
    return statistics.median(times), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rank-bm25-max", type=int, default=100_000, help="largest size rank-bm25 is run on")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    sentences = load_sentences(ROOT / "corpus", SHARED / "ext" / "national-gwr" / "government_work_reports.jsonl")
    tokenizer = Tokenizer()
    sentence_tokens, seconds = timed(lambda: [tokenizer.tokens(s) for s in sentences])
    chars = sum(map(len, sentences))
    print(f"tokenised {len(sentences):,} sentences ({chars:,} chars) in {seconds:.1f} s "
          f"({chars / seconds / 1000:.0f}k chars/s)")
    queries = make_queries(sentence_tokens, args.queries, rng)

    for size in [int(s) for s in args.sizes.split(",")]:
        chunks = make_chunks(sentence_tokens, size, rng)
        n_tokens = sum(map(len, chunks))
        print(f"\n== {size:,} chunks, {n_tokens:,} tokens ({n_tokens / size:.0f} per chunk)")
        index, build_s = timed(BM25Index.build, chunks)
        print(f"ours      build {build_s:7.2f} s   vocab {len(index.vocab):,}   nnz {index.matrix.nnz:,}   "
              f"matrix {(index.matrix.data.nbytes + index.matrix.indices.nbytes) / 2**20:.0f} MiB")
        med, p95 = per_query_ms(index.scores, queries)
        print(f"ours      scores  median {med:7.3f} ms   p95 {p95:7.3f} ms   ({len(queries)} queries)")
        med, p95 = per_query_ms(lambda q: index.top_k(q, 10), queries)
        print(f"ours      top_k10 median {med:7.3f} ms   p95 {p95:7.3f} ms")
        mask = np.random.default_rng(args.seed).random(size) < 0.3
        med, p95 = per_query_ms(lambda q: index.top_k(q, 10, mask=mask), queries)
        print(f"ours      top_k10 with a 30% mask   median {med:7.3f} ms   p95 {p95:7.3f} ms")
        if size > args.rank_bm25_max:
            print("rank-bm25 skipped at this size (build alone takes minutes)")
            continue
        theirs, build_s = timed(BM25Okapi, chunks)
        print(f"rank-bm25 build {build_s:7.2f} s")
        few = queries[: 50 if size <= 10_000 else 15]
        med, p95 = per_query_ms(theirs.get_scores, few)
        print(f"rank-bm25 scores  median {med:7.3f} ms   p95 {p95:7.3f} ms   ({len(few)} queries)")
        diff = max(float(np.max(np.abs(index.scores(q) - theirs.get_scores(q)))) for q in few)
        top = max(float(np.max(theirs.get_scores(q))) for q in few)
        print(f"max |ours - rank-bm25| = {diff:.2e} (largest score {top:.2f})")
        del theirs


if __name__ == "__main__":
    main()
