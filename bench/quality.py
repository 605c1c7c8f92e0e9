"""Retrieval and answer quality: dev set, our harder cases, which-question F1, external benchmark.

    .venv/bin/python bench/quality.py              # everything
    .venv/bin/python bench/quality.py --skip-ncp   # without the 599-document external benchmark

Prints hit@1, hit@5 and MRR@10 for BM25 only, dense only, hybrid and a generic
fixed-size-chunk baseline, side by side; then issuer-set F1 of which-questions.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.build import build_index  # noqa: E402
from indexer.embed import load_embedder  # noqa: E402
from indexer.normalize import normalize  # noqa: E402
from indexer.store import current_generation  # noqa: E402
from service.answer import Answerer  # noqa: E402
from service.search import Searcher  # noqa: E402

SHARED = ROOT.parent / "shared"
BENCH = Path(__file__).resolve().parent


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def passage_hits(results, case) -> list[bool]:
    wanted = [normalize(s).text for s in case["any"]]
    return [r["doc_id"] == case["doc"] and any(w in r["norm"] for w in wanted) for r in results]


def metrics(flags_per_case: list[list[bool]]) -> dict:
    n = len(flags_per_case) or 1
    hit1 = sum(bool(f[:1] and f[0]) for f in flags_per_case) / n
    hit5 = sum(any(f[:5]) for f in flags_per_case) / n
    mrr = sum(next((1 / (i + 1) for i, x in enumerate(f[:10]) if x), 0) for f in flags_per_case) / n
    return {"hit@1": round(hit1, 3), "hit@5": round(hit5, 3), "MRR@10": round(mrr, 3)}


def run_modes(searcher: Searcher, cases: list[dict]) -> dict:
    out = {}
    for mode in ("bm25", "dense", "hybrid"):
        flags = []
        for case in cases:
            hits = searcher.search(case["q"], k=10, mode=mode)
            results = [{"doc_id": h.chunk.doc_id, "norm": h.chunk.search_text} for h in hits]
            flags.append(passage_hits(results, case))
        out[mode] = metrics(flags)
    return out


def baseline_search(corpus: Path, embedder, cases: list[dict], size: int = 500, overlap: int = 100) -> dict:
    """The generic RAG recipe: fixed 500-character windows with overlap, no sections, dense only."""
    import numpy as np

    windows = []
    for path in sorted(corpus.glob("*.txt")):
        text = normalize(path.read_text(encoding="utf-8")).text
        for start in range(0, max(len(text) - overlap, 1), size - overlap):
            windows.append((path.stem, text[start : start + size]))
    vectors = embedder.embed_passages([w for _, w in windows])
    flags = []
    for case in cases:
        q = embedder.embed_queries([case["q"]])[0]
        order = np.argsort(-(vectors @ q))[:10]
        results = [{"doc_id": windows[i][0], "norm": windows[i][1]} for i in order]
        flags.append(passage_hits(results, case))
    return metrics(flags)


def which_f1(answerer: Answerer, cases: list[dict], verbose: bool) -> tuple[float, list]:
    scores = []
    misses = []
    for case in cases:
        answer = answerer.answer(case["q"])
        got = {g.issuer for g in answer.groups}
        want = set(case["issuers"])
        if not got and not want:
            f1 = 1.0
        else:
            tp = len(got & want)
            precision = tp / len(got) if got else 0.0
            recall = tp / len(want) if want else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(f1)
        if f1 < 1.0:
            misses.append((case["q"], sorted(want), sorted(got)))
    if verbose:
        for q, want, got in misses:
            print(f"    miss: {q}  want={want} got={got}")
    return (sum(scores) / len(scores) if scores else 0.0), misses


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default=None, help="reuse an index of corpus/ (default: build in a temp dir)")
    parser.add_argument("--skip-ncp", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    embedder = load_embedder(None, ROOT / ".cache" / "models")
    index = Path(args.index) if args.index else Path(tempfile.mkdtemp()) / "index"
    if current_generation(index) is None:
        build_index(ROOT / "corpus", index, embedder)
    searcher = Searcher.load(current_generation(index), embedder)
    answerer = Answerer(searcher)

    dev = load_jsonl(SHARED / "eval" / "dev_search.jsonl")
    ours = load_jsonl(BENCH / "data" / "search_cases.jsonl")
    print("== Retrieval on the five reports (passage hit: right report and an expected string in the passage)")
    for name, cases in (("dev_search", dev), ("our cases", ours)):
        print(f"-- {name} ({len(cases)} queries)")
        for mode, m in run_modes(searcher, cases).items():
            print(f"   {mode:<9} {m}")
        if not args.skip_baseline:
            print(f"   {'generic':<9} {baseline_search(ROOT / 'corpus', embedder, cases)}  (500-char windows, dense)")

    print("== Which-questions: issuer-set F1")
    for name, path in (("dev_which", SHARED / "eval" / "dev_which.jsonl"), ("our which set", BENCH / "data" / "which_cases.jsonl")):
        cases = load_jsonl(path)
        f1, _ = which_f1(answerer, cases, args.verbose)
        print(f"   {name:<14} {len(cases):>3} questions  mean F1 {f1:.3f}")

    if not args.skip_ncp:
        from ncp_benchmark import run_ncp

        run_ncp(embedder)
    return 0


if __name__ == "__main__":
    started = time.time()
    code = main()
    print(f"(total {time.time() - started:.0f} s)")
    sys.exit(code)
